#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: installs what is missing, builds sdtls (and the
# embedded BoringSSL) in build/, runs the C tests under ASan+UBSan, fuzzes
# (clang, libFuzzer) and runs the threads test under TSan, then
# every test through ctest on a Release build made with Debian's hardening
# flags, as a distribution builds it, and the Go, Python, Rust and Java
# packages' suites against that build, with processes of different languages
# talking to each other. Warnings are errors in every C build.
# A fleet stage puts three servers of the release build behind nginx in
# network namespaces (as root).
# A second-engine stage builds and tests the same with a current BoringSSL
# (see below), a release stage builds and tests the artefacts of
# packaging/release.sh, a stage runs the Quick start (packaging/demo.sh) as a user
# without root, and a packaging stage builds, installs, tests and purges the
# Debian packages. The last lines are ctest's summary (Debian's engine).
#
#   sh tests/run.sh            (BUILD_DIR and JOBS may be set)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
sh "$root/packaging/setup-debian.sh" test

# Sanitizers first: the in-process C tests (simulator, server, ABI). (The
# Python module of this build comes after the Python stage, whose venv it is
# built for: off until then, also when an earlier run left it on.)
cmake -S "$root" -B "$build/asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSDTLS_SANITIZE=ON \
      -DSDTLS_WERROR=ON -DSDTLS_BUILD_TOOL=OFF -DSDTLS_BUILD_PYTHON=OFF >/dev/null
ninja -C "$build/asan" -j "$jobs"
(cd "$build/asan" && ctest -j "$jobs" -L memcheck --output-on-failure)

# ---- Stage: fuzzing and ThreadSanitizer (tests/fuzz/README.md) ----------
# The libFuzzer targets: clang build, seeds from real handshakes, every
# regression reproducer replayed, then FUZZ_SECONDS (30) per target, two at
# a time. Then the threads test under ThreadSanitizer. SDTLS_SKIP_FUZZ=1
# skips the stage (e.g. for a quick local run).
if [ "${SDTLS_SKIP_FUZZ:-0}" != 1 ]; then
    BUILD_DIR=$build FUZZ_JOBS=${FUZZ_JOBS:-$jobs} sh "$root/tests/fuzz/run.sh"
    cmake -S "$root" -B "$build/tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSDTLS_TSAN=ON \
          -DSDTLS_WERROR=ON -DSDTLS_BUILD_TOOL=OFF >/dev/null
    ninja -C "$build/tsan" -j "$jobs" threads_test >/dev/null
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 "$build/tsan/tests/torture/threads_test"
fi
# ---- end of the fuzzing and ThreadSanitizer stage ------------------------

