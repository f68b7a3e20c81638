#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Python stage of tests/run.sh: builds the wheel the ordinary way
# (`pip wheel ./python`, isolated build with SWIG from PyPI), installs it in a
# fresh venv with the pinned test tools, and runs mypy --strict and pytest
# against the installed wheel (the sdtls tool of the release build for the
# interop tests).
#
#   sh python/run-tests.sh BUILD_DIR     (PYTHON may name the interpreter)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) # absolute: the steps below change directory
py=${PYTHON:-python3}
venv=$build/python-venv
dist=$build/python-dist

# Debian's python3 needs python3-venv for `-m venv`.
if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "python: installing python3-venv" >&2
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends python3-venv >&2
fi

rm -rf "$venv" "$dist"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/python/requirements-test.txt"

# The wheel: one persistent CMake build directory, ccache when there is one.
if command -v ccache >/dev/null 2>&1; then
    export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
    export CCACHE_NOHASHDIR=true
fi
PIP_CONSTRAINT="$root/python/constraints-build.txt" "$venv/bin/python" -m pip wheel -q --disable-pip-version-check \
    --no-deps -w "$dist" --config-settings=build-dir="$build/python-build" "$root/python"
wheel=$(ls "$dist"/sdtls-*.whl)
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-index "$wheel"

(cd "$root/python" && "$venv/bin/python" -m mypy --strict --cache-dir "$build/python-mypy")

# The engine tree the wheel's CMake build embedded, whose licence texts the
# wheel must carry (test_wheel.py).
engine=$(sed -n 's/^SDTLS_BORINGSSL_DIR:PATH=//p' "$build/python-build/CMakeCache.txt")

# The asyncio echo benchmark's smoke run (tests/bench/aio_echo.py), so that
# it keeps working: it fails on an error, never on a figure.
"$venv/bin/python" "$root/tests/bench/aio_echo.py" --quick --tool "$build/release/src/tool/sdtls"

cd "$root/python"
export SDTLS_WHEEL="$wheel" SDTLS_ENGINE_DIR="$engine" SDTLS_TOOL="$build/release/src/tool/sdtls" SDTLS_TEST_STRICT=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests
