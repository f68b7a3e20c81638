// SPDX-License-Identifier: Apache-2.0
//! Self-signed certificates and SHA-256 fingerprints (RFC 8122 form).
use std::ffi::{c_char, CStr, CString};
use std::fmt;
use std::str::FromStr;

use sdtls_sys as sys;

use crate::error::{check, Error, Result};

/// Overwrites `bytes` with zeros in a way the optimiser keeps.
pub(crate) fn wipe(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: a valid, aligned, exclusive reference.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

pub(crate) fn wipe_string(s: &mut String) {
    // SAFETY: zeros are valid UTF-8.
    wipe(unsafe { s.as_mut_vec() });
}

pub(crate) fn cstring(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| {
        Error::new(sys::SDTLS_E_INVALID_ARGUMENT, format!("{what}: contains a NUL byte"))
    })
}

/// Calls one of the C list setters with `names` as they are: the C library
/// refuses a name with ',' or ':' (it would be two in the joined form).
pub(crate) fn set_names(
    what: &str,
    names: &[String],
    set: impl FnOnce(*const *const c_char, usize) -> std::ffi::c_int,
) -> Result<()> {
    let owned = names.iter().map(|n| cstring(what, n)).collect::<Result<Vec<_>>>()?;
    let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    check(set(ptrs.as_ptr(), ptrs.len())).map_err(|e| {
        Error::new(
            e.code(),
            format!("{what}: a name is empty, too long, holds ',' or ':' or is unknown: {names:?}"),
        )
    })
}

/// A certificate and its private key in PEM, as
/// `sdtls_certificate_generate` makes them: a self-signed ECDSA P-256
/// certificate. The key is wiped when this is dropped.
pub struct Certificate {
    cert_pem: String,
    key_pem: String,
}

impl Certificate {
    /// A self-signed ECDSA P-256 certificate for `common_name` (also its DNS
    /// subjectAltName), valid from an hour ago for `days` days (1..36500).
    pub fn self_signed(common_name: &str, days: u32) -> Result<Certificate> {
        let cn = cstring("common name", common_name)?;
        let mut cert: *mut c_char = std::ptr::null_mut();
        let mut key: *mut c_char = std::ptr::null_mut();
        check(unsafe { sys::sdtls_certificate_generate(cn.as_ptr(), days, &mut cert, &mut key) })?;
        // SAFETY: both are NUL-terminated strings the library allocated for us.
        let out = unsafe {
            Certificate {
                cert_pem: CStr::from_ptr(cert).to_string_lossy().into_owned(),
                key_pem: CStr::from_ptr(key).to_string_lossy().into_owned(),
            }
        };
        unsafe {
            sys::sdtls_free(cert.cast());
            sys::sdtls_free(key.cast()); // wipes it
        }
        Ok(out)
    }

    /// From PEM text you already have (no check is made here; the config
    /// checks it).
    pub fn from_pem(cert_pem: impl Into<String>, key_pem: impl Into<String>) -> Certificate {
        Certificate { cert_pem: cert_pem.into(), key_pem: key_pem.into() }
    }

    /// The certificate (PEM).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key (PKCS#8 PEM). Keep it secret.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The SHA-256 fingerprint of the certificate.
    pub fn fingerprint(&self) -> Result<Fingerprint> {
        Fingerprint::of_pem(self.cert_pem.as_bytes())
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        wipe_string(&mut self.key_pem);
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate").field("fingerprint", &self.fingerprint().ok()).finish()
    }
}

