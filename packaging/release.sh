#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Release artefacts from this checkout's HEAD (committed files only, so a
# dirty tree changes nothing), into OUT_DIR (default dist/):
#   - sdtls-VERSION.tar.gz: the Python sdist. It carries the current engine
#     (DTLS 1.3, X25519MLKEM768; the tree packaging/fetch-boringssl-current.sh
#     gives, cached) trimmed to what the build compiles plus its licence
#     files (packaging/trim-engine.py) in third_party/boringssl, so
#     `pip install sdtls-VERSION.tar.gz` needs a C/C++ compiler and PyPI
#     (scikit-build-core, SWIG, and CMake when the machine has none) and
#     nothing else: no apt, no clone;
#   - sdtls-VERSION-{cp311,cp39}-abi3-manylinux_2_17_{x86_64,aarch64}.whl,
#     built from the sdist with zig for glibc 2.17 (below);
#   - sdtls-sys-VERSION.crate (with the C library and the trimmed engine
#     for its `vendored` feature) and sdtls-VERSION.crate;
#   - sdtls-VERSION.jar (the Java binding, Maven's dev.sdtls:sdtls, with
#     its JNI library for linux-ARCH of each wheel, linked with the
#     libsdtls.a of that wheel's build), its -sources.jar, -javadoc.jar
#     and .pom (below);
#   - SHA256SUMS of every artefact.
# Archives are reproducible: SOURCE_DATE_EPOCH is HEAD's commit time and
# scikit-build-core writes a sorted, normalised sdist.
# The artefacts' tests are tests/release/*.sh (the release stage of
# tests/run.sh).
#
#   sh packaging/release.sh [OUT_DIR]
#   SDTLS_CURRENT_ENGINE_DIR   an upstream-layout tree to embed instead
#   SDTLS_RELEASE_CRATES=0     no Rust crates
#   SDTLS_RELEASE_JAR=0        no jar
#   SDTLS_RELEASE_ARCHES       the wheels' and the jar's architectures
#                              (default "x86_64 aarch64"; empty: the sdist
#                              alone, no jar)
#   MAVEN_REPO                 Maven's local repository for the jar's build
#                              (default: Maven's, ~/.m2/repository)
#   SDTLS_RELEASE_BUILD        where the wheels are built (default
#                              build/release-wheels; kept for the next run)
#   SDTLS_RELEASE_TOOLS        the venv of the release tools (created with
#                              packaging/release-requirements.txt; default
#                              build/release-tools)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tools=${SDTLS_RELEASE_TOOLS:-$root/build/release-tools}
wheel_build=${SDTLS_RELEASE_BUILD:-$root/build/release-wheels}
say() { printf 'release: %s\n' "$*" >&2; }

version=$(sed -n 's/^#define SDTLS_VERSION_STRING "\(.*\)"$/\1/p' "$root/abi/sdtls.h")
[ -n "$version" ] || { say "no SDTLS_VERSION_STRING in abi/sdtls.h"; exit 1; }
SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct HEAD)
export SOURCE_DATE_EPOCH

tree=${SDTLS_CURRENT_ENGINE_DIR:-$(sh "$root/packaging/fetch-boringssl-current.sh")}

if [ ! -x "$tools/bin/python" ]; then
    python3 -m venv "$tools"
fi
"$tools/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$root/packaging/release-requirements.txt"

work=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-release.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- the Python sdist ------------------------------------------------------
# The files python/CMakeLists.txt builds from (sdtls as a subproject: no
# tests, tool or install rules), at the repository's layout, with the
# trimmed engine and a pyproject.toml at the top.
stage=$work/sdist
mkdir -p "$stage"
git -C "$root" archive --format=tar HEAD CMakeLists.txt LICENSE NOTICE abi/sdtls.h abi/sdtls.map \
    src bindings/sdtls.i bindings/python python/CMakeLists.txt python/README.md python/LICENSE \
    python/NOTICE python/pyproject.toml python/src | tar -x -C "$stage"
python3 "$root/packaging/trim-engine.py" "$tree" "$stage/third_party/boringssl" >&2
# python/pyproject.toml, seen from the top: the one place for the metadata
# (the version is still abi/sdtls.h's); CMake's source is python/.
python3 - "$stage/python/pyproject.toml" >"$stage/pyproject.toml" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
subs = [
    ('readme = "README.md"', 'readme = "python/README.md"'),
    ('input = "../abi/sdtls.h"', 'input = "abi/sdtls.h"'),
    ('wheel.packages = ["src/sdtls"]', 'wheel.packages = ["python/src/sdtls"]'),
    ('[tool.scikit-build]\n', '[tool.scikit-build]\ncmake.source-dir = "python"\n'),
]
for old, new in subs:
    if text.count(old) != 1:
        sys.exit(f"release: python/pyproject.toml no longer has {old!r} once")
    text = text.replace(old, new)
