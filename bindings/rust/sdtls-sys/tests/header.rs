// SPDX-License-Identifier: Apache-2.0
//! The declarations cannot drift from the C header: every SDTLS_EXTERN
//! function of `abi/sdtls.h` is declared here with as many parameters (and
//! resolves in the linked library), every constant and enum value has the
//! header's value, and every struct has the header's size, alignment, field
//! names, order and offsets, as a C compiler sees them.
//!
//! The header is the repository's `abi/sdtls.h` (or $SDTLS_HEADER); the C
//! compiler is $CC or `cc`.
use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use sdtls_sys::*;

fn header_path() -> PathBuf {
    match std::env::var_os("SDTLS_HEADER") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../abi/sdtls.h"),
    }
}

/// The header without comments.
fn header_text() -> String {
    let path = header_path();
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    strip_comments(&raw)
}

fn strip_comments(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            i += 2 + s[i + 2..].find("*/").expect("unterminated comment") + 2;
            out.push(' ');
        } else if b[i..].starts_with(b"//") {
            i += s[i..].find('\n').unwrap_or(s.len() - i);
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Splits at commas (or `sep`) that are not inside brackets.
fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' | '[' | '<' | '{' => depth += 1,
            ')' | ']' | '>' | '}' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(String::new());
        } else {
            parts.last_mut().unwrap().push(c);
        }
    }
    parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

/// The text between the bracket at `open` and its match.
fn bracketed(s: &str, open: usize) -> &str {
    let (o, c) = match s.as_bytes()[open] {
        b'(' => (b'(', b')'),
        b'{' => (b'{', b'}'),
        x => panic!("not a bracket: {}", x as char),
    };
    let mut depth = 0;
    for (i, &ch) in s.as_bytes()[open..].iter().enumerate() {
        if ch == o {
            depth += 1;
        } else if ch == c {
            depth -= 1;
            if depth == 0 {
                return &s[open + 1..open + i];
            }
        }
    }
    panic!("unbalanced brackets")
}

fn ident_before(s: &str) -> String {
    let t = s.trim_end();
    let start = t.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    t[start..].to_string()
}

/// name -> number of parameters, for every SDTLS_EXTERN function.
fn header_functions(h: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (pos, _) in h.match_indices("SDTLS_EXTERN") {
        let decl = &h[pos..];
        let line_start = h[..pos].rfind('\n').map_or(0, |i| i + 1);
        if h[line_start..pos].contains("#define") {
            continue;
        }
        let decl = &decl[..decl.find(';').expect("declaration without ';'")];
        let paren = decl.find('(').expect("declaration without '('");
        let name = ident_before(&decl[..paren]);
        let params = split_top(bracketed(decl, paren), ',');
        let n = if params.len() == 1 && params[0] == "void" { 0 } else { params.len() };
        assert!(out.insert(name.clone(), n).is_none(), "{name} declared twice");
    }
    out
}

/// name -> arity, for every `pub fn` in this crate's source.
fn rust_functions() -> BTreeMap<String, usize> {
    let src = strip_comments(include_str!("../src/lib.rs"));
    let mut out = BTreeMap::new();
    for (pos, _) in src.match_indices("pub fn ") {
        let rest = &src[pos + 7..];
        let paren = rest.find('(').unwrap();
        let name = rest[..paren].trim().to_string();
        out.insert(name, split_top(bracketed(rest, paren), ',').len());
    }
    out
}

/// Every `#define SDTLS_...` with a value, and every enum member.
fn header_constants(h: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in h.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("#define ") {
            let mut it = rest.split_whitespace();
            let name = it.next().unwrap_or("");
            let has_value = it.next().is_some();
            if name.starts_with("SDTLS_")
                && has_value
                && !name.contains('(')
                && !["SDTLS_EXTERN", "SDTLS_VERSION_STRING"].contains(&name)
            {
                names.push(name.to_string());
            }
        }
    }
    for (pos, _) in h.match_indices("typedef enum") {
        let open = pos + h[pos..].find('{').unwrap();
        for member in split_top(bracketed(h, open), ',') {
            let name = member.split('=').next().unwrap().trim().to_string();
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    names
}

/// struct name -> field names in order.
fn header_structs(h: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (pos, _) in h.match_indices("typedef struct") {
        let rest = &h[pos + "typedef struct".len()..];
        let Some(brace) = rest.find('{') else { continue };
        if rest[..brace].contains(';') {
            continue; // an opaque typedef: `typedef struct x x;`
        }
        let name = rest[..brace].trim().to_string();
        let mut fields = Vec::new();
        for member in split_top(bracketed(rest, brace), ';') {
            let f = if let Some(i) = member.find("(*") {
                member[i + 2..i + 2 + member[i + 2..].find(')').unwrap()].trim().to_string()
            } else {
                let no_array = member.split('[').next().unwrap();
                ident_before(no_array)
            };
            fields.push(f);
        }
        out.insert(name, fields);
    }
    out
}

struct CFacts {
    consts: BTreeMap<String, i128>,
    sizes: BTreeMap<String, (usize, usize)>,
    offsets: BTreeMap<(String, String), usize>,
    version_string: String,
}

/// Compiles and runs a C program that prints what the compiler knows.
fn c_facts(consts: &[String], structs: &BTreeMap<String, Vec<String>>) -> CFacts {
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"sdtls.h\"\n\
         #define P(x) do { if ((x) < 0) printf(\"const %s %lld\\n\", #x, (long long)(x)); \
         else printf(\"const %s %llu\\n\", #x, (unsigned long long)(x)); } while (0)\n\
         int main(void) {\n",
    );
    for k in consts {
        c += &format!("  P({k});\n");
    }
    for (s, fields) in structs {
        c += &format!("  printf(\"size {s} %zu %zu\\n\", sizeof({s}), _Alignof({s}));\n");
        for f in fields {
            c += &format!("  printf(\"offset {s} {f} %zu\\n\", offsetof({s}, {f}));\n");
        }
    }
    c += "  printf(\"version_string %s\\n\", SDTLS_VERSION_STRING);\n  return 0;\n}\n";

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sdtls-sys-header");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("facts.c");
    let exe = dir.join("facts");
    std::fs::write(&src, c).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let inc = header_path().parent().unwrap().to_path_buf();
    let st = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .arg("-I")
        .arg(&inc)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc}: {e}"));
    assert!(st.success(), "the C helper {} did not compile", src.display());
    let out = Command::new(&exe).output().expect("run the C helper");
    assert!(out.status.success());
    let mut facts = CFacts {
        consts: BTreeMap::new(),
        sizes: BTreeMap::new(),
        offsets: BTreeMap::new(),
        version_string: String::new(),
    };
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w[0] {
            "const" => {
                facts.consts.insert(w[1].into(), w[2].parse().unwrap());
            }
            "size" => {
                facts.sizes.insert(w[1].into(), (w[2].parse().unwrap(), w[3].parse().unwrap()));
            }
            "offset" => {
                facts.offsets.insert((w[1].into(), w[2].into()), w[3].parse().unwrap());
            }
            "version_string" => facts.version_string = w[1].into(),
            _ => panic!("unexpected line {line}"),
        }
    }
    facts
}

