#!/bin/sh
# The Java stage of tests/run.sh: builds the Java binding's JNI library in
# the given CMake build (SDTLS_BUILD_JAVA=ON: SWIG over bindings/sdtls.i,
# linked with that build's libsdtls.a) and runs Maven's compile and the JUnit
# tests against it, offline after the first run (Maven's repository is
# BUILD_DIR/java/m2, or MAVEN_REPO).
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
exec mvn -q -B -f "$root/bindings/java/pom.xml" -Dsdtls.build.dir="$build" -Dmaven.repo.local="${MAVEN_REPO:-$build/java/m2}" test