# Only what the sdist needs: mypy and pytest settings stay in the repository.
text = text[: text.index("[tool.mypy]")].rstrip() + "\n"
sys.stdout.write(text)
EOF
rm "$stage/python/pyproject.toml"
say "sdist of sdtls $version (engine $(cat "$stage/third_party/boringssl/SDTLS_ENGINE"))"
rm -f "$out/sdtls-$version.tar.gz"
"$tools/bin/python" -m build --sdist --outdir "$out" "$stage" >&2
"$tools/bin/python" -m twine check --strict "$out/sdtls-$version.tar.gz" >&2

# ---- manylinux_2_17 wheels --------------------------------------------------
# Built from the sdist (what a user who builds would get), without
# containers: zig (ziglang from PyPI, pinned) compiles, archives and links
# for glibc 2.17 of the target, as `maturin --zig` does; `auditwheel
# repair` then gives the wheel its manylinux_2_17 tag once it has checked
# the symbols (nothing to graft: the module needs only glibc). Two abi3
# wheels per architecture, as cryptography ships: cp311-abi3
# (python/pyproject.toml's wheel.py-api), which borrows bytes-like
# arguments through the buffer protocol the limited API has from CPython
# 3.11, and cp39-abi3 for 3.9 and 3.10, which copies those that are not
# bytes (bindings/python/typemaps.i); pip takes the newest tag an
# interpreter accepts. Both from one build directory: only the module is
# compiled twice.
wheel_for() { # ARCH: x86_64 or aarch64
    dir=$wheel_build/$1
    z=$dir/zig # a fixed compiler path, which CMake's cache keeps
    mkdir -p "$z"
    # The zig executable itself: pip's isolated build hides the tools' venv
    # from `python -m ziglang`.
    zig=$("$tools/bin/python" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
    # ccache knows the compiler by the wrapper's content (below): zig's
    # version is in it, and a build in another directory hits the same
    # entries.
    for t in cc c++ ar ranlib; do
        target=
        case $t in cc | c++) target=" -target $1-linux-gnu.2.17" ;; esac
        printf '#!/bin/sh\n# zig %s\nexec "%s" %s%s "$@"\n' "$("$zig" version)" "$zig" "$t" "$target" >"$z/$t"
        chmod +x "$z/$t"
    done
    cross=
    if [ "$1" != "$(uname -m)" ]; then
        # libsdtls.a's object is made with ld -r and objcopy
        # (src/CMakeLists.txt): the target's binutils (Debian's
        # binutils-aarch64-linux-gnu).
        for t in ld objcopy; do
            command -v "$1-linux-gnu-$t" >/dev/null ||
                { say "no $1-linux-gnu-$t: apt-get install binutils-$1-linux-gnu"; exit 1; }
        done
        cross="-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=$1"
        cross="$cross -DCMAKE_LINKER=$(command -v "$1-linux-gnu-ld")"
        cross="$cross -DCMAKE_OBJCOPY=$(command -v "$1-linux-gnu-objcopy")"
    fi
    say "wheel for $1 (zig $("$zig" version), glibc 2.17)"
    # The sdist unpacked in a fixed place per architecture, with a build
    # directory beside it: ninja and ccache (when there is one) find their
    # work again in the next run (the paths do not reach the module: see
    # python/CMakeLists.txt's -ffile-prefix-map).
    rm -rf "$dir/src"
    mkdir -p "$dir/src"
    tar -xzf "$out/sdtls-$version.tar.gz" -C "$dir/src" --strip-components=1
    launcher=
    export CCACHE_COMPILERCHECK=content
    if command -v ccache >/dev/null 2>&1; then
        launcher="-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
    fi
    # auditwheel offers this machine's architecture's platforms only; for
    # another, `auto` gives the oldest its symbols allow (for aarch64 that
    # is manylinux_2_17 itself: tests/release/wheel_test.sh checks the tag).
    plat=manylinux_2_17_$1
    [ -z "$cross" ] || plat=auto
    # cp311 last: the build directory is left as the jar's JNI library and
    # the next run's cp311 wheel expect it.
    for api in cp39 cp311; do
        wheels=$work/wheels-$1-$api
        CC=$z/cc CXX=$z/c++ CMAKE_ARGS="-DCMAKE_AR=$z/ar -DCMAKE_RANLIB=$z/ranlib $cross $launcher" \
            PIP_NO_CACHE_DIR=1 "$tools/bin/python" -m pip wheel -q --disable-pip-version-check \
            --no-deps --config-settings=build-dir="$dir/build" --config-settings=wheel.py-api="$api" \
            -w "$wheels" "$dir/src" >&2
        # scikit-build-core tags the wheel for this machine (linux_x86_64);
        # auditwheel finds the module by the tag's architecture.
        if [ -n "$cross" ]; then
            "$tools/bin/python" -m wheel tags --remove --platform-tag "linux_$1" "$wheels"/sdtls-*.whl >&2
        fi
        PATH=$tools/bin:$PATH "$tools/bin/python" -m auditwheel repair --plat "$plat" \
            --only-plat -w "$out" "$wheels"/sdtls-*.whl >&2
    done
}

