#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The release jar of packaging/release.sh as its users meet it:
#  - it carries a JNI library for linux-ARCH of each ARCH given, and only
#    those: of that architecture (ELF header), exporting JNI functions alone
#    (the engine, libsdtls's sdtls_* and libc++ stay inside), needing glibc
#    2.17's symbols or older and no library beyond glibc's;
#  - with its -sources.jar, -javadoc.jar and .pom, `mvn install:install-file`
#    puts it into a temporary local Maven repository, offline;
#  - a project outside the tree whose one dependency is dev.sdtls:sdtls
#    (tests/release/jar-consumer) is built from that repository, offline, and
#    its program, run by `mvn exec:exec` in a JVM of its own, makes a DTLS
#    echo with the C tool's server over loopback: DTLS 1.3 with
#    X25519MLKEM768, the current engine's defaults. The jar loads its own
#    library for this machine (no sdtls.library, no java.library.path);
#  - with an arm64 sysroot holding Debian's arm64 JVM
#    (tests/release/arm64_sysroot.sh), the same program with the same class
#    path under qemu-aarch64-static: the jar's aarch64 library, against the
#    x86_64 tool. Without one, the aarch64 library is checked, not run.
# The temporary repository starts as a copy of MAVEN_REPO (default
# ~/.m2/repository), where the Maven plugins the test uses are fetched once.
#
#   sh tests/release/jar_test.sh DIST_DIR TOOL "ARCH..." [ARM64_SYSROOT]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dist=$(cd "$1" && pwd)
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
arches=$3
arm64_sysroot=${4:-}
repo=${MAVEN_REPO:-$HOME/.m2/repository}
# Maven quiet and in batch mode, its output without the colour codes that
# Debian's Maven 3.8 writes even then; its exit status kept.
mvn() {
    rc=0
    text=$(command mvn -B -q "$@" 2>&1) || rc=$?
    printf '%s\n' "$text" | sed 's/\x1b\[[0-9;]*m//g' | grep -v '^$' || true
    return $rc
}
fail() { printf 'jar_test: FAIL: %s\n' "$*" >&2; exit 1; }

jar=$(find "$dist" -maxdepth 1 -name 'sdtls-*.jar' ! -name '*-sources.jar' ! -name '*-javadoc.jar')
[ "$(printf '%s\n' "$jar" | wc -l)" -eq 1 ] && [ -n "$jar" ] || fail "not one jar in $dist: $jar"
version=$(basename "$jar" .jar | sed 's/^sdtls-//')
for f in "sdtls-$version-sources.jar" "sdtls-$version-javadoc.jar" "sdtls-$version.pom"; do
    [ -s "$dist/$f" ] || fail "no $f beside $(basename "$jar")"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-jar-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- the native libraries ----------------------------------------------------
python3 -m zipfile -e "$jar" "$work/jar"
found=$(cd "$work/jar" && find native -type f | LC_ALL=C sort | tr '\n' ' ')
want=$(for a in $arches; do printf 'native/linux-%s/libsdtls_java.so\n' "$a"; done | LC_ALL=C sort | tr '\n' ' ')
[ "$found" = "$want" ] || fail "the jar carries [$found], not [$want]"
for a in $arches; do
    lib=$work/jar/native/linux-$a/libsdtls_java.so
    case $a in x86_64) machine="X86-64" ;; aarch64) machine="AArch64" ;; *) fail "no machine for $a" ;; esac
    readelf -h "$lib" | grep -q "Machine:.*$machine" || fail "$a: $(readelf -h "$lib" | grep Machine:)"
    # readelf reads every architecture's ELF; nm and objdump only this one's.
    exported=$(readelf --dyn-syms -W "$lib" | awk '$5 == "GLOBAL" && $7 != "UND" { sub(/@.*/, "", $8); print $8 }')
    [ -n "$exported" ] || fail "$a: exports nothing"
    others=$(printf '%s\n' "$exported" | grep -v '^Java_dev_sdtls_internal_' || true)
    [ -z "$others" ] || fail "$a: exports more than JNI functions: $(echo $others)"
    # The newest glibc symbol version it needs, and what it links.
    newest=$(readelf -V -W "$lib" | sed -n 's/.*Name: GLIBC_\([0-9.]*\).*/\1/p' | sort -V | tail -n 1)
    [ -n "$newest" ] || fail "$a: no glibc symbol versions"
    [ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -n 1)" = 2.17 ] ||
        fail "$a: needs GLIBC_$newest, newer than 2.17"
    needed=$(readelf -d -W "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    for n in $needed; do
        case $n in libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux-*) ;;
        *) fail "$a: needs $n, beyond glibc" ;;
        esac
    done
    echo "jar_test: $a: $(printf '%s\n' "$exported" | wc -l) JNI functions exported, GLIBC_$newest at most, needs $needed"
