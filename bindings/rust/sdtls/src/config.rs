// SPDX-License-Identifier: Apache-2.0
//! `ConfigBuilder` -> `Config`: settings shared by connections and servers.
use std::ffi::{c_char, c_void, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sdtls_sys as sys;

use crate::cert::{cstring, set_names, Certificate};
use crate::error::{check, guard, Error, Result};

/// The longest ALPN list [`ConfigBuilder::alpn`] takes, joined by ',' (4096
/// bytes on the wire, so that the ClientHello fits what a server accepts).
pub const ALPN_MAX_BYTES: usize = 4095;
/// The most groups [`ConfigBuilder::groups`] takes, each at most once.
pub const GROUPS_MAX: usize = 32;

/// A setter's code; a refusal (SDTLS_E_INVALID_ARGUMENT) says what the C
/// setter takes.
/// A list setter's refusal, with the limit it is held to.
fn with_limit(e: Error, limit: String) -> Error {
    if e.code() != sys::SDTLS_E_INVALID_ARGUMENT {
        return e;
    }
    Error::new(e.code(), format!("{}; {limit}", e.detail()))
}

fn check_limit(rc: std::ffi::c_int, limit: impl FnOnce() -> String) -> Result<()> {
    if rc == sys::SDTLS_E_INVALID_ARGUMENT {
        return Err(Error::new(rc, limit()));
    }
    check(rc)
}

/// A DTLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// DTLS 1.2 (RFC 6347).
    Dtls12,
    /// DTLS 1.3 (RFC 9147), where the linked engine speaks it.
    Dtls13,
}

impl Version {
    fn wire(self) -> i64 {
        match self {
            Version::Dtls12 => sys::SDTLS_DTLS1_2,
            Version::Dtls13 => sys::SDTLS_DTLS1_3,
        }
    }
}

/// A DTLS-SRTP protection profile (RFC 5764, RFC 7714).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    Aes128CmSha1_80,
    Aes128CmSha1_32,
    AeadAes128Gcm,
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// The IANA number.
    pub fn id(self) -> u16 {
        (match self {
            SrtpProfile::Aes128CmSha1_80 => sys::SDTLS_SRTP_AES128_CM_SHA1_80,
            SrtpProfile::Aes128CmSha1_32 => sys::SDTLS_SRTP_AES128_CM_SHA1_32,
            SrtpProfile::AeadAes128Gcm => sys::SDTLS_SRTP_AEAD_AES_128_GCM,
            SrtpProfile::AeadAes256Gcm => sys::SDTLS_SRTP_AEAD_AES_256_GCM,
        }) as u16
    }

    /// The profile with this IANA number, if sdtls knows it.
    pub fn from_id(id: u16) -> Option<SrtpProfile> {
        [
            SrtpProfile::Aes128CmSha1_80,
            SrtpProfile::Aes128CmSha1_32,
            SrtpProfile::AeadAes128Gcm,
            SrtpProfile::AeadAes256Gcm,
        ]
        .into_iter()
        .find(|p| p.id() == id)
    }

    /// "SRTP_AES128_CM_SHA1_80", ... (the name the C library uses).
    pub fn name(self) -> &'static str {
        let p = unsafe { sys::sdtls_srtp_profile_name(self.id().into()) };
        if p.is_null() {
            return "unknown";
        }
        unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("unknown")
    }
}

type KeylogFn = dyn Fn(&str) + Send + Sync;
type PskLookupFn = dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync;

/// The C config and the closures whose pointers it holds. Connections and
/// servers keep an `Arc` of it, so the closures live as long as anything
/// that may call them.
pub(crate) struct ConfigInner {
    pub(crate) raw: *mut sys::sdtls_config,
    keylog: Option<Box<Box<KeylogFn>>>,
    psk_lookup: Option<Box<Box<PskLookupFn>>>,
}

// SAFETY: the C config is frozen when the first connection or server is made
// and may then be used from any thread (abi/sdtls.h, "Threads"); the only
// call this crate makes on a built config besides that is
// sdtls_config_set_ticket_secret (thread-safe) and get_option (read-only).
// The closures are Send + Sync.
unsafe impl Send for ConfigInner {}
unsafe impl Sync for ConfigInner {}

impl Drop for ConfigInner {
    fn drop(&mut self) {
        // Drops the caller's reference; no connection or server of ours
        // holds this config any more (they hold the Arc).
        unsafe { sys::sdtls_config_free(self.raw) };
    }
}