# ---- the jar's JNI libraries ---------------------------------------------------
# One per wheel architecture, from that wheel's build (above): its libsdtls.a
# holds the engine compiled by zig for glibc 2.17, so the engine is compiled
# once per architecture for both artefacts. The SWIG wrapper is made once
# (C that does not depend on the architecture, and the internal Java
# classes), by the pinned SWIG of the release tools; jni.h is the JDK's
# (its types are the same on every Linux architecture). The flags are
# bindings/java/CMakeLists.txt's, and the exports the Python module's way:
# a version script keeps the JNI functions alone global (zig's linker has no
# --exclude-libs), and zig links libc++'s runtime, which the engine needs,
# statically.
jar=
if [ "${SDTLS_RELEASE_JAR:-1}" != 0 ] && [ -n "${SDTLS_RELEASE_ARCHES-x86_64 aarch64}" ]; then
    jar=$work/jar
    for t in javac mvn; do
        command -v $t >/dev/null || { say "no $t for the jar (SDTLS_RELEASE_JAR=0 builds none)"; exit 1; }
    done
    jdk=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
    # The Java project as committed, and a stand-in for the CMake build
    # directory bindings/java/pom.xml reads (sdtls.build.dir): the generated
    # classes and the engine's licence texts.
    mkdir -p "$jar/src" "$jar/build/bindings/java/src/dev/sdtls/internal" "$jar/native"
    git -C "$root" archive --format=tar HEAD LICENSE NOTICE abi/sdtls.h bindings/sdtls.i bindings/java |
        tar -x -C "$jar/src"
    "$tools/bin/swig" -java -package dev.sdtls.internal -I"$jar/src/bindings" -I"$jar/src/abi" \
        -o "$jar/sdtls_java_wrap.c" -outdir "$jar/build/bindings/java/src/dev/sdtls/internal" \
        "$jar/src/bindings/sdtls.i" >&2
    printf '{\n  global: Java_*;\n  local: *;\n};\n' >"$jar/jni.map"
fi
jni_for() { # ARCH, after wheel_for ARCH
    dir=$wheel_build/$1
    lib=$jar/native/native/linux-$1/libsdtls_java.so
    mkdir -p "$(dirname "$lib")"
    say "JNI library for $1"
    # -O3 -DNDEBUG as CMake's Release build of the wheel's module, also at
    # the link: zig builds the libc++ runtime it links per optimisation mode,
    # so this one reuses the runtime the wheel's link built and cached.
    "$dir/zig/cc" -std=c11 -O3 -DNDEBUG -fPIC -fvisibility=hidden -fno-strict-aliasing -D_DEFAULT_SOURCE \
        -ffile-prefix-map="$jar/"= -I"$jar/src/abi" -I"$jdk/include" -I"$jdk/include/linux" \
        -c "$jar/sdtls_java_wrap.c" -o "$jar/wrap-$1.o"
    "$dir/zig/c++" -O3 -DNDEBUG -shared -o "$lib" "$jar/wrap-$1.o" "$dir/build/sdtls/src/libsdtls.a" -lpthread \
        -Wl,--version-script="$jar/jni.map" -Wl,-z,defs -Wl,--strip-all
    # The licence texts of the engine inside, as the wheel carries them.
    if [ ! -d "$jar/build/bindings/java/licenses/boringssl" ]; then
        mkdir -p "$jar/build/bindings/java/licenses"
        cp -R "$dir/build/sdtls/bindings/python/engine-licenses" "$jar/build/bindings/java/licenses/boringssl"
    fi
}

