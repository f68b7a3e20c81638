// SPDX-License-Identifier: Apache-2.0
//! Raw declarations of libsdtls's C ABI (`abi/sdtls.h`, symbol versions
//! `SDTLS_1` and `SDTLS_1.1`), written by hand from the header.
//!
//! Everything here is `unsafe` and follows the header's rules word for word:
//! read `abi/sdtls.h` ("Callbacks", "Handles and their lifetimes") before
//! calling anything. The safe layer is the `sdtls` crate.
//!
//! C enums are declared as integer type aliases with one constant per value,
//! so a value a newer library returns can never be an invalid Rust enum.
//! The test `tests/header.rs` compares every declaration, constant, struct
//! size and field offset with the header through a C compiler.
#![no_std]
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::marker::{PhantomData, PhantomPinned};

macro_rules! opaque {
    ($($name:ident),*) => {$(
        /// An opaque handle of the C library (used through pointers only).
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}
opaque!(sdtls_config, sdtls_conn, sdtls_server);

// ---- Version ----
pub const SDTLS_VERSION_MAJOR: u32 = 0;
pub const SDTLS_VERSION_MINOR: u32 = 1;
pub const SDTLS_VERSION_PATCH: u32 = 0;
/// The header's version string (the library's may name more: see `sdtls_version`).
pub const SDTLS_VERSION_STRING: &str = "0.1.0";
/// `(major << 16) | (minor << 8) | patch` of the header these declarations follow.
pub const SDTLS_VERSION_NUMBER: u32 =
    (SDTLS_VERSION_MAJOR << 16) | (SDTLS_VERSION_MINOR << 8) | SDTLS_VERSION_PATCH;

pub type sdtls_feature = c_int;
pub const SDTLS_FEATURE_DTLS1_2: sdtls_feature = 1;
pub const SDTLS_FEATURE_DTLS1_3: sdtls_feature = 2;
pub const SDTLS_FEATURE_COOKIE_EXCHANGE: sdtls_feature = 3;
pub const SDTLS_FEATURE_SRTP: sdtls_feature = 4;
pub const SDTLS_FEATURE_PSK: sdtls_feature = 5;
pub const SDTLS_FEATURE_RESUMPTION: sdtls_feature = 6;
pub const SDTLS_FEATURE_ALPN: sdtls_feature = 7;

// ---- Errors ----
pub const SDTLS_OK: c_int = 0;
pub const SDTLS_E_INVALID_ARGUMENT: c_int = -1;
pub const SDTLS_E_NOMEM: c_int = -2;
pub const SDTLS_E_AGAIN: c_int = -3;
pub const SDTLS_E_STATE: c_int = -4;
pub const SDTLS_E_IN_CALLBACK: c_int = -5;
pub const SDTLS_E_CLOSED: c_int = -6;
pub const SDTLS_E_ALERT: c_int = -7;
pub const SDTLS_E_VERIFY: c_int = -8;
pub const SDTLS_E_TIMEOUT: c_int = -9;
pub const SDTLS_E_PROTOCOL: c_int = -10;
pub const SDTLS_E_TOO_BIG: c_int = -11;
pub const SDTLS_E_FILE: c_int = -12;
pub const SDTLS_E_CREDENTIALS: c_int = -13;
pub const SDTLS_E_FROZEN: c_int = -14;
pub const SDTLS_E_UNSUPPORTED: c_int = -15;
pub const SDTLS_E_LIMIT: c_int = -16;
pub const SDTLS_E_INTERNAL: c_int = -17;

pub type sdtls_category = c_int;
pub const SDTLS_CATEGORY_NONE: sdtls_category = 0;
pub const SDTLS_CATEGORY_AGAIN: sdtls_category = 1;
pub const SDTLS_CATEGORY_CLOSED: sdtls_category = 2;
pub const SDTLS_CATEGORY_ALERT: sdtls_category = 3;
pub const SDTLS_CATEGORY_VERIFY: sdtls_category = 4;
pub const SDTLS_CATEGORY_TIMEOUT: sdtls_category = 5;
pub const SDTLS_CATEGORY_PROTOCOL: sdtls_category = 6;
pub const SDTLS_CATEGORY_USAGE: sdtls_category = 7;
pub const SDTLS_CATEGORY_INTERNAL: sdtls_category = 8;

// ---- Time ----
/// Nanoseconds since the UNIX epoch, advanced by a monotonic clock (see
/// "Time" in sdtls.h).
pub type sdtls_time = u64;
pub const SDTLS_TIME_NEVER: sdtls_time = u64::MAX;

// ---- Configuration ----
pub type sdtls_option = c_int;
pub const SDTLS_OPT_VERIFY_PEER: sdtls_option = 1;
pub const SDTLS_OPT_REQUIRE_CLIENT_CERT: sdtls_option = 2;
pub const SDTLS_OPT_MTU: sdtls_option = 3;
pub const SDTLS_OPT_INITIAL_TIMEOUT_MS: sdtls_option = 4;
pub const SDTLS_OPT_HANDSHAKE_TIMEOUT_MS: sdtls_option = 5;
pub const SDTLS_OPT_MIN_VERSION: sdtls_option = 6;
pub const SDTLS_OPT_MAX_VERSION: sdtls_option = 7;
pub const SDTLS_OPT_COOKIES: sdtls_option = 8;
pub const SDTLS_OPT_MAX_PEERS: sdtls_option = 9;
pub const SDTLS_OPT_MAX_HANDSHAKES: sdtls_option = 10;
pub const SDTLS_OPT_IDLE_TIMEOUT_MS: sdtls_option = 11;
pub const SDTLS_OPT_COOKIE_LIFETIME_MS: sdtls_option = 12;
pub const SDTLS_OPT_PSK_ALLOW_CBC: sdtls_option = 13;
pub const SDTLS_OPT_SESSION_TICKETS: sdtls_option = 14;

pub const SDTLS_DTLS1_2: i64 = 0xfefd;
pub const SDTLS_DTLS1_3: i64 = 0xfefc;

/// Key log callback: one NSS key log line (NUL-terminated, no newline).
pub type sdtls_keylog_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, line: *const c_char)>;
/// PSK lookup: writes the key of `identity` into `key[..key_max]`, returns its length or 0.
pub type sdtls_psk_lookup_cb = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        identity: *const c_char,
        key: *mut u8,
        key_max: usize,
    ) -> usize,
