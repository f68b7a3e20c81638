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
        let mut out = [0u8; 32];
        check(unsafe {
            sys::sdtls_certificate_fingerprint_sha256(pem.as_ptr(), pem.len(), out.as_mut_ptr())
        })?;
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

    /// "AB:CD:..." (32 hex pairs), with or without a leading "sha-256 ".
    fn from_str(s: &str) -> Result<Fingerprint> {
        let bad =
            || Error::new(sys::SDTLS_E_INVALID_ARGUMENT, format!("not a sha-256 fingerprint: {s}"));
        let hex = s
            .strip_prefix("sha-256 ")
            .or_else(|| s.strip_prefix("sha-256:"))
            .or_else(|| s.strip_prefix("SHA-256 "))
            .unwrap_or(s)
            .trim();
        let mut out = [0u8; 32];
        let mut n = 0;
        for pair in hex.split(':') {
            if n == 32 || pair.len() != 2 {
                return Err(bad());
            }
            out[n] = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
            n += 1;
        }
        if n != 32 {
            return Err(bad());
        }
        Ok(Fingerprint(out))
    }
}
