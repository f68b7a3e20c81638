//! A file setter's error names the file and why, as the C tool does.
use sdtls::Config;

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("sdtls-config-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing-ca.pem");
    let Err(e) = Config::builder().ca_file(&missing).build() else {
        panic!("a missing CA file is accepted")
    };
    let text = e.to_string();
    assert!(text.contains(&*missing.to_string_lossy()), "{text}");
    assert!(text.contains("No such file"), "{text}");

    let not_pem = dir.join("cert.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let Err(e) = Config::builder().certificate_files(&not_pem, &not_pem).build() else {
        panic!("a file without a certificate is accepted")
    };
    let text = e.to_string();
    assert!(text.contains(&*not_pem.to_string_lossy()), "{text}");
    assert!(text.contains("no usable certificate"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