>;

// ---- Connection ----
pub type sdtls_role = c_int;
pub const SDTLS_ROLE_CLIENT: sdtls_role = 0;
pub const SDTLS_ROLE_SERVER: sdtls_role = 1;

pub type sdtls_state = c_int;
pub const SDTLS_STATE_NEW: sdtls_state = 0;
pub const SDTLS_STATE_HANDSHAKING: sdtls_state = 1;
pub const SDTLS_STATE_CONNECTED: sdtls_state = 2;
pub const SDTLS_STATE_CLOSED: sdtls_state = 3;
pub const SDTLS_STATE_FAILED: sdtls_state = 4;

/// A connection's callbacks; set `size` to `size_of::<sdtls_callbacks>()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sdtls_callbacks {
    pub size: usize,
    pub send: Option<
        unsafe extern "C" fn(user_data: *mut c_void, datagram: *const u8, len: usize) -> c_int,
    >,
    pub on_handshake_done: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    pub on_data: Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const u8, len: usize)>,
    pub on_close: Option<unsafe extern "C" fn(user_data: *mut c_void, reason: c_int)>,
}

// ---- DTLS-SRTP ----
pub const SDTLS_SRTP_AES128_CM_SHA1_80: c_int = 0x0001;
pub const SDTLS_SRTP_AES128_CM_SHA1_32: c_int = 0x0002;
pub const SDTLS_SRTP_AEAD_AES_128_GCM: c_int = 0x0007;
pub const SDTLS_SRTP_AEAD_AES_256_GCM: c_int = 0x0008;
pub const SDTLS_SRTP_MAX_MASTER_LEN: usize = 46;

// Fingerprints (SDTLS_1.2)
pub const SDTLS_HASH_SHA256: c_int = 1;
pub const SDTLS_HASH_SHA384: c_int = 2;
pub const SDTLS_HASH_SHA512: c_int = 3;
pub const SDTLS_FINGERPRINT_MAX_DIGEST: usize = 64;
pub const SDTLS_FINGERPRINT_MAX_TEXT: usize = 200;
pub const SDTLS_FINGERPRINT_SDP: c_int = 0;
pub const SDTLS_FINGERPRINT_BARE: c_int = 1;

// Demultiplexing a shared socket, RFC 7983 / RFC 9443 (SDTLS_1.2)
pub const SDTLS_PACKET_UNKNOWN: c_int = 0;
pub const SDTLS_PACKET_STUN: c_int = 1;
pub const SDTLS_PACKET_ZRTP: c_int = 2;
pub const SDTLS_PACKET_DTLS: c_int = 3;
pub const SDTLS_PACKET_TURN_CHANNEL: c_int = 4;
pub const SDTLS_PACKET_QUIC: c_int = 5;
pub const SDTLS_PACKET_RTP: c_int = 6;