/// Settings for connections and servers, built with [`Config::builder`].
///
/// Cheap to clone (reference counted), `Send + Sync`: share one between
/// threads. Connections and servers keep it alive, so it may be dropped
/// before them.
#[derive(Clone)]
pub struct Config {
    pub(crate) inner: Arc<ConfigInner>,
}

impl Config {
    /// A builder with the secure defaults: DTLS 1.2 and later, ECDHE with
    /// AEAD ciphers only, peer verification on.
    pub fn builder() -> ConfigBuilder {
        let mut raw = std::ptr::null_mut();
        let rc = unsafe { sys::sdtls_config_new(&mut raw) };
        if rc != 0 || raw.is_null() {
            // Only on allocation failure.
            panic!("sdtls_config_new failed: {}", Error::new(rc, ""));
        }
        ConfigBuilder { inner: ConfigInner { raw, keylog: None, psk_lookup: None }, error: None }
    }

    pub(crate) fn raw(&self) -> *mut sys::sdtls_config {
        self.inner.raw
    }

    /// An integer option's value (`sdtls_config_get_option`).
    pub fn option(&self, option: sys::sdtls_option) -> Result<i64> {
        let mut v = 0i64;
        check(unsafe { sys::sdtls_config_get_option(self.raw(), option, &mut v) })?;
        Ok(v)
    }

    /// Replaces the secret that protects session tickets (32..64 bytes);
    /// tickets made under the previous secret are still accepted. Allowed
    /// at any time, from any thread (rotate it every few hours).
    pub fn set_ticket_secret(&self, secret: &[u8]) -> Result<()> {
        check(unsafe {
            sys::sdtls_config_set_ticket_secret(self.raw(), secret.as_ptr(), secret.len())
        })
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config").finish_non_exhaustive()
    }
}

/// Builds a [`Config`]. Each setter is applied at once; the first one that
/// fails makes [`build`](ConfigBuilder::build) return its error (naming the
/// setter) and the later ones are skipped.
#[must_use]
pub struct ConfigBuilder {
    inner: ConfigInner,
    error: Option<Error>,
}

impl std::fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigBuilder").field("error", &self.error).finish_non_exhaustive()
    }
}

fn path_cstring(what: &str, p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| {
        Error::new(sys::SDTLS_E_INVALID_ARGUMENT, format!("{what}: path contains a NUL byte"))
    })
}