# Debian's build flags with every hardening feature (what dpkg-buildpackage
# passes to a package build).
flags() { DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1"; }
CFLAGS="$(flags CPPFLAGS) $(flags CFLAGS)" CXXFLAGS="$(flags CPPFLAGS) $(flags CXXFLAGS)" \
LDFLAGS="$(flags LDFLAGS)" \
  cmake -S "$root" -B "$build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSDTLS_WERROR=ON >/dev/null
ninja -C "$build/release" -j "$jobs"

# ---- A fleet behind a load balancer (tests/fleet/fleet_test.sh) ------------
# Three `sdtls server` of this release build behind Debian's nginx (stream
# module, installed when missing) in network namespaces made for the run:
# 500 clients, a cookie moved between backends, a backend killed (its
# clients resume elsewhere), ticket rotations. About a minute. Needs root:
# as another user it says it skips. SDTLS_SKIP_FLEET=1 skips it.
if [ "${SDTLS_SKIP_FLEET:-0}" != 1 ]; then
    stage_start=$(date +%s)
    bash "$root/tests/fleet/fleet_test.sh" "$build/release" || [ $? -eq 77 ]
    echo "fleet: $(($(date +%s) - stage_start)) s"
fi
# ----------------------------------------------------------------------------

# --- Go binding (bindings/go) -------------------------------------------
# go vet, go test -race (interop with openssl and pion/dtls included) and the
# static link, against the release build just made; about a minute.
sh "$root/bindings/go/test.sh" "$build/release"
# --- end of the Go binding -----------------------------------------------

# ---- Python (bindings/python, python/) --------------------------------------
# Builds the wheel with pip, installs it in a fresh venv and runs mypy and
# pytest against it (interop with the tool just built). Its own script:
sh "$root/python/run-tests.sh" "$build"
# WebRTC against a real browser (tests/webrtc/browser_test.sh): Debian's
# headless Chromium (installed when missing) and examples/webrtc over the
# wheel just tested, on loopback: media both ways through DTLS-SRTP, two
# browsers on one port, a wrong fingerprint failing fast. About 20 s; exits
# 77 (skipped, with the reason) only where Chromium cannot be installed.
sh "$root/tests/webrtc/browser_test.sh" "$build/python-venv/bin/python" || [ $? -eq 77 ]
# Then the Python suite under ASan+UBSan: the ASan build above with its
# Python module (over its sanitized libsdtls.so, for the venv's interpreter),
# run with the sanitizer runtimes preloaded (python_pytest; see
# bindings/python/CMakeLists.txt). Two minutes; the interop tests skip (no
# tool in that build; they ran just above).
cmake -S "$root" -B "$build/asan" -DSDTLS_BUILD_PYTHON=ON -DPython_EXECUTABLE="$build/python-venv/bin/python" >/dev/null
ninja -C "$build/asan" -j "$jobs" sdtls_python
(cd "$build/asan" && ctest --output-on-failure --no-tests=error -R '^python_pytest$')
# ------------------------------------------------------------------------------

# ---- Rust bindings (bindings/rust): cargo test and clippy ---------------
sh "$root/bindings/rust/test.sh" "$build"

# ---- Cross-language interop (tests/interop/cross_language.sh) -----------
# Real processes over UDP on 127.0.0.1, data both ways: Go client <-> Python
# server, Rust client <-> C tool server, Go client <-> Rust server. Reuses
# what the three stages above left in $build (the Go staging install, the
# venv, the Rust target directory); a missing peer fails it. Seconds.
bash "$root/tests/interop/cross_language.sh" "$build"
# ---- end of the cross-language interop stage ----------------------------

# ---- Java binding (bindings/java) ------------------------------------------
# Turns SDTLS_BUILD_JAVA on in the release build (SWIG, the JNI library over
# its libsdtls.a) and runs Maven's JUnit tests against it; under a minute
# once Maven's repository (in the build directory) is filled.
sh "$root/bindings/java/run-tests.sh" "$build/release"
# --- end of the Java binding ------------------------------------------------

# ---- Second engine ---------------------------------------------------------
# The same library, tool and tests built against a current BoringSSL (DTLS
# 1.3, X25519MLKEM768) from Debian's chromium source package, fetched once by
# packaging/fetch-boringssl-current.sh and cached (~/.cache/sdtls): the
# simulator, server, ABI, CLI, interop and DTLS 1.3 tests (dimpl included),
# then DTLS 1.2 between the two engines' tools; the Python suite
# (python_pytest, in the Python stage's venv, against the module built here),
# the Go, Rust and Java tests run on it too. A plain Release build
# (Debian's hardening flags are the release build's business above).
# SDTLS_CURRENT_ENGINE=0 skips the stage; SDTLS_CURRENT_ENGINE_DIR names
# another upstream-layout tree.
if [ "${SDTLS_CURRENT_ENGINE:-1}" != 0 ]; then
    stage_start=$(date +%s)
    tree=${SDTLS_CURRENT_ENGINE_DIR:-$(sh "$root/packaging/fetch-boringssl-current.sh")}
    fetched=$(date +%s)
    # The dimpl peer's cargo build is kept beside the engine tree, so that it
    # is built once per machine, like the engine's source is fetched once.
    cmake -S "$root" -B "$build/current" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSDTLS_WERROR=ON \
          -DSDTLS_BORINGSSL_DIR="$tree" \
          -DSDTLS_BUILD_PYTHON=ON -DPython_EXECUTABLE="$build/python-venv/bin/python" \
          -DSDTLS_DIMPL_TARGET_DIR="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sdtls/dimpl-target" >/dev/null
    ninja -C "$build/current" -j "$jobs"
    built=$(date +%s)
    (cd "$build/current" && ctest -j "$jobs" --output-on-failure -E '^(valgrind_sim|bench)')
    sh "$root/bindings/go/test.sh" "$build/current"
    sh "$root/bindings/rust/test.sh" "$build" current
    MAVEN_REPO=$build/release/java/m2 sh "$root/bindings/java/run-tests.sh" "$build/current"
    # The browser against the Python module built on this engine: which DTLS
    # version and group Chromium negotiates with it (printed per run).
    sh "$root/tests/webrtc/browser_test.sh" "$build/python-venv/bin/python" "$build/current/python" || [ $? -eq 77 ]
    bash "$root/tests/dtls13/engines_fallback.sh" "$build/release/src/tool/sdtls" \
        "$build/current/src/tool/sdtls" "$build/current/tests/dtls13/fallback"
    echo "second engine ($tree): fetch $((fetched - stage_start)) s," \
         "build $((built - fetched)) s, tests $(($(date +%s) - built)) s"
fi
# ----------------------------------------------------------------------------

# ---- Release artefacts (packaging/release.sh, tests/release) --------------
# From this checkout's HEAD: the Python sdist carrying the current engine
# trimmed (its build fetches nothing), the two crates and SHA256SUMS in
# $build/dist; then each as its users install it: the sdist with pip in a
# clean venv with no cache, an empty home and apt unusable (the engine
# compiled from the sdist: about 6 minutes here), exchanging data over
# DTLS 1.3 with X25519MLKEM768 with the current engine's tool (so after the
# second-engine stage); the two crates in a new project (sdtls-sys's
# `vendored` build from the engine it carries); the Go module from a module
# cache copy; the sdist and crates built once more in other directories,
# compared byte for byte.
# The manylinux_2_17 wheels (cp311-abi3 and cp39-abi3, the latter also run
# by Debian 11's CPython 3.9; x86_64, and aarch64 tested under qemu-aarch64)
# and the jar (its JNI libraries linked with those wheels' libsdtls.a, for
# the same architectures; tests/release/jar_test.sh: a Maven project that
# depends on it, offline, its program also run under qemu-aarch64) are
# built with zig, which compiles the engine once per architecture (about 5
# minutes each on 2 idle cores; the reproducibility check builds the x86_64
# wheel once more); SDTLS_RELEASE_WHEELS=0 leaves them out.
# SDTLS_SKIP_RELEASE=1 (or SDTLS_CURRENT_ENGINE=0) skips the stage.
if [ "${SDTLS_SKIP_RELEASE:-0}" != 1 ] && [ "${SDTLS_CURRENT_ENGINE:-1}" != 0 ]; then
    stage_start=$(date +%s)
    export SDTLS_RELEASE_TOOLS="$build/release-tools" SDTLS_RELEASE_BUILD="$build/release-wheels"
    # The jar's Maven plugins beside the Java stage's.
    export MAVEN_REPO="$build/release/java/m2"
    arches=
    if [ "${SDTLS_RELEASE_WHEELS:-1}" != 0 ]; then
        # The aarch64 wheel needs the target's binutils to build and Debian's
        # arm64 CPython under qemu-aarch64 to be tested: apt, as root, once
        # (as another user it says it skips, and so is the aarch64 wheel).
        arches=x86_64
        if arm64_python=$(sh "$root/tests/release/arm64_sysroot.sh" "$build/arm64-sysroot"); then
            arches="x86_64 aarch64"
        else
            [ $? -eq 77 ] || exit 1
        fi
    else
        echo "release: wheels and jar not built (SDTLS_RELEASE_WHEELS=0)"
    fi
    rm -rf "$build/dist"
    SDTLS_RELEASE_ARCHES=$arches sh "$root/packaging/release.sh" "$build/dist"
    built=$(date +%s)
    tool=$build/current/src/tool/sdtls
    sh "$root/tests/release/sdist_test.sh" "$build"/dist/sdtls-*.tar.gz "$tool"
    # The cp39-abi3 wheels also under Debian 11's CPython 3.9 (no root).
    py39_amd64= py39_arm64=
    if [ -n "$arches" ]; then
        if py39_amd64=$(sh "$root/tests/release/python39.sh" "$build/python39" amd64); then
            case $arches in *aarch64*)
                py39_arm64=$(sh "$root/tests/release/python39.sh" "$build/python39" arm64) || [ $? -eq 77 ] ;;
            esac
        else
            [ $? -eq 77 ] || exit 1
        fi
    fi
    for wheel in "$build"/dist/sdtls-*.whl; do
        [ -e "$wheel" ] || continue
        sh "$root/tests/release/wheel_test.sh" "$wheel" "$tool" "$build/release-tools/bin/python" ${py39_amd64:+"$py39_amd64"}
        case $wheel in *_aarch64.whl)
            sh "$root/tests/release/wheel_qemu_test.sh" "$wheel" "$tool" "$arm64_python" ${py39_arm64:+"$py39_arm64"} ;;
        esac
    done
    # The Python suite (but its checks of the Python stage's own wheel) on
    # the cp39-abi3 wheel, under the Python stage's venv: every call with
    # bytes-like arguments through the limited API's path without the
    # buffer protocol. About 20 s.
    for wheel in "$build"/dist/sdtls-*-cp39-abi3-*_"$(uname -m)".whl; do
        [ -e "$wheel" ] || continue
        rm -rf "$build/cp39-site"
        python3 -m zipfile -e "$wheel" "$build/cp39-site"
        (cd "$root/python" && export PYTHONPATH="$build/cp39-site" &&
            # (the wheel's module, not the one the Python stage installed in the venv)
            "$build/python-venv/bin/python" -c 'import sys, sdtls._sdtls_ext as m; sys.exit(None if "/cp39-site/" in m.__file__ else m.__file__)' &&
            SDTLS_TOOL="$tool" SDTLS_TEST_STRICT=1 \
            "$build/python-venv/bin/python" -m pytest -q -p no:cacheprovider --ignore tests/test_wheel.py tests)
        echo "release: the Python suite on $(basename "$wheel")"
    done
    # The jar (with aarch64, also run under qemu-aarch64 by the sysroot's arm64 JVM).
    arm64_sysroot=
    case $arches in *aarch64*) arm64_sysroot=$build/arm64-sysroot ;; esac
    [ -z "$arches" ] || sh "$root/tests/release/jar_test.sh" "$build/dist" "$tool" "$arches" ${arm64_sysroot:+"$arm64_sysroot"}
    # The crates: sdtls with `vendored` in a new project, from the .crate files.
    sh "$root/tests/release/crate_test.sh" "$build/dist"
    # The Go module from a module proxy and cache, over a prefix install.
    sh "$root/tests/release/go_module_test.sh" "$build/current" || [ $? -eq 77 ]
    # The sdist, the crates (and the x86_64 wheel when built) once more, in
    # other directories: the same bytes as those in $build/dist.
    SDTLS_RELEASE_ARCHES=${arches%% *} SDTLS_RELEASE_JAR=0 \
        sh "$root/tests/release/reproducible.sh" "$build/reproducible" "$build/dist"
    echo "release artefacts: build $((built - stage_start)) s, tests $(($(date +%s) - built)) s"