/// SRTP master keys and salts; set `size` to `size_of::<sdtls_srtp_keying>()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sdtls_srtp_keying {
    pub size: usize,
    pub profile: c_int,
    pub key_len: usize,
    pub salt_len: usize,
    pub client_write: [u8; SDTLS_SRTP_MAX_MASTER_LEN],
    pub server_write: [u8; SDTLS_SRTP_MAX_MASTER_LEN],
    pub local_write: [u8; SDTLS_SRTP_MAX_MASTER_LEN],
    pub remote_write: [u8; SDTLS_SRTP_MAX_MASTER_LEN],
}

// ---- Server ----
/// A server's callbacks; set `size` to `size_of::<sdtls_server_callbacks>()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sdtls_server_callbacks {
    pub size: usize,
    pub send: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            addr: *const u8,
            addr_len: usize,
            datagram: *const u8,
            len: usize,
        ) -> c_int,
    >,
    pub on_connect: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            conn: *mut sdtls_conn,
            addr: *const u8,
            addr_len: usize,
        ),
    >,
    pub on_handshake_done:
        Option<unsafe extern "C" fn(user_data: *mut c_void, conn: *mut sdtls_conn)>,
    pub on_data: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            conn: *mut sdtls_conn,
            data: *const u8,
            len: usize,
        ),
    >,
    pub on_close:
        Option<unsafe extern "C" fn(user_data: *mut c_void, conn: *mut sdtls_conn, reason: c_int)>,
}

pub type sdtls_server_counter = c_int;
pub const SDTLS_COUNTER_COOKIES_SENT: sdtls_server_counter = 1;
pub const SDTLS_COUNTER_COOKIES_REJECTED: sdtls_server_counter = 2;
pub const SDTLS_COUNTER_CONNECTIONS_CREATED: sdtls_server_counter = 3;
pub const SDTLS_COUNTER_CONNECTIONS_CLOSED: sdtls_server_counter = 4;
pub const SDTLS_COUNTER_CONNECTIONS_EVICTED: sdtls_server_counter = 5;
pub const SDTLS_COUNTER_DROPPED_MALFORMED: sdtls_server_counter = 6;
pub const SDTLS_COUNTER_DROPPED_UNKNOWN_PEER: sdtls_server_counter = 7;
pub const SDTLS_COUNTER_DROPPED_LIMIT: sdtls_server_counter = 8;
pub const SDTLS_COUNTER_PEERS: sdtls_server_counter = 9;

