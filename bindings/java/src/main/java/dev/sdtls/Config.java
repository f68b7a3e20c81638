package dev.sdtls;

import dev.sdtls.internal.SWIGTYPE_p_sdtls_config;
import dev.sdtls.internal.SdtlsNative;
import dev.sdtls.internal.sdtls_option;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.function.ToIntFunction;
import java.util.regex.Pattern;

/**
 * Settings shared by connections: certificate, trust, versions, MTU,
 * timers. Made with the secure defaults (peer verification on, ECDHE with
 * AEAD ciphers only, DTLS 1.2 and later); each setter returns the config.
 * The first connection made from it freezes it; setters then throw a
 * {@link SdtlsException} of category USAGE ({@code SDTLS_E_FROZEN}).
 *
 * <p>{@link #close()} drops this object's reference to the C config:
 * connections made from it hold their own, so it may be closed while they
 * live. A config that is never closed is freed when it becomes
 * unreachable. Configure from one thread; once frozen it may be shared.
 */
public final class Config implements AutoCloseable {
  static {
    NativeLibrary.load();
  }

  static final Cleaner CLEANER = Cleaner.create();

  private final SWIGTYPE_p_sdtls_config handle;
  private final Cleaner.Cleanable cleanable;
  private boolean closed;

  /** A config with the secure defaults. */
  public Config() {
    SWIGTYPE_p_sdtls_config[] out = new SWIGTYPE_p_sdtls_config[1];
    check(SdtlsNative.sdtls_config_new(out));
    handle = out[0];
    SWIGTYPE_p_sdtls_config h = handle;
    cleanable = CLEANER.register(this, () -> SdtlsNative.sdtls_config_free(h));
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
    String f = fingerprint != null && SHA256_HEX.matcher(fingerprint).matches() ? "sha-256 " + fingerprint : fingerprint;
    return call(h -> SdtlsNative.sdtls_config_add_peer_fingerprint(h, f));
  }

  private static final Pattern SHA256_HEX = Pattern.compile("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){31}");

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
    return call(h -> SdtlsNative.sdtls_config_set_alpn(h, String.join(",", protocols)));
  }

  /** The key exchange groups, most preferred first ("X25519", "P-256" ...). */
  public Config groups(String... groups) {
    return call(h -> SdtlsNative.sdtls_config_set_groups(h, String.join(":", groups)));
  }

  private Config option(sdtls_option option, long value) {
    return call(h -> SdtlsNative.sdtls_config_set_option(h, option, value));
  }

  /** One call on the C config, under this object's lock (close() takes it too). */
  private synchronized Config call(ToIntFunction<SWIGTYPE_p_sdtls_config> f) {
    try {
      check(f.applyAsInt(handle()));
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