done

# ---- the jar as a dependency -------------------------------------------------
# The plugins the consumer's build uses, into MAVEN_REPO (a no-op once there).
mvn -Dmaven.repo.local="$repo" org.apache.maven.plugins:maven-install-plugin:3.1.2:help \
    org.codehaus.mojo:exec-maven-plugin:3.5.0:help >/dev/null ||
    fail "the Maven plugins could not be had"
[ -d "$repo/org/apache/maven/plugins/maven-compiler-plugin" ] ||
    fail "$repo lacks the compiler plugin: run bindings/java/run-tests.sh or release.sh with MAVEN_REPO first"
local_repo=$work/m2
cp -R "$repo" "$local_repo"
# A copy without any dev.sdtls artefact: only the jar under test can be found.
rm -rf "$local_repo/dev/sdtls"
mvn -o -Dmaven.repo.local="$local_repo" org.apache.maven.plugins:maven-install-plugin:3.1.2:install-file \
    -Dfile="$jar" -DpomFile="$dist/sdtls-$version.pom" -Dsources="$dist/sdtls-$version-sources.jar" \
    -Djavadoc="$dist/sdtls-$version-javadoc.jar" || fail "install:install-file"
cp -R "$here/jar-consumer" "$work/consumer"
sed -i "s/SDTLS_VERSION/$version/" "$work/consumer/pom.xml"
# No sdtls.library and no library path: the jar's own library is what loads.
out=$(cd "$work/consumer" && mvn -o -Dmaven.repo.local="$local_repo" -Dsdtls.tool="$tool" \
    compile exec:exec 2>&1) || fail "the consumer's build or run: $out"
summary=$(printf '%s\n' "$out" | grep '^DTLSv1\.3 .* X25519MLKEM768$') || fail "the consumer printed: $out"
echo "jar_test: $(basename "$jar") as a Maven dependency, $(uname -m) library loaded from the jar: $summary"

case " $arches " in *" aarch64 "*) ;; *) exit 0 ;; esac
[ -n "$arm64_sysroot" ] || { echo "jar_test: the aarch64 library checked, not run (no arm64 sysroot)"; exit 0; }
java_arm64=$arm64_sysroot/usr/lib/jvm/java-17-openjdk-arm64/bin/java
[ -x "$java_arm64" ] || fail "no arm64 JVM in $arm64_sysroot"
# FORK: the JVM starts the tool itself, not through its arm64 jspawnhelper
# (which the kernel could only run with qemu registered in binfmt_misc).
out=$(cd "$work/consumer" && qemu-aarch64-static -L "$arm64_sysroot" "$java_arm64" \
    -Djdk.lang.Process.launchMechanism=FORK -cp "target/classes:$local_repo/dev/sdtls/sdtls/$version/sdtls-$version.jar" example.Echo "$tool" 2>&1) ||
    fail "the consumer under qemu-aarch64: $out"
summary=$(printf '%s\n' "$out" | grep '^DTLSv1\.3 .* X25519MLKEM768$') || fail "the consumer under qemu-aarch64 printed: $out"
echo "jar_test: the same program under qemu-aarch64 (Debian's arm64 JVM), aarch64 library loaded from the jar: $summary"