extern "C" {
    // Version and features
    pub fn sdtls_version(string: *mut *const c_char) -> u32;
    pub fn sdtls_has_feature(feature: sdtls_feature) -> c_int;

    // Errors
    pub fn sdtls_strerror(err: c_int) -> *const c_char;
    pub fn sdtls_error_category(err: c_int) -> sdtls_category;

    // Configuration
    pub fn sdtls_config_new(out: *mut *mut sdtls_config) -> c_int;
    pub fn sdtls_config_free(config: *mut sdtls_config);
    pub fn sdtls_config_set_option(
        config: *mut sdtls_config,
        option: sdtls_option,
        value: i64,
    ) -> c_int;
    pub fn sdtls_config_get_option(
        config: *const sdtls_config,
        option: sdtls_option,
        value: *mut i64,
    ) -> c_int;
    pub fn sdtls_config_set_certificate_file(
        config: *mut sdtls_config,
        cert_path: *const c_char,
        key_path: *const c_char,
    ) -> c_int;
    pub fn sdtls_config_set_certificate_pem(
        config: *mut sdtls_config,
        cert_pem: *const u8,
        cert_len: usize,
        key_pem: *const u8,
        key_len: usize,
    ) -> c_int;
    pub fn sdtls_config_set_ca(
        config: *mut sdtls_config,
        ca_file: *const c_char,
        ca_dir: *const c_char,
    ) -> c_int;
    pub fn sdtls_config_set_ca_pem(config: *mut sdtls_config, pem: *const u8, len: usize) -> c_int;
    pub fn sdtls_config_set_ciphers(config: *mut sdtls_config, ciphers: *const c_char) -> c_int;
    pub fn sdtls_config_set_keylog(
        config: *mut sdtls_config,
        cb: sdtls_keylog_cb,
        user_data: *mut c_void,
    ) -> c_int;

    // Certificates
    pub fn sdtls_certificate_generate(
        common_name: *const c_char,
        days: c_uint,
        cert_pem: *mut *mut c_char,
        key_pem: *mut *mut c_char,
    ) -> c_int;
    pub fn sdtls_certificate_fingerprint_sha256(pem: *const u8, len: usize, out: *mut u8) -> c_int;
    pub fn sdtls_fingerprint_format(digest: *const u8, out: *mut c_char, out_len: usize) -> c_int;
    pub fn sdtls_free(ptr: *mut c_void);

    // Connection
    pub fn sdtls_conn_new(
        config: *mut sdtls_config,
        role: sdtls_role,
        callbacks: *const sdtls_callbacks,
        user_data: *mut c_void,
        out: *mut *mut sdtls_conn,
    ) -> c_int;
    pub fn sdtls_conn_free(conn: *mut sdtls_conn);
    pub fn sdtls_conn_set_server_name(conn: *mut sdtls_conn, name: *const c_char) -> c_int;
    pub fn sdtls_conn_start(conn: *mut sdtls_conn, now: sdtls_time) -> c_int;
    pub fn sdtls_conn_receive(
        conn: *mut sdtls_conn,
        datagram: *const u8,
        len: usize,
        now: sdtls_time,
    ) -> c_int;
    pub fn sdtls_conn_send(
        conn: *mut sdtls_conn,
        data: *const u8,
        len: usize,
        now: sdtls_time,
    ) -> c_int;
    pub fn sdtls_conn_max_data_size(conn: *const sdtls_conn) -> usize;
    pub fn sdtls_conn_next_deadline(conn: *const sdtls_conn) -> sdtls_time;
    pub fn sdtls_conn_handle_timeout(conn: *mut sdtls_conn, now: sdtls_time) -> c_int;
    pub fn sdtls_conn_close(conn: *mut sdtls_conn, now: sdtls_time) -> c_int;
    pub fn sdtls_conn_state(conn: *const sdtls_conn) -> sdtls_state;
    pub fn sdtls_conn_role(conn: *const sdtls_conn) -> sdtls_role;
    pub fn sdtls_conn_error(conn: *const sdtls_conn) -> c_int;
    pub fn sdtls_conn_error_detail(conn: *const sdtls_conn) -> *const c_char;
    pub fn sdtls_conn_version(conn: *const sdtls_conn) -> *const c_char;
    pub fn sdtls_conn_cipher(conn: *const sdtls_conn) -> *const c_char;
    pub fn sdtls_conn_peer_certificate(
        conn: *const sdtls_conn,
        der: *mut *const u8,
        len: *mut usize,
    ) -> c_int;
    pub fn sdtls_conn_peer_fingerprint_sha256(conn: *const sdtls_conn, out: *mut u8) -> c_int;
    pub fn sdtls_conn_export_keying_material(
        conn: *const sdtls_conn,
        out: *mut u8,
        out_len: usize,
        label: *const c_char,
        label_len: usize,
        context: *const u8,
        context_len: usize,
    ) -> c_int;
    pub fn sdtls_conn_set_app_data(conn: *mut sdtls_conn, app_data: *mut c_void);
    pub fn sdtls_conn_get_app_data(conn: *const sdtls_conn) -> *mut c_void;

    // DTLS-SRTP (SDTLS_1.1)
    pub fn sdtls_config_set_srtp_profiles(
        config: *mut sdtls_config,
        profiles: *const c_char,
    ) -> c_int;
    pub fn sdtls_conn_srtp_profile(conn: *const sdtls_conn) -> c_int;
    pub fn sdtls_srtp_profile_name(profile: c_int) -> *const c_char;
    pub fn sdtls_conn_srtp_keying(conn: *const sdtls_conn, out: *mut sdtls_srtp_keying) -> c_int;

    // Fingerprints (SDTLS_1.1)
    pub fn sdtls_config_add_peer_fingerprint(
        config: *mut sdtls_config,
        fingerprint: *const c_char,
    ) -> c_int;
    pub fn sdtls_conn_add_peer_fingerprint(
        conn: *mut sdtls_conn,
        fingerprint: *const c_char,
    ) -> c_int;

    // PSK (SDTLS_1.1)
    pub fn sdtls_config_add_psk(
        config: *mut sdtls_config,
        identity: *const c_char,
        key: *const u8,
        key_len: usize,
    ) -> c_int;
    pub fn sdtls_config_set_psk_lookup(
        config: *mut sdtls_config,
        cb: sdtls_psk_lookup_cb,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn sdtls_config_set_psk_identity_hint(
        config: *mut sdtls_config,
        hint: *const c_char,
    ) -> c_int;
    pub fn sdtls_conn_psk_identity(conn: *const sdtls_conn) -> *const c_char;

    // Session resumption (SDTLS_1.1)
    pub fn sdtls_conn_get_session(
        conn: *const sdtls_conn,
        session: *mut *mut u8,
        len: *mut usize,
    ) -> c_int;
    pub fn sdtls_conn_set_session(conn: *mut sdtls_conn, session: *const u8, len: usize) -> c_int;
    pub fn sdtls_conn_session_resumed(conn: *const sdtls_conn) -> c_int;
    pub fn sdtls_config_set_ticket_secret(
        config: *mut sdtls_config,
        secret: *const u8,
        len: usize,
    ) -> c_int;

    // ALPN (SDTLS_1.1)
    pub fn sdtls_config_set_alpn(config: *mut sdtls_config, protocols: *const c_char) -> c_int;
    pub fn sdtls_conn_alpn(conn: *const sdtls_conn) -> *const c_char;

    // Key exchange groups (SDTLS_1.1)
    pub fn sdtls_config_set_groups(config: *mut sdtls_config, groups: *const c_char) -> c_int;
    pub fn sdtls_conn_group(conn: *const sdtls_conn) -> *const c_char;

    // DTLS 1.3 KeyUpdate (SDTLS_1.1)
    pub fn sdtls_conn_key_update(conn: *mut sdtls_conn, now: sdtls_time) -> c_int;

    // Fingerprints in every hash and form, list setters (SDTLS_1.2)
    pub fn sdtls_fingerprint_parse(
        text: *const c_char,
        hash: *mut c_int,
        digest: *mut u8,
        digest_len: *mut usize,
    ) -> c_int;
    pub fn sdtls_fingerprint_format_hash(
        hash: c_int,
        digest: *const u8,
        digest_len: usize,
        form: c_int,
        out: *mut c_char,
        out_len: usize,
    ) -> c_int;
    pub fn sdtls_certificate_fingerprint(
        pem: *const u8,
        len: usize,
        hash: c_int,
        digest: *mut u8,
        digest_len: *mut usize,
    ) -> c_int;
    pub fn sdtls_conn_peer_fingerprint(
        conn: *const sdtls_conn,
        hash: c_int,
        digest: *mut u8,
        digest_len: *mut usize,
    ) -> c_int;
    pub fn sdtls_config_set_alpn_list(
        config: *mut sdtls_config,
        names: *const *const c_char,
        n: usize,
    ) -> c_int;
    pub fn sdtls_config_set_srtp_profiles_list(
        config: *mut sdtls_config,
        names: *const *const c_char,
        n: usize,
    ) -> c_int;
    pub fn sdtls_config_set_groups_list(
        config: *mut sdtls_config,
        names: *const *const c_char,
        n: usize,
    ) -> c_int;
    pub fn sdtls_classify(datagram: *const u8, len: usize) -> c_int;

    // Server
    pub fn sdtls_server_new(
        config: *mut sdtls_config,
        callbacks: *const sdtls_server_callbacks,
        user_data: *mut c_void,
        out: *mut *mut sdtls_server,
    ) -> c_int;
    pub fn sdtls_server_free(server: *mut sdtls_server);
    pub fn sdtls_server_receive(
        server: *mut sdtls_server,
        addr: *const u8,
        addr_len: usize,
        datagram: *const u8,
        len: usize,
        now: sdtls_time,
    ) -> c_int;
    pub fn sdtls_server_next_deadline(server: *const sdtls_server) -> sdtls_time;
    pub fn sdtls_server_handle_timeout(server: *mut sdtls_server, now: sdtls_time) -> c_int;
    pub fn sdtls_server_close_peer(
        server: *mut sdtls_server,
        conn: *mut sdtls_conn,
        now: sdtls_time,
    ) -> c_int;
    pub fn sdtls_conn_peer_address(
        conn: *const sdtls_conn,
        addr: *mut *const u8,
        addr_len: *mut usize,
    ) -> c_int;
    pub fn sdtls_server_set_cookie_secret(
        server: *mut sdtls_server,
        secret: *const u8,
        len: usize,
        now: sdtls_time,
    ) -> c_int;
    pub fn sdtls_server_pin_peer(
        server: *mut sdtls_server,
        addr: *const u8,
        addr_len: usize,
        fingerprint: *const c_char,
    ) -> c_int;
    pub fn sdtls_server_unpin_peer(
        server: *mut sdtls_server,
        addr: *const u8,
        addr_len: usize,
    ) -> c_int;
    pub fn sdtls_server_counter_get(
        server: *const sdtls_server,
        counter: sdtls_server_counter,
    ) -> u64;
}