/// Fails with the names only one side has.
fn assert_same_names<'a>(
    what: &str,
    header: impl IntoIterator<Item = &'a String>,
    rust: impl IntoIterator<Item = &'a String>,
) {
    let h: std::collections::BTreeSet<&String> = header.into_iter().collect();
    let r: std::collections::BTreeSet<&String> = rust.into_iter().collect();
    let only_h: Vec<_> = h.difference(&r).collect();
    let only_r: Vec<_> = r.difference(&h).collect();
    assert!(
        only_h.is_empty() && only_r.is_empty(),
        "{what}: only in abi/sdtls.h: {only_h:?}; only in sdtls-sys: {only_r:?}"
    );
}

macro_rules! rust_consts {
    ($($name:ident),* $(,)?) => {{
        let mut m = BTreeMap::<String, i128>::new();
        $( m.insert(stringify!($name).to_string(), $name as i128); )*
        m
    }};
}

macro_rules! rust_fns {
    ($($name:ident),* $(,)?) => {{
        let mut m = BTreeMap::<String, usize>::new();
        $( m.insert(stringify!($name).to_string(), $name as *const () as usize); )*
        m
    }};
}

macro_rules! rust_structs {
    ($($s:ident { $($f:ident),* $(,)? }),* $(,)?) => {{
        let mut m = BTreeMap::<String, (usize, usize, Vec<(String, usize)>)>::new();
        $( m.insert(stringify!($s).to_string(), (size_of::<$s>(), align_of::<$s>(),
               vec![$((stringify!($f).to_string(), offset_of!($s, $f))),*])); )*
        m
    }};
}

#[test]
fn every_function_is_declared_with_its_arity() {
    let header = header_functions(&header_text());
    assert!(header.len() >= 64, "parsed only {} functions", header.len());
    let rust = rust_functions();
    assert_same_names("functions", header.keys(), rust.keys());
    for (name, n) in &header {
        assert_eq!(
            rust[name], *n,
            "{name}: {n} parameters in the header, {} in sdtls-sys",
            rust[name]
        );
    }
}

