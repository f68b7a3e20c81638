// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SWIGTYPE_p_jconfig;
import dev.sdtls.internal.SWIGTYPE_p_sdtls_config;
import dev.sdtls.internal.SdtlsNative;
import dev.sdtls.internal.sdtls_option;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Settings shared by connections and servers: certificate, trust,
 * versions, MTU, timers, pre-shared keys, ALPN, groups, DTLS-SRTP, session
 * tickets, the key log, the server's limits. Made with the secure defaults (peer verification on, ECDHE with
 * AEAD ciphers only, DTLS 1.2 and later); each setter returns the config.
 * The first connection made from it freezes it; setters then throw a
 * {@link SdtlsException} of category USAGE ({@code SDTLS_E_FROZEN}).
 *
 * <p>{@link #close()} drops this object's reference to the C config:
 * connections made from it hold their own, so it may be closed while they
 * live. A config that is never closed is freed when it becomes
 * unreachable. Configure from one thread; once frozen it may be shared
 * (its methods are synchronized).
 */
public final class Config implements AutoCloseable {
  /** The longest ALPN list {@link #alpn} takes, joined by ',' (4096 bytes on the wire). */
  public static final int ALPN_MAX_BYTES = 4095;

  /** The most groups {@link #groups} takes (each at most once). */
  public static final int GROUPS_MAX = 32;

  static {
    NativeLibrary.load();
  }

  static final Cleaner CLEANER = Cleaner.create();

  private final SWIGTYPE_p_jconfig holder;
  private final SWIGTYPE_p_sdtls_config handle;
  private final Cleaner.Cleanable cleanable;
  private boolean closed;
  private long keyLogDropped;

  /** A config with the secure defaults. */
  public Config() {
    SWIGTYPE_p_jconfig[] out = new SWIGTYPE_p_jconfig[1];
    check(SdtlsNative.jconfig_new(out));
    holder = out[0];
    handle = SdtlsNative.jconfig_handle(holder);
    SWIGTYPE_p_jconfig h = holder;
    cleanable = CLEANER.register(this, () -> SdtlsNative.jconfig_free(h));
  }

  /** This endpoint's certificate chain (leaf first) and private key, as PEM. */
  public Config certificate(byte[] certificatePem, byte[] privateKeyPem) {
    return call(h -> SdtlsNative.sdtls_config_set_certificate_pem(h, certificatePem, privateKeyPem));
  }

  /** This endpoint's certificate and key. */
  public Config certificate(Certificate certificate) {
    return certificate(
        certificate.certificatePem().getBytes(StandardCharsets.US_ASCII),
        certificate.privateKeyPem().getBytes(StandardCharsets.US_ASCII));
  }

  /** Adds trusted CA certificates (PEM). */
  public Config trust(byte[] caPem) {
    return call(h -> SdtlsNative.sdtls_config_set_ca_pem(h, caPem));
  }

  /**
   * Expects the peer's certificate to have this SHA-256 fingerprint, as SDP
   * writes it ("sha-256 AB:CD:...") or as {@link Certificate#fingerprint()}
   * does ("AB:CD:..."); the check replaces the CA and name check (WebRTC's
   * pinning).
   */
  public Config peerFingerprint(String fingerprint) {
    String f = fingerprintArg(fingerprint);
    return call(h -> SdtlsNative.sdtls_config_add_peer_fingerprint(h, f));
  }

  /** The same for a {@link Fingerprint} (any hash). */
  public Config peerFingerprint(Fingerprint fingerprint) {
    return peerFingerprint(fingerprint.toString());
  }

  /**
   * The text as it is: the C library parses every form (sha-256, sha-384,
   * sha-512; SDP's, with a colon, bare); blanks around it are dropped as
   * before.
   */
  static String fingerprintArg(String fingerprint) {
    return fingerprint != null ? fingerprint.strip() : null;
  }

  /** false accepts any peer certificate: insecure, for tests only. */
  public Config verifyPeer(boolean verify) {
    return option(sdtls_option.SDTLS_OPT_VERIFY_PEER, verify ? 1 : 0);
  }

  /** Server: ask for and require a client certificate. */
  public Config requireClientCertificate(boolean require) {
    return option(sdtls_option.SDTLS_OPT_REQUIRE_CLIENT_CERT, require ? 1 : 0);
  }

  /** The largest datagram sent, in bytes (256..65507; default 1200). */
  public Config mtu(int bytes) {
    return option(sdtls_option.SDTLS_OPT_MTU, bytes);
  }

  /** The first retransmission timeout in milliseconds (default 1000). */
  public Config initialTimeoutMillis(int millis) {
    return option(sdtls_option.SDTLS_OPT_INITIAL_TIMEOUT_MS, millis);
  }

  /** How long a handshake may take, in milliseconds (default 30000). */
  public Config handshakeTimeoutMillis(int millis) {
    return option(sdtls_option.SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, millis);
  }

  /** The application protocols (ALPN), most preferred first. */
  public Config alpn(String... protocols) {
    // Each name as it is: the C library refuses one with ',' or ':' (it
    // would be two in the joined form), an empty one and a long one.
    return call(h -> SdtlsNative.sdtls_config_set_alpn_list(h, protocols),
        "ALPN: each name 1..255 bytes without ',' or ':', at most " + ALPN_MAX_BYTES
            + " bytes joined by ',' (so that the ClientHello fits; got "
            + String.join(",", protocols).getBytes(java.nio.charset.StandardCharsets.UTF_8).length
            + ")");
  }

  /** The key exchange groups, most preferred first ("X25519", "P-256" ...). */
  public Config groups(String... groups) {
    return call(h -> SdtlsNative.sdtls_config_set_groups_list(h, groups),
        "groups: names the engine knows, each at most once, at most " + GROUPS_MAX);
  }

  /** Restricts the cipher suites (OpenSSL syntax, AEAD suites only). */
  public Config ciphers(String ciphers) {
    return call(h -> SdtlsNative.sdtls_config_set_ciphers(h, ciphers));
  }

  /** The oldest protocol version to speak (default {@link DtlsVersion#DTLS_1_2}). */
  public Config minVersion(DtlsVersion version) {
    return option(sdtls_option.SDTLS_OPT_MIN_VERSION, version.wire());
  }

  /** The newest protocol version to speak (default: the newest the engine speaks). */
  public Config maxVersion(DtlsVersion version) {
    return option(sdtls_option.SDTLS_OPT_MAX_VERSION, version.wire());
  }

  // ---- pre-shared keys ---------------------------------------------------------

  /**
   * Adds a pre-shared key: {@code identity} (1..128 bytes) and {@code key}
   * (1..64 bytes, copied; wiped when the config is freed). A client offers
   * the first one it was given; a server accepts any of them and then needs
   * no certificate, and a client needs no server name. PSK suites are
   * DTLS 1.2's.
   */
  public Config psk(String identity, byte[] key) {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(key, "key");
    return call(h -> SdtlsNative.sdtls_config_add_psk(h, identity, key),
        "PSK: an identity of 1..128 bytes, a key of 1..64 bytes");
  }

  /** Server: the PSK identity hint sent to clients (1..128 bytes). */
  public Config pskIdentityHint(String hint) {
    return call(h -> SdtlsNative.sdtls_config_set_psk_identity_hint(h, hint),
        "PSK identity hint: 1..128 bytes");
  }

  /** true also allows the engine's CBC-HMAC PSK suites (for constrained peers). */
  public Config pskAllowCbc(boolean allow) {
    return option(sdtls_option.SDTLS_OPT_PSK_ALLOW_CBC, allow ? 1 : 0);
  }

  // ---- DTLS-SRTP, sessions ------------------------------------------------------

  /**
   * Offers (client) or accepts (server) DTLS-SRTP (RFC 5764) with these
   * profiles, most preferred first.
   */
  public Config srtpProfiles(SrtpProfile... profiles) {
    if (profiles.length == 0) {
      throw new IllegalArgumentException("at least one SRTP profile");
    }
    String[] names = Arrays.stream(profiles).map(Enum::name).toArray(String[]::new);
    return call(h -> SdtlsNative.sdtls_config_set_srtp_profiles_list(h, names),
        "SRTP profiles: each at most once");
  }

  /** Server: issue session tickets so that clients can resume (default true). */
  public Config sessionTickets(boolean issue) {
    return option(sdtls_option.SDTLS_OPT_SESSION_TICKETS, issue ? 1 : 0);
  }

  /**
   * Server: replaces the secret that protects session tickets (32..64
   * bytes); tickets made under the secret it replaces are still accepted.
   * Unlike the other setters, allowed at any time, also once the config is
   * in use (rotate it every few hours). Servers behind one address that set
   * the same secrets accept each other's tickets.
   */
  public Config ticketSecret(byte[] secret) {
    Objects.requireNonNull(secret, "secret");
    return call(h -> SdtlsNative.sdtls_config_set_ticket_secret(h, secret));
  }

  // ---- the server's limits ---------------------------------------------------------

  /**
   * Server: answer a ClientHello without a valid cookie with a stateless
   * cookie exchange (default true). false only where the peer's address is
   * verified another way (ICE).
   */
  public Config cookies(boolean on) {
    return option(sdtls_option.SDTLS_OPT_COOKIES, on ? 1 : 0);
  }

  /** Server: most connections at once (default 1024). */
  public Config maxPeers(int peers) {
    return option(sdtls_option.SDTLS_OPT_MAX_PEERS, peers);
  }

  /** Server: most connections still in their handshake (default 256). */
  public Config maxHandshakes(int handshakes) {
    return option(sdtls_option.SDTLS_OPT_MAX_HANDSHAKES, handshakes);
  }

  /** Server: evict a peer not heard from for this long, in milliseconds (0: never; default 300000). */
  public Config idleTimeoutMillis(int millis) {
    return option(sdtls_option.SDTLS_OPT_IDLE_TIMEOUT_MS, millis);
  }

  /** Server: how long a cookie stays valid, in milliseconds (default 60000). */
  public Config cookieLifetimeMillis(int millis) {
    return option(sdtls_option.SDTLS_OPT_COOKIE_LIFETIME_MS, millis);
  }

  // ---- the key log ---------------------------------------------------------------------

  /**
   * Switches the key log (NSS key log format, for Wireshark) on or off.
   * While it is on, every handshake of a connection or server made from
   * this config queues its secrets as lines, which {@link #keyLogLines()}
   * takes (from any thread). The lines are secrets. Queued lines beyond
   * 4 MiB are dropped, so take them as they come.
   */
  public Config keyLog(boolean on) {
    synchronized (this) {
      try {
        check(SdtlsNative.jconfig_set_keylog(holder(), on ? 1 : 0));
      } finally {
        Reference.reachabilityFence(this);
      }
    }
    return this;
  }

  /**
   * The key log lines queued since the last call (without a newline), in
   * order; empty when there are none.
   */
  public List<String> keyLogLines() {
    byte[] raw;
    int[] dropped = new int[1];
    synchronized (this) {
      try {
        raw = SdtlsNative.jconfig_take_keylog(holder(), dropped);
      } finally {
        Reference.reachabilityFence(this);
      }
    }
    List<String> lines = new ArrayList<>();
    if (raw != null) {
      ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
      while (b.hasRemaining()) {
        byte[] line = new byte[b.getInt()];
        b.get(line);
        lines.add(new String(line, StandardCharsets.US_ASCII));
      }
      Arrays.fill(raw, (byte) 0);
    }
    synchronized (this) {
      keyLogDropped += dropped[0];
    }
    return lines;
  }

  /** How many key log lines were dropped because they were not taken in time. */
  public synchronized long keyLogLinesDropped() {
    return keyLogDropped;
  }

  private Config option(sdtls_option option, long value) {
    return call(h -> SdtlsNative.sdtls_config_set_option(h, option, value));
  }

  /** One call on the C config, under this object's lock (close() takes it too). */
  private Config call(ToIntFunction<SWIGTYPE_p_sdtls_config> f) {
    return call(f, "");
  }

  /** As call(f), with {@code what} (the limits of the setting) as the error's detail. */
  private synchronized Config call(ToIntFunction<SWIGTYPE_p_sdtls_config> f, String what) {
    try {
      int rc = f.applyAsInt(handle());
      if (rc != 0) {
        throw new SdtlsException(rc, rc == SdtlsNative.SDTLS_E_INVALID_ARGUMENT ? what : "");
      }
    } finally {
      Reference.reachabilityFence(this);
    }
    return this;
  }

  /** The C config; the caller holds this object's lock. */
  SWIGTYPE_p_sdtls_config handle() {
    if (closed) {
      throw new IllegalStateException("the config is closed");
    }
    return handle;
  }

  /** The config's holder, for new connections and servers; the caller holds this object's lock. */
  SWIGTYPE_p_jconfig holder() {
    handle();
    return holder;
  }

  /** Drops this reference to the C config; closing twice is harmless. */
  @Override
  public synchronized void close() {
    closed = true;
    cleanable.clean();
  }

  private static void check(int rc) {
    if (rc != 0) {
      throw new SdtlsException(rc, "");
    }
  }
}