/// A SHA-256 certificate fingerprint. `Display` writes it as SDP does
/// ("AB:CD:..."); [`Fingerprint::sdp`] adds the hash name ("sha-256 AB:...").
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of the first certificate in `pem`.
    pub fn of_pem(pem: &[u8]) -> Result<Fingerprint> {
        let fp = CertificateFingerprint::of_pem(pem, Hash::Sha256)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(fp.digest());
        Ok(Fingerprint(out))
    }

    /// The digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// "sha-256 AB:CD:...", as an SDP a=fingerprint line and
    /// [`ConfigBuilder::peer_fingerprint`](crate::ConfigBuilder::peer_fingerprint) take it.
    pub fn sdp(&self) -> String {
        format!("sha-256 {self}")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0 as c_char; 96];
        let rc =
            unsafe { sys::sdtls_fingerprint_format(self.0.as_ptr(), buf.as_mut_ptr(), buf.len()) };
        if rc != 0 {
            return Err(fmt::Error);
        }
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
        f.write_str(s.to_str().map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// A sha-256 fingerprint in any form [`CertificateFingerprint`] parses
    /// (surrounding blanks ignored, as before).
    fn from_str(s: &str) -> Result<Fingerprint> {
        let fp: CertificateFingerprint = s.trim().parse()?;
        if fp.hash() != Hash::Sha256 {
            return Err(Error::new(
                sys::SDTLS_E_INVALID_ARGUMENT,
                format!("not a sha-256 fingerprint: {s}"),
            ));
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(fp.digest());
        Ok(Fingerprint(out))
    }
}

/// The hash functions of a fingerprint (RFC 8122).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn id(self) -> std::ffi::c_int {
        match self {
            Hash::Sha256 => sys::SDTLS_HASH_SHA256,
            Hash::Sha384 => sys::SDTLS_HASH_SHA384,
            Hash::Sha512 => sys::SDTLS_HASH_SHA512,
        }
    }

    fn from_id(id: std::ffi::c_int) -> Option<Hash> {
        [Hash::Sha256, Hash::Sha384, Hash::Sha512].into_iter().find(|h| h.id() == id)
    }
}

/// A certificate fingerprint in sha-256, sha-384 or sha-512. `Display`
/// writes SDP's form, "sha-256 AB:CD:...", the one form this crate writes
/// for it; [`CertificateFingerprint::bare`] gives "AB:CD:...". `FromStr`
/// takes every form peers write ("sha-256 AB:..", "sha-256:AB:..", bare
/// "AB:..", the hash then told by the length), any case. The C library
/// parses and formats (`sdtls_fingerprint_parse`,
/// `sdtls_fingerprint_format_hash`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertificateFingerprint {
    hash: Hash,
    digest: Vec<u8>,
}

impl CertificateFingerprint {
    /// The fingerprint of the first certificate in `pem` in `hash`.
    pub fn of_pem(pem: &[u8], hash: Hash) -> Result<CertificateFingerprint> {
        let mut d = [0u8; sys::SDTLS_FINGERPRINT_MAX_DIGEST];
        let mut n = 0usize;
        check(unsafe {
            sys::sdtls_certificate_fingerprint(
                pem.as_ptr(),
                pem.len(),
                hash.id(),
                d.as_mut_ptr(),
                &mut n,
            )
        })?;
        Ok(CertificateFingerprint { hash, digest: d[..n].to_vec() })
    }

    pub(crate) fn from_raw(hash: Hash, digest: &[u8]) -> CertificateFingerprint {
        CertificateFingerprint { hash, digest: digest.to_vec() }
    }

    pub(crate) fn hash_id(hash: Hash) -> std::ffi::c_int {
        hash.id()
    }

    /// The hash function.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// The digest (32, 48 or 64 bytes).
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    fn format(&self, form: std::ffi::c_int) -> std::result::Result<String, fmt::Error> {
        let mut buf = [0 as c_char; sys::SDTLS_FINGERPRINT_MAX_TEXT];
        let rc = unsafe {
            sys::sdtls_fingerprint_format_hash(
                self.hash.id(),
                self.digest.as_ptr(),
                self.digest.len(),
                form,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        if rc != 0 {
            return Err(fmt::Error);
        }
        let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
        Ok(s.to_str().map_err(|_| fmt::Error)?.to_owned())
    }

    /// "AB:CD:...", without the hash's name.
    pub fn bare(&self) -> String {
        self.format(sys::SDTLS_FINGERPRINT_BARE).unwrap_or_default()
    }
}

impl fmt::Display for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(sys::SDTLS_FINGERPRINT_SDP)?)
    }
}

impl fmt::Debug for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateFingerprint({self})")
    }
}

impl FromStr for CertificateFingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<CertificateFingerprint> {
        let text = cstring("fingerprint", s)?;
        let mut d = [0u8; sys::SDTLS_FINGERPRINT_MAX_DIGEST];
        let mut n = 0usize;
        let mut id: std::ffi::c_int = 0;
        check(unsafe {
            sys::sdtls_fingerprint_parse(text.as_ptr(), &mut id, d.as_mut_ptr(), &mut n)
        })
        .map_err(|e| Error::new(e.code(), format!("not a fingerprint: {s}")))?;
        let hash = Hash::from_id(id)
            .ok_or_else(|| Error::new(sys::SDTLS_E_INTERNAL, format!("unknown hash id {id}")))?;
        Ok(CertificateFingerprint { hash, digest: d[..n].to_vec() })
    }
}