#[test]
fn every_declared_function_resolves_in_the_library() {
    // Taking each address makes the linker resolve every symbol.
    let fns = rust_fns!(
        sdtls_version,
        sdtls_has_feature,
        sdtls_strerror,
        sdtls_error_category,
        sdtls_config_new,
        sdtls_config_free,
        sdtls_config_set_option,
        sdtls_config_get_option,
        sdtls_config_set_certificate_file,
        sdtls_config_set_certificate_pem,
        sdtls_config_set_ca,
        sdtls_config_set_ca_pem,
        sdtls_config_set_ciphers,
        sdtls_config_set_keylog,
        sdtls_certificate_generate,
        sdtls_certificate_fingerprint_sha256,
        sdtls_fingerprint_format,
        sdtls_free,
        sdtls_conn_new,
        sdtls_conn_free,
        sdtls_conn_set_server_name,
        sdtls_conn_start,
        sdtls_conn_receive,
        sdtls_conn_send,
        sdtls_conn_max_data_size,
        sdtls_conn_next_deadline,
        sdtls_conn_handle_timeout,
        sdtls_conn_close,
        sdtls_conn_state,
        sdtls_conn_role,
        sdtls_conn_error,
        sdtls_conn_error_detail,
        sdtls_conn_version,
        sdtls_conn_cipher,
        sdtls_conn_peer_certificate,
        sdtls_conn_peer_fingerprint_sha256,
        sdtls_conn_export_keying_material,
        sdtls_conn_set_app_data,
        sdtls_conn_get_app_data,
        sdtls_config_set_srtp_profiles,
        sdtls_conn_srtp_profile,
        sdtls_srtp_profile_name,
        sdtls_conn_srtp_keying,
        sdtls_config_add_peer_fingerprint,
        sdtls_conn_add_peer_fingerprint,
        sdtls_config_add_psk,
        sdtls_config_set_psk_lookup,
        sdtls_config_set_psk_identity_hint,
        sdtls_conn_psk_identity,
        sdtls_conn_get_session,
        sdtls_conn_set_session,
        sdtls_conn_session_resumed,
        sdtls_config_set_ticket_secret,
        sdtls_config_set_alpn,
        sdtls_conn_alpn,
        sdtls_config_set_groups,
        sdtls_conn_group,
        sdtls_conn_key_update,
        sdtls_fingerprint_parse,
        sdtls_fingerprint_format_hash,
        sdtls_certificate_fingerprint,
        sdtls_conn_peer_fingerprint,
        sdtls_config_set_alpn_list,
        sdtls_config_set_srtp_profiles_list,
        sdtls_config_set_groups_list,
        sdtls_classify,
        sdtls_server_new,
        sdtls_server_free,
        sdtls_server_receive,
        sdtls_server_next_deadline,
        sdtls_server_handle_timeout,
        sdtls_server_close_peer,
        sdtls_conn_peer_address,
        sdtls_server_set_cookie_secret,
        sdtls_server_pin_peer,
        sdtls_server_unpin_peer,
        sdtls_server_counter_get,
    );
    assert_same_names("this test's list vs src/lib.rs", rust_functions().keys(), fns.keys());
    assert!(fns.values().all(|&a| a != 0));
}

