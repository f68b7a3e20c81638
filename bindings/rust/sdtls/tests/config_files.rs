//! A file setter's error names the file and why, as the C tool does.
use sdtls::Config;

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("sdtls-config-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing-ca.pem");
    let e = Config::builder().ca_file(&missing).build().err().expect("a missing CA file fails");
    let text = e.to_string();
    assert!(text.contains(&*missing.to_string_lossy()), "{text}");
    assert!(text.contains("No such file"), "{text}");

    let not_pem = dir.join("cert.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let e = Config::builder().certificate_files(&not_pem, &not_pem).build().err().expect("refused");
    let text = e.to_string();
    assert!(text.contains(&*not_pem.to_string_lossy()), "{text}");
    assert!(text.contains("no usable certificate"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
