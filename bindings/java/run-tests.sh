#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Java stage of tests/run.sh: builds the Java binding's JNI library in
# the given CMake build (SDTLS_BUILD_JAVA=ON: SWIG over bindings/sdtls.i,
# linked with that build's libsdtls.a) and runs Maven's compile and the JUnit
# tests against it, offline after the first run (Maven's repository is
# BUILD_DIR/java/m2, or MAVEN_REPO), packs the jar and checks the licence
# files in it.
#
#   sh bindings/java/run-tests.sh BUILD_DIR      (tests/run.sh: its release build)
#
# Needs swig, a JDK (17) and Maven; installs the Debian packages that are
# missing (swig is Debian 12's 4.1; SWIG_EXECUTABLE may name another).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run-tests.sh BUILD_DIR}" && pwd)

missing=
command -v swig >/dev/null 2>&1 || [ -n "${SWIG_EXECUTABLE:-}" ] || missing="$missing swig"
command -v javac >/dev/null 2>&1 || missing="$missing openjdk-17-jdk-headless"
command -v mvn >/dev/null 2>&1 || missing="$missing maven"
if [ -n "$missing" ]; then
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "java: installing$missing" >&2
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >&2
fi

cmake -S "$root" -B "$build" -DSDTLS_BUILD_JAVA=ON ${SWIG_EXECUTABLE:+-DSWIG_EXECUTABLE="$SWIG_EXECUTABLE"} >/dev/null
cmake --build "$build" --target sdtls_java
# package: the JUnit tests, then the jar.
mvn -q -B -f "$root/bindings/java/pom.xml" -Dsdtls.build.dir="$build" -Dmaven.repo.local="${MAVEN_REPO:-$build/java/m2}" package

# The jar carries sdtls's LICENSE and NOTICE and the licence texts of the
# engine tree whose code the JNI library of this build holds, byte for byte.
engine=$(sed -n 's/^SDTLS_BORINGSSL_DIR:PATH=//p' "$build/CMakeCache.txt")
python3 - "$build"/bindings/java/maven/sdtls-*.jar "$root" "$engine" <<'PY'
import sys, zipfile
from pathlib import Path
jar, root, engine = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
expected = {"META-INF/LICENSE": root / "LICENSE", "META-INF/NOTICE": root / "NOTICE",
            "META-INF/boringssl/LICENSE": engine / "LICENSE"}
if (engine / "third_party/fiat/LICENSE").is_file():
    expected["META-INF/boringssl/third_party/fiat/LICENSE"] = engine / "third_party/fiat/LICENSE"
with zipfile.ZipFile(jar) as z:
    names = set(z.namelist())
    wrong = [n for n, src in expected.items() if n not in names or z.read(n) != src.read_bytes()]
if wrong:
    sys.exit(f"java: {jar} lacks, or has another text in, {', '.join(wrong)}")
print(f"java: {Path(jar).name} carries {', '.join(sorted(expected))}")
PY