#[test]
fn constants_structs_and_layouts_match_the_c_compiler() {
    let h = header_text();
    let names = header_constants(&h);
    let structs = header_structs(&h);
    let c = c_facts(&names, &structs);

    let rust = rust_consts!(
        SDTLS_VERSION_MAJOR,
        SDTLS_VERSION_MINOR,
        SDTLS_VERSION_PATCH,
        SDTLS_VERSION_NUMBER,
        SDTLS_FEATURE_DTLS1_2,
        SDTLS_FEATURE_DTLS1_3,
        SDTLS_FEATURE_COOKIE_EXCHANGE,
        SDTLS_FEATURE_SRTP,
        SDTLS_FEATURE_PSK,
        SDTLS_FEATURE_RESUMPTION,
        SDTLS_FEATURE_ALPN,
        SDTLS_OK,
        SDTLS_E_INVALID_ARGUMENT,
        SDTLS_E_NOMEM,
        SDTLS_E_AGAIN,
        SDTLS_E_STATE,
        SDTLS_E_IN_CALLBACK,
        SDTLS_E_CLOSED,
        SDTLS_E_ALERT,
        SDTLS_E_VERIFY,
        SDTLS_E_TIMEOUT,
        SDTLS_E_PROTOCOL,
        SDTLS_E_TOO_BIG,
        SDTLS_E_FILE,
        SDTLS_E_CREDENTIALS,
        SDTLS_E_FROZEN,
        SDTLS_E_UNSUPPORTED,
        SDTLS_E_LIMIT,
        SDTLS_E_INTERNAL,
        SDTLS_CATEGORY_NONE,
        SDTLS_CATEGORY_AGAIN,
        SDTLS_CATEGORY_CLOSED,
        SDTLS_CATEGORY_ALERT,
        SDTLS_CATEGORY_VERIFY,
        SDTLS_CATEGORY_TIMEOUT,
        SDTLS_CATEGORY_PROTOCOL,
        SDTLS_CATEGORY_USAGE,
        SDTLS_CATEGORY_INTERNAL,
        SDTLS_TIME_NEVER,
        SDTLS_OPT_VERIFY_PEER,
        SDTLS_OPT_REQUIRE_CLIENT_CERT,
        SDTLS_OPT_MTU,
        SDTLS_OPT_INITIAL_TIMEOUT_MS,
        SDTLS_OPT_HANDSHAKE_TIMEOUT_MS,
        SDTLS_OPT_MIN_VERSION,
        SDTLS_OPT_MAX_VERSION,
        SDTLS_OPT_COOKIES,
        SDTLS_OPT_MAX_PEERS,
        SDTLS_OPT_MAX_HANDSHAKES,
        SDTLS_OPT_IDLE_TIMEOUT_MS,
        SDTLS_OPT_COOKIE_LIFETIME_MS,
        SDTLS_OPT_PSK_ALLOW_CBC,
        SDTLS_OPT_SESSION_TICKETS,
        SDTLS_DTLS1_2,
        SDTLS_DTLS1_3,
        SDTLS_ROLE_CLIENT,
        SDTLS_ROLE_SERVER,
        SDTLS_STATE_NEW,
        SDTLS_STATE_HANDSHAKING,
        SDTLS_STATE_CONNECTED,
        SDTLS_STATE_CLOSED,
        SDTLS_STATE_FAILED,
        SDTLS_SRTP_AES128_CM_SHA1_80,
        SDTLS_SRTP_AES128_CM_SHA1_32,
        SDTLS_SRTP_AEAD_AES_128_GCM,
        SDTLS_SRTP_AEAD_AES_256_GCM,
        SDTLS_SRTP_MAX_MASTER_LEN,
        SDTLS_HASH_SHA256,
        SDTLS_HASH_SHA384,
        SDTLS_HASH_SHA512,
        SDTLS_FINGERPRINT_MAX_DIGEST,
        SDTLS_FINGERPRINT_MAX_TEXT,
        SDTLS_FINGERPRINT_SDP,
        SDTLS_FINGERPRINT_BARE,
        SDTLS_PACKET_UNKNOWN,
        SDTLS_PACKET_STUN,
        SDTLS_PACKET_ZRTP,
        SDTLS_PACKET_DTLS,
        SDTLS_PACKET_TURN_CHANNEL,
        SDTLS_PACKET_QUIC,
        SDTLS_PACKET_RTP,
        SDTLS_COUNTER_COOKIES_SENT,
        SDTLS_COUNTER_COOKIES_REJECTED,
        SDTLS_COUNTER_CONNECTIONS_CREATED,
        SDTLS_COUNTER_CONNECTIONS_CLOSED,
        SDTLS_COUNTER_CONNECTIONS_EVICTED,
        SDTLS_COUNTER_DROPPED_MALFORMED,
        SDTLS_COUNTER_DROPPED_UNKNOWN_PEER,
        SDTLS_COUNTER_DROPPED_LIMIT,
        SDTLS_COUNTER_PEERS,
    );
    assert!(names.len() > 60, "parsed only {} constants", names.len());
    assert_same_names("constants", names.iter(), rust.keys());
    for (name, v) in &rust {
        assert_eq!(c.consts[name], *v, "{name}: C says {}, sdtls-sys says {v}", c.consts[name]);
    }
    assert_eq!(c.version_string, SDTLS_VERSION_STRING);

    // Opaque handles are not in `structs`; every struct with a body is.
    let rust = rust_structs!(
        sdtls_callbacks { size, send, on_handshake_done, on_data, on_close },
        sdtls_server_callbacks { size, send, on_connect, on_handshake_done, on_data, on_close },
        sdtls_srtp_keying {
            size,
            profile,
            key_len,
            salt_len,
            client_write,
            server_write,
            local_write,
            remote_write
        },
    );
    assert_same_names("structs", structs.keys(), rust.keys());
    for (s, (size, align, fields)) in &rust {
        assert_eq!(c.sizes[s], (*size, *align), "{s}: (size, align) in C vs sdtls-sys");
        let names: Vec<&String> = fields.iter().map(|(f, _)| f).collect();
        assert_eq!(structs[s].iter().collect::<Vec<_>>(), names, "{s}: fields in C vs sdtls-sys");
        for (f, off) in fields {
            assert_eq!(
                c.offsets[&(s.clone(), f.clone())],
                *off,
                "{s}.{f}: offset in C vs sdtls-sys"
            );
        }
    }
}

#[test]
fn the_linked_library_is_at_least_the_headers_version() {
    let v = unsafe { sdtls_version(std::ptr::null_mut()) };
    assert!(v >= SDTLS_VERSION_NUMBER, "library {v:#x} is older than the header");
}