rm -f "$out"/sdtls-"$version"-*.whl
for arch in ${SDTLS_RELEASE_ARCHES-x86_64 aarch64}; do
    wheel_for "$arch"
    for w in "$out"/sdtls-"$version"-*"_$arch.whl"; do
        "$tools/bin/python" -m auditwheel show "$w" >&2
        # No function of the stable ABI newer than the wheel's tag (cp39 or cp311).
        "$tools/bin/abi3audit" --strict "$w" >&2
    done
    "$tools/bin/python" -m twine check --strict "$out"/sdtls-"$version"-*"_$arch.whl" >&2
    [ -z "$jar" ] || jni_for "$arch"
done

# ---- the jar -------------------------------------------------------------------
# bindings/java/pom.xml's release profile: the classes, LICENSE, NOTICE, the
# engine's licence texts and the JNI libraries in the jar, the sources and
# javadoc jars beside it, entries sorted and dated SOURCE_DATE_EPOCH
# (project.build.outputTimestamp). The tests ran in the Java stage of
# tests/run.sh; tests/release/jar_test.sh tests the jar as a dependency.
rm -f "$out/sdtls-$version.jar" "$out/sdtls-$version.pom" "$out"/sdtls-"$version"-*.jar
if [ -n "$jar" ]; then
    say "jar of sdtls $version ($(cd "$jar/native/native" && echo *))"
    mvn -q -B -f "$jar/src/bindings/java/pom.xml" -P release -Dmaven.test.skip=true \
        -Dsdtls.build.dir="$jar/build" -Dsdtls.native.dir="$jar/native" \
        -Dproject.build.outputTimestamp="$SOURCE_DATE_EPOCH" \
        ${MAVEN_REPO:+-Dmaven.repo.local="$MAVEN_REPO"} package >&2
    for f in sdtls-"$version".jar sdtls-"$version"-sources.jar sdtls-"$version"-javadoc.jar; do
        cp "$jar/build/bindings/java/maven/$f" "$out/"
    done
    # The POM a Maven repository serves beside the jar.
    cp "$jar/src/bindings/java/pom.xml" "$out/sdtls-$version.pom"
fi

# ---- Rust crates --------------------------------------------------------------
# sdtls-sys carries, in vendor/, what its `vendored` feature builds: the C
# library's source and the trimmed engine (build.rs looks there first), so
# the packaged crate builds offline; sdtls depends on it. The workspace of
# bindings/rust as committed, with publishing allowed for the two (the
# repository keeps it off; sdtls-interop stays unpublished).
# `cargo package` does not verify (a default-feature build of sdtls-sys
# needs an installed libsdtls): tests/release/crate_test.sh builds the
# packaged crates with `vendored` in a new project.
if [ "${SDTLS_RELEASE_CRATES:-1}" != 0 ]; then
    crates=$work/crates
    mkdir -p "$crates"
    # (with the licence files the crates' LICENSE and NOTICE link to)
    git -C "$root" archive --format=tar HEAD bindings/rust LICENSE NOTICE | tar -x -C "$crates"
    ws=$crates/bindings/rust
    vendor=$ws/sdtls-sys/vendor
    mkdir -p "$vendor"
    git -C "$root" archive --format=tar HEAD CMakeLists.txt LICENSE NOTICE abi/sdtls.h abi/sdtls.map \
        abi/symbols-in-versions abi/man src packaging/sdtls.pc.in packaging/sdtls-static.pc.in \
        packaging/cmake | tar -x -C "$vendor"
    python3 "$root/packaging/trim-engine.py" "$tree" "$vendor/third_party/boringssl" >&2
    sed -i 's/^publish = false$/publish = true/' "$ws/Cargo.toml"
    (cd "$ws" && cargo package -q --no-verify --allow-dirty -p sdtls-sys -p sdtls >&2 &&
        cargo publish -q --dry-run --no-verify --allow-dirty -p sdtls-sys -p sdtls >&2)
    for c in sdtls-sys sdtls; do
        rm -f "$out/$c-$version.crate"
        cp "$ws/target/package/$c-$version.crate" "$out/"
    done
fi

# ---- checksums -------------------------------------------------------------
(cd "$out" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort |
    xargs sha256sum >SHA256SUMS)
say "$(cat "$out/SHA256SUMS")"