fi
# ----------------------------------------------------------------------------

# ---- Quick start without root (tests/pkg/demo_as_user_test.sh) ----------
# packaging/demo.sh as an unprivileged user (created for the run), with the
# build tools installed, no deb-src entry visible and an empty cache: the
# engine comes through apt's private state and is built once (a few
# minutes); with the tools missing, the apt-get line for an administrator.
# Needs root: as another user it says it skips. SDTLS_SKIP_DEMO_AS_USER=1
# skips it.
if [ "${SDTLS_SKIP_DEMO_AS_USER:-0}" != 1 ]; then
    sh "$root/tests/pkg/demo_as_user_test.sh" || [ $? -eq 77 ]
fi
# ----------------------------------------------------------------------------

# ---- Debian packages (tests/pkg/deb_test.sh) ----------------------------
# The source package from this checkout, dpkg-buildpackage with its own test
# suite (Debian's flags, the Python suite against python3-sdtls), lintian,
# the .debs installed with apt, their autopkgtests (pkg-config and CMake
# consumers, the tool, python3-sdtls), then purged; about 5 minutes. Needs
# root: as another user it says it skips. SDTLS_SKIP_DEB=1 skips it.
if [ "${SDTLS_SKIP_DEB:-0}" != 1 ]; then
    JOBS=$jobs sh "$root/tests/pkg/deb_test.sh" "$build/debian" || [ $? -eq 77 ]
fi
# ----------------------------------------------------------------------------

cd "$build/release"
exec ctest -j "$jobs" --output-on-failure
