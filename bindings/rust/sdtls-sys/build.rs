// SPDX-License-Identifier: Apache-2.0
//! Finds libsdtls, in this order:
//!   1. feature `vendored`: builds the C library with CMake (the `cmake`
//!      crate, in OUT_DIR) and links the self-contained static libsdtls.a
//!      (BoringSSL embedded, its symbols local) plus pthread. The source is
//!      the packaged crate's vendor/ (packaging/release.sh puts sdtls and
//!      the current engine, trimmed, there: nothing is fetched), else this
//!      repository; SDTLS_SOURCE_DIR overrides it. SDTLS_BORINGSSL_DIR is
//!      passed to CMake; without it, vendor/'s engine, else CMake fetches
//!      the engine's source with packaging/fetch-boringssl.sh.
//!   2. SDTLS_LIB_DIR (and SDTLS_INCLUDE_DIR): a directory holding
//!      libsdtls.so (or libsdtls.a with SDTLS_STATIC=1).
//!   3. pkg-config's `sdtls` module (SDTLS_STATIC=1 links it statically).
//!
//! Exports DEP_SDTLS_INCLUDE (the directory holding sdtls.h, when known) to
//! crates that depend on this one.
use std::env;
use std::path::Path;
#[cfg(feature = "vendored")]
use std::path::PathBuf;

fn main() {
    for var in [
        "SDTLS_LIB_DIR",
        "SDTLS_INCLUDE_DIR",
        "SDTLS_STATIC",
        "SDTLS_SOURCE_DIR",
        "SDTLS_BORINGSSL_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if env::var_os("CARGO_FEATURE_VENDORED").is_some() {
        vendored();
    } else if let Some(dir) = env::var_os("SDTLS_LIB_DIR") {
        from_dir(Path::new(&dir));
    } else {
        from_pkg_config();
    }
}

fn static_wanted() -> bool {
    matches!(env::var("SDTLS_STATIC").as_deref(), Ok("1") | Ok("yes") | Ok("true"))
}

fn export_include(dir: &Path) {
    println!("cargo:include={}", dir.display());
}

fn from_dir(lib_dir: &Path) {
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    if static_wanted() {
        println!("cargo:rustc-link-lib=static=sdtls");
        println!("cargo:rustc-link-lib=pthread");
    } else {
        println!("cargo:rustc-link-lib=dylib=sdtls");
    }
    if let Some(inc) = env::var_os("SDTLS_INCLUDE_DIR") {
        export_include(Path::new(&inc));
    }
}

fn from_pkg_config() {
    let mut cfg = pkg_config::Config::new();
    cfg.atleast_version("0.1").statik(static_wanted());
    match cfg.probe("sdtls") {
        Ok(lib) => {
            // The header is installed as <sdtls/sdtls.h>.
            for inc in &lib.include_paths {
                let dir = inc.join("sdtls");
                if dir.join("sdtls.h").exists() {
                    export_include(&dir);
                    break;
                }
            }
        }
        Err(e) => panic!(
            "\n\nsdtls-sys: libsdtls was not found.\n  pkg-config said: {e}\n\
             Install libsdtls (its sdtls.pc must be on PKG_CONFIG_PATH), or set SDTLS_LIB_DIR \
             (and SDTLS_INCLUDE_DIR) to a build of it, or enable the `vendored` feature to \
             build it from source.\n\n"
        ),
    }
}

#[cfg(feature = "vendored")]
fn vendored() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let packaged = manifest.join("vendor");
    let source = env::var_os("SDTLS_SOURCE_DIR").map(PathBuf::from).unwrap_or_else(|| {
        if packaged.join("CMakeLists.txt").exists() {
            packaged
        } else {
            manifest.join("../../..")
        }
    });
    let source = source.canonicalize().unwrap_or(source);
    if !source.join("abi/sdtls.h").exists() || !source.join("CMakeLists.txt").exists() {
        panic!(
            "sdtls-sys (vendored): {} is not the sdtls source tree; set SDTLS_SOURCE_DIR",
            source.display()
        );
    }
    for p in
        ["CMakeLists.txt", "src", "abi", "packaging/fetch-boringssl.sh", "packaging/apt-private.sh"]
    {
        if source.join(p).exists() {
            println!("cargo:rerun-if-changed={}", source.join(p).display());
        }
    }
    let engine = source.join("third_party/boringssl");

    let mut cm = cmake::Config::new(&source);
    // The engine is slow unoptimised: always a release build, whatever the
    // cargo profile.
    cm.profile("Release")
        .define("SDTLS_BUILD_TESTS", "OFF")
        .define("SDTLS_BUILD_TOOL", "OFF")
        .define("CMAKE_INSTALL_LIBDIR", "lib")
        .define("CMAKE_INSTALL_INCLUDEDIR", "include");
    if env::var_os("CMAKE_GENERATOR").is_none() && which("ninja") {
        cm.generator("Ninja");
    }
    if let Some(dir) = env::var_os("SDTLS_BORINGSSL_DIR") {
        cm.define("SDTLS_BORINGSSL_DIR", dir);
    } else if engine.join("gen/sources.cmake").exists() {
        cm.define("SDTLS_BORINGSSL_DIR", &engine);
    }
    let dst = cm.build();
    println!("cargo:rustc-link-search=native={}", dst.join("lib").display());
    println!("cargo:rustc-link-lib=static=sdtls");
    println!("cargo:rustc-link-lib=pthread");
    println!("cargo:root={}", dst.display());
    export_include(&dst.join("include/sdtls"));
}

#[cfg(feature = "vendored")]
fn which(prog: &str) -> bool {
    env::var_os("PATH")
        .map(|paths| env::split_paths(&paths).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}

#[cfg(not(feature = "vendored"))]
fn vendored() {
    unreachable!()
}
