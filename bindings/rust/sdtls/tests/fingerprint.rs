// SPDX-License-Identifier: Apache-2.0
//! SDTLS_1.2: fingerprints in sha-256, sha-384 and sha-512 and every text
//! form, parsed and formatted by the C library; list setters that take each
//! name as it is.
mod common;

use common::{assert_pin_refused, connected_pair, Pki};
use sdtls::{sys, CertificateFingerprint, Config, Hash};

#[test]
fn every_form_parses_to_one_fingerprint() {
    let pki = Pki::new();
    let pem = pki.cert.cert_pem().as_bytes();
    for (hash, len, name) in [
        (Hash::Sha256, 32, "sha-256"),
        (Hash::Sha384, 48, "sha-384"),
        (Hash::Sha512, 64, "sha-512"),
    ] {
        let fp = CertificateFingerprint::of_pem(pem, hash).unwrap();
        assert_eq!(fp.digest().len(), len);
        let sdp = fp.to_string();
        assert_eq!(sdp, format!("{name} {}", fp.bare()));
        for text in [sdp.clone(), fp.bare(), format!("{name}:{}", fp.bare()), sdp.to_lowercase()] {
            assert_eq!(text.parse::<CertificateFingerprint>().unwrap(), fp, "{text}");
        }
    }
    // The sha-256 type of 0.1 now parses the bare form through C too.
    let old = pki.cert.fingerprint().unwrap();
    assert_eq!(old.to_string().parse::<sdtls::Fingerprint>().unwrap(), old);
    assert_eq!(old.sdp(), CertificateFingerprint::of_pem(pem, Hash::Sha256).unwrap().to_string());
}

#[test]
fn malformed_fingerprints_are_refused() {
    let bare = CertificateFingerprint::of_pem(Pki::new().cert.cert_pem().as_bytes(), Hash::Sha256)
        .unwrap()
        .bare();
    for bad in [
        String::new(),
        "nonsense".into(),
        "sha-256 AB:CD".into(),
        "AB:CD".into(),
        format!("{bare}:"),
        format!("sha-384 {bare}"),
        format!("{bare}\0"),
    ] {
        let e = bad.parse::<CertificateFingerprint>().unwrap_err();
        assert_eq!(e.code(), sys::SDTLS_E_INVALID_ARGUMENT, "{bad:?}");
    }
    let sha1 = format!("sha-1 {}", ["AB"; 20].join(":"));
    assert_eq!(
        sha1.parse::<CertificateFingerprint>().unwrap_err().code(),
        sys::SDTLS_E_UNSUPPORTED
    );
}

#[test]
fn pins_in_other_hashes() {
    let pki = Pki::new();
    let pem = pki.cert.cert_pem().as_bytes();
    for hash in [Hash::Sha384, Hash::Sha512] {
        let fp = CertificateFingerprint::of_pem(pem, hash).unwrap();
        for pin in [fp.to_string(), fp.bare()] {
            let ccfg = Config::builder().peer_fingerprint(&pin).build().unwrap();
            let (c, _s) = connected_pair(&ccfg, &pki.server().build().unwrap());
            assert_eq!(c.peer_certificate_fingerprint(hash), Some(fp.clone()));
        }
        let other =
            CertificateFingerprint::of_pem(Pki::new().cert.cert_pem().as_bytes(), hash).unwrap();
        assert_pin_refused(&pki, &other.to_string(), &other.to_string());
    }
}

#[test]
fn a_name_with_a_separator_is_refused_not_split() {
    // Once alpn(&["a,b"]) silently offered two protocols, "a" and "b".
    let long = "x".repeat(256);
    for names in [&["a,b"][..], &["coap", "a:b"], &[""], &[long.as_str()]] {
        let e = Config::builder().alpn(names).build().unwrap_err();
        assert_eq!(e.code(), sys::SDTLS_E_INVALID_ARGUMENT, "{names:?}");
    }
    let e = Config::builder().groups(&["X25519:P-256"]).build().unwrap_err();
    assert_eq!(e.code(), sys::SDTLS_E_INVALID_ARGUMENT);
    let pki = Pki::new();
    let ccfg = pki.client().alpn(&["h3", "coap"]).groups(&["P-384", "P-256"]).build().unwrap();
    let scfg = pki.server().alpn(&["coap", "h3"]).groups(&["P-384", "P-256"]).build().unwrap();
    let (c, _s) = connected_pair(&ccfg, &scfg);
    assert_eq!(c.alpn(), Some("coap"));
}
