#!/bin/sh
# Installs the build into a scratch prefix, builds tests/abi/example.c against
# it with pkg-config alone, and runs it: the installed header, library,
# symlinks and sdtls.pc are enough for a user. The man pages of the API are
# installed too, where man finds them.
set -eu
build=$1 src=$2 cert=$3 key=$4
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
cmake --install "$build" --prefix "$dest/usr" >/dev/null
pcdir=$(dirname "$(find "$dest" -name sdtls.pc | head -n 1)")
export PKG_CONFIG_PATH="$pcdir"
# A build that names its prefix in sdtls.pc (SDTLS_PKGCONFIG_RELOCATABLE=OFF,
# as Debian's does) needs it pointed at the scratch one; the relocatable
# sdtls.pc gives the same (pkg_user_prefix tests it without this).
pkg_config() { pkg-config --define-variable=prefix="$dest/usr" "$@"; }
cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L "$src/example.c" \
   $(pkg_config --cflags --libs sdtls) -o "$dest/example"
out=$(LD_LIBRARY_PATH="$(pkg_config --variable=libdir sdtls)" "$dest/example" "$cert" "$key")
echo "$out"
echo "$out" | grep -Eq '^connected DTLSv1\.(2 TLS_ECDHE_ECDSA_WITH_|3 TLS_AES_|3 TLS_CHACHA20_)' ||
    { echo "FAIL: no handshake"; exit 1; }
echo "$out" | grep -q '^server received: hello, datagram world$' || { echo "FAIL: server got nothing"; exit 1; }
echo "$out" | grep -q '^client received: hello, datagram world$' || { echo "FAIL: no echo"; exit 1; }
echo "$out" | grep -q '^server state after close_notify: closed$' || { echo "FAIL: close_notify"; exit 1; }
[ -L "$(pkg_config --variable=libdir sdtls)/libsdtls.so.1" ] || { echo "FAIL: no libsdtls.so.1 link"; exit 1; }
for page in sdtls sdtls_conn sdtls_conn_receive; do
    [ -f "$dest/usr/share/man/man3/$page.3" ] || { echo "FAIL: no man page $page(3) under share/man/man3"; exit 1; }
done
if command -v man >/dev/null; then
    MANWIDTH=80 man -M "$dest/usr/share/man" 3 sdtls_conn_receive 2>/dev/null | grep -q '^ *sdtls_conn_receive()$' ||
        { echo "FAIL: man 3 sdtls_conn_receive does not describe sdtls_conn_receive()"; exit 1; }
fi
echo PASS