/// A file setter's error, naming the file and why, as the C tool does: the
/// operating system's reason when a file cannot be opened, else what the
/// library refused in it.
fn file_error(e: Error, paths: &[&Path]) -> Error {
    for p in paths {
        if let Err(io) = std::fs::File::open(p) {
            return Error::new(e.code(), format!("{}: {io}", p.display()));
        }
    }
    let list = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let why = match e.code() {
        sys::SDTLS_E_FILE => "not a readable file or directory of the expected kind",
        sys::SDTLS_E_CREDENTIALS => {
            "no usable certificate or key, a damaged one, or a key of another certificate"
        }
        _ => return e,
    };
    Error::new(e.code(), format!("{list}: {why}"))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

unsafe extern "C" fn keylog_trampoline(user_data: *mut c_void, line: *const c_char) {
    guard((), || {
        // SAFETY: user_data is the Box<KeylogFn> the config owns; the line
        // is NUL-terminated and valid during the call.
        let f = &*(user_data as *const Box<KeylogFn>);
        f(&CStr::from_ptr(line).to_string_lossy());
    })
}

unsafe extern "C" fn psk_lookup_trampoline(
    user_data: *mut c_void,
    identity: *const c_char,
    key: *mut u8,
    key_max: usize,
) -> usize {
    guard(0, || {
        let f = &*(user_data as *const Box<PskLookupFn>);
        match f(CStr::from_ptr(identity).to_bytes()) {
            Some(mut k) => {
                let n = if k.is_empty() || k.len() > key_max {
                    0
                } else {
                    std::ptr::copy_nonoverlapping(k.as_ptr(), key, k.len());
                    k.len()
                };
                crate::cert::wipe(&mut k);
                n
            }
            None => 0,
        }
    })
}

impl ConfigBuilder {
    fn apply(mut self, what: &str, f: impl FnOnce(*mut sys::sdtls_config) -> Result<()>) -> Self {
        if self.error.is_none() {
            if let Err(e) = f(self.inner.raw) {
                let detail = if e.detail().is_empty() {
                    format!("ConfigBuilder::{what}")
                } else {
                    format!("ConfigBuilder::{what}: {}", e.detail())
                };
                self.error = Some(Error::new(e.code(), detail));
            }
        }
        self
    }

    /// Registers the closure `b` with `set`, which hands the C library its
    /// address as user data; once the library took it, the config keeps it
    /// in `slot` for as long as the C side may call it.
    fn callback<T: ?Sized>(
        mut self,
        what: &str,
        b: Box<Box<T>>,
        slot: fn(&mut ConfigInner) -> &mut Option<Box<Box<T>>>,
        set: impl FnOnce(*mut sys::sdtls_config, *mut c_void) -> Result<()>,
    ) -> Self {
        let ud = &*b as *const Box<T> as *mut c_void;
        self = self.apply(what, |cfg| set(cfg, ud));
        if self.error.is_none() {
            *slot(&mut self.inner) = Some(b);
        }
        self
    }

    fn option(self, what: &str, option: sys::sdtls_option, value: i64) -> Self {
        self.apply(what, |c| check(unsafe { sys::sdtls_config_set_option(c, option, value) }))
    }

    /// Any integer option by its C number (`sdtls_config_set_option`).
    pub fn raw_option(self, option: sys::sdtls_option, value: i64) -> Self {
        self.option("raw_option", option, value)
    }

    /// This endpoint's certificate chain (leaf first) and private key, PEM.
    pub fn certificate_pem(self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        let (c, k) = (cert_pem.as_ref(), key_pem.as_ref());
        self.apply("certificate_pem", |cfg| {
            check(unsafe {
                sys::sdtls_config_set_certificate_pem(cfg, c.as_ptr(), c.len(), k.as_ptr(), k.len())
            })
        })
    }

    /// A [`Certificate`]'s PEM.
    pub fn certificate(self, cert: &Certificate) -> Self {
        self.certificate_pem(cert.cert_pem(), cert.key_pem())
    }

    /// The certificate chain and key from PEM files.
    pub fn certificate_files(self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        let (c, k) = (cert.as_ref(), key.as_ref());
        self.apply("certificate_files", |cfg| {
            let (cs, ks) = (path_cstring("cert", c)?, path_cstring("key", k)?);
            check(unsafe { sys::sdtls_config_set_certificate_file(cfg, cs.as_ptr(), ks.as_ptr()) })
                .map_err(|e| file_error(e, &[c, k]))
        })
    }

    /// Adds trusted CA certificates (PEM bytes).
    pub fn ca_pem(self, pem: impl AsRef<[u8]>) -> Self {
        let p = pem.as_ref();
        self.apply("ca_pem", |cfg| {
            check(unsafe { sys::sdtls_config_set_ca_pem(cfg, p.as_ptr(), p.len()) })
        })
    }

    /// Adds trusted CA certificates from a PEM file.
    pub fn ca_file(self, path: impl AsRef<Path>) -> Self {
        let p = path.as_ref();
        self.apply("ca_file", |cfg| {
            let ps = path_cstring("ca_file", p)?;
            check(unsafe { sys::sdtls_config_set_ca(cfg, ps.as_ptr(), std::ptr::null()) })
                .map_err(|e| file_error(e, &[p]))
        })
    }

    /// Adds trusted CA certificates from a hashed directory (`openssl rehash`).
    pub fn ca_dir(self, path: impl AsRef<Path>) -> Self {
        let p = path.as_ref();
        self.apply("ca_dir", |cfg| {
            let ps = path_cstring("ca_dir", p)?;
            check(unsafe { sys::sdtls_config_set_ca(cfg, std::ptr::null(), ps.as_ptr()) })
                .map_err(|e| file_error(e, &[p]))
        })
    }

    /// Verify the peer's certificate (on by default). `false` accepts any
    /// certificate: for tests and fingerprint-pinned deployments only.
    pub fn verify_peer(self, on: bool) -> Self {
        self.option("verify_peer", sys::SDTLS_OPT_VERIFY_PEER, on.into())
    }

    /// Server: ask for and require a client certificate.
    pub fn require_client_cert(self, on: bool) -> Self {
        self.option("require_client_cert", sys::SDTLS_OPT_REQUIRE_CLIENT_CERT, on.into())
    }

    /// The largest datagram sent (UDP payload), 256..65507; default 1200.
    pub fn mtu(self, bytes: usize) -> Self {
        self.option("mtu", sys::SDTLS_OPT_MTU, i64::try_from(bytes).unwrap_or(i64::MAX))
    }

    /// The first retransmission timeout (doubled after each); default 1 s.
    pub fn initial_timeout(self, d: Duration) -> Self {
        self.option("initial_timeout", sys::SDTLS_OPT_INITIAL_TIMEOUT_MS, ms(d))
    }

    /// A handshake not done after this fails with a timeout; default 30 s.
    pub fn handshake_timeout(self, d: Duration) -> Self {
        self.option("handshake_timeout", sys::SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, ms(d))
    }

    /// The oldest protocol version allowed (default DTLS 1.2).
    pub fn min_version(self, v: Version) -> Self {
        self.option("min_version", sys::SDTLS_OPT_MIN_VERSION, v.wire())
    }

    /// The newest protocol version allowed (default: the newest the engine speaks).
    pub fn max_version(self, v: Version) -> Self {
        self.option("max_version", sys::SDTLS_OPT_MAX_VERSION, v.wire())
    }

    /// Restricts the cipher suites (engine cipher string, AEAD suites only).
    pub fn ciphers(self, ciphers: &str) -> Self {
        self.apply("ciphers", |cfg| {
            let s = cstring("ciphers", ciphers)?;
            check(unsafe { sys::sdtls_config_set_ciphers(cfg, s.as_ptr()) })
        })
    }

    /// Offers (client) or accepts (server) DTLS-SRTP with these profiles,
    /// most preferred first.
    pub fn srtp_profiles(self, profiles: &[SrtpProfile]) -> Self {
        let names: Vec<String> = profiles.iter().map(|p| p.name().to_owned()).collect();
        self.apply("srtp_profiles", |cfg| {
            set_names("srtp_profiles", &names, |a, n| unsafe {
                sys::sdtls_config_set_srtp_profiles_list(cfg, a, n)
            })
            .map_err(|e| with_limit(e, "known profiles, each at most once".into()))
        })
    }

    /// Expects the peer's certificate to have this SHA-256 fingerprint
    /// ("sha-256 AB:CD:..." as SDP writes it); replaces the CA chain check.
    /// May be called up to 16 times (any one matches).
    pub fn peer_fingerprint(self, fingerprint: &str) -> Self {
        self.apply("peer_fingerprint", |cfg| {
            let s = cstring("peer_fingerprint", fingerprint)?;
            check(unsafe { sys::sdtls_config_add_peer_fingerprint(cfg, s.as_ptr()) })
        })
    }

    /// Adds a pre-shared key (identity 1..128 bytes, key 1..64 bytes). A
    /// client offers the first; a server accepts any.
    pub fn psk(self, identity: &str, key: &[u8]) -> Self {
        self.apply("psk", |cfg| {
            let id = cstring("psk identity", identity)?;
            check_limit(
                unsafe { sys::sdtls_config_add_psk(cfg, id.as_ptr(), key.as_ptr(), key.len()) },
                || "an identity of 1..128 bytes, a key of 1..64 bytes".into(),
            )
        })
    }

    /// Server: looks up the key of an identity the table ([`psk`](Self::psk))
    /// does not hold; `None` refuses it. Called on whichever thread drives
    /// the handshake; a panic in it refuses the identity and is reported by
    /// the call that drove the handshake.
    pub fn psk_lookup<F>(self, lookup: F) -> Self
    where
        F: Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
    {
        let b: Box<Box<PskLookupFn>> = Box::new(Box::new(lookup));
        self.callback(
            "psk_lookup",
            b,
            |i| &mut i.psk_lookup,
            |cfg, ud| {
                check(unsafe {
                    sys::sdtls_config_set_psk_lookup(cfg, Some(psk_lookup_trampoline), ud)
                })
            },
        )
    }

    /// Server: the PSK identity hint sent to clients.
    pub fn psk_identity_hint(self, hint: &str) -> Self {
        self.apply("psk_identity_hint", |cfg| {
            let s = cstring("psk_identity_hint", hint)?;
            check_limit(unsafe { sys::sdtls_config_set_psk_identity_hint(cfg, s.as_ptr()) }, || {
                "1..128 bytes".into()
            })
        })
    }

    /// Also allow the engine's CBC PSK suites (for constrained peers).
    pub fn psk_allow_cbc(self, on: bool) -> Self {
        self.option("psk_allow_cbc", sys::SDTLS_OPT_PSK_ALLOW_CBC, on.into())
    }

    /// The application protocols (ALPN), most preferred first. Each name
    /// is taken as it is: one with ',' or ':', empty or over 255 bytes is
    /// refused (earlier versions made two protocols of a name with ',').
    pub fn alpn(self, protocols: &[&str]) -> Self {
        let names: Vec<String> = protocols.iter().map(|p| (*p).to_owned()).collect();
        self.apply("alpn", |cfg| {
            set_names("alpn", &names, |a, n| unsafe { sys::sdtls_config_set_alpn_list(cfg, a, n) })
                .map_err(|e| {
                    let got = names.join(",").len();
                    with_limit(
                        e,
                        format!(
                            "each name 1..255 bytes without ',' or ':', at most {ALPN_MAX_BYTES} \
                             bytes joined by ',' (so that the ClientHello fits; got {got})"
                        ),
                    )
                })
        })
    }

    /// The key exchange groups, most preferred first, by the engine's names
    /// (`"X25519"`, `"P-256"`; `"X25519MLKEM768"` with a current engine).
    /// In DTLS 1.2 the list also bounds the curve of an ECDSA certificate.
    pub fn groups(self, groups: &[&str]) -> Self {
        let names: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        self.apply("groups", |cfg| {
            set_names("groups", &names, |a, n| unsafe {
                sys::sdtls_config_set_groups_list(cfg, a, n)
            })
            .map_err(|e| {
                with_limit(
                    e,
                    format!("names the engine knows, each at most once, at most {GROUPS_MAX}"),
                )
            })
        })
    }

    /// Server: the secret that protects session tickets (32..64 bytes);
    /// without one a random secret is drawn. See also
    /// [`Config::set_ticket_secret`].
    pub fn ticket_secret(self, secret: &[u8]) -> Self {
        self.apply("ticket_secret", |cfg| {
            check(unsafe {
                sys::sdtls_config_set_ticket_secret(cfg, secret.as_ptr(), secret.len())
            })
        })
    }

    /// Server: issue session tickets (on by default).
    pub fn session_tickets(self, on: bool) -> Self {
        self.option("session_tickets", sys::SDTLS_OPT_SESSION_TICKETS, on.into())
    }

    /// Key logging (NSS key log lines, for Wireshark): off unless set.
    /// Called on whichever thread completes a handshake; a panic in it is
    /// reported by the call that drove the handshake.
    pub fn keylog<F>(self, f: F) -> Self
    where
        F: Fn(&str) + Send + Sync + 'static,
    {
        let b: Box<Box<KeylogFn>> = Box::new(Box::new(f));
        self.callback(
            "keylog",
            b,
            |i| &mut i.keylog,
            |cfg, ud| {
                check(unsafe { sys::sdtls_config_set_keylog(cfg, Some(keylog_trampoline), ud) })
            },
        )
    }

    /// Server: stateless cookie exchange (on by default; off only where the
    /// peer's address is verified another way, e.g. ICE).
    pub fn cookies(self, on: bool) -> Self {
        self.option("cookies", sys::SDTLS_OPT_COOKIES, on.into())
    }

    /// Server: most connections at once (default 1024).
    pub fn max_peers(self, n: usize) -> Self {
        self.option("max_peers", sys::SDTLS_OPT_MAX_PEERS, i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// Server: most connections still in their handshake (default 256).
    pub fn max_handshakes(self, n: usize) -> Self {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.option("max_handshakes", sys::SDTLS_OPT_MAX_HANDSHAKES, n)
    }

    /// Server: evict a peer not heard from for this long (`None` never;
    /// default 5 minutes).
    pub fn idle_timeout(self, d: Option<Duration>) -> Self {
        self.option("idle_timeout", sys::SDTLS_OPT_IDLE_TIMEOUT_MS, d.map_or(0, ms))
    }

    /// Server: how long a cookie stays valid (default 60 s).
    pub fn cookie_lifetime(self, d: Duration) -> Self {
        self.option("cookie_lifetime", sys::SDTLS_OPT_COOKIE_LIFETIME_MS, ms(d))
    }

    /// The config, or the error of the first setter that failed.
    pub fn build(self) -> Result<Config> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(Config { inner: Arc::new(self.inner) }),
        }
    }
}
