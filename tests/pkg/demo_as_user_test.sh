#!/bin/sh
# README's Quick start as a user without root meets it on a fresh machine:
# packaging/demo.sh run by an unprivileged user (sdtls-demo, created for the
# run if missing) on a copy of this tree, with the build tools installed,
# with no deb-src entry visible (in a mount namespace, the machine's apt
# sources without their deb-src entries) and with a fresh HOME and
# XDG_CACHE_HOME. The engine's source must then come through apt in a
# private state directory under that cache, and the build, the certificate
# and the echo over DTLS must work. Before that (it takes a second), with
# dpkg's database seen empty (DPKG_ADMINDIR) so that every build tool looks
# missing, the same user's demo must stop with exit status 1 and the apt-get
# line to give an administrator, not with "sudo: not found".
#
# Needs root (useradd, the mount namespace): as another user it says it
# skips (exit 77). It downloads the engine's source (30 MB) and builds it
# once: a few minutes.
#
#   sh tests/pkg/demo_as_user_test.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
user=sdtls-demo
pkg=android-platform-external-boringssl
if [ "$(id -u)" -ne 0 ]; then
    echo "demo as a user without root: SKIPPED (run as root: it creates the user $user and hides deb-src entries in a mount namespace)"
    exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }

# The build tools, as an administrator would have installed them.
sh "$root/packaging/setup-debian.sh" build

created=
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"; [ -z "$created" ] || userdel "$user"' EXIT
if ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
    created=1
fi

# The user's clone: this tree's files (committed or not, ignored ones left out).
mkdir "$work/src" "$work/home" "$work/build"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$root" && git ls-files -co --exclude-standard -z) |
        tar -C "$root" --null -T - --ignore-failed-read -cf - | tar -C "$work/src" -xf -
else
    cp -a "$root/." "$work/src/"
    rm -rf "$work/src/build"
fi
chown -R "$user" "$work/src" "$work/home" "$work/build"

# The machine's apt sources without deb-src entries: one-line files lose
# their deb-src lines, deb822 stanzas the deb-src type (and go if it was
# their only one).
mkdir "$work/apt" "$work/apt/sources.list.d"
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in
        *.list) grep -Ev '^[[:space:]]*deb-src[[:space:]]' "$f" || true ;;
        *.sources) awk 'BEGIN { RS = ""; ORS = "\n\n" }
                        { n = split($0, line, "\n"); out = ""; keep = 1
                          for (i = 1; i <= n; i++) {
                              if (line[i] ~ /^Types:/) {
                                  t = line[i]; sub(/^Types:/, "", t); gsub(/deb-src/, "", t)
                                  if (t !~ /deb/) keep = 0
                                  line[i] = "Types: deb"
                              }
                              out = out line[i] "\n"
                          }
                          if (keep) print out }' "$f" ;;
    esac >"$work/apt/sources.list.d/${f##*/}"
done
binds="mount --bind '$work/apt/sources.list.d' /etc/apt/sources.list.d"
if [ -f /etc/apt/sources.list ]; then
    grep -Ev '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list >"$work/apt/sources.list" || true
    binds="$binds && mount --bind '$work/apt/sources.list' /etc/apt/sources.list"
fi

# as_user ENV... COMMAND...: in the namespace, as the user, in a session of
# its own (no terminal: sudo could not ask for a password), with a fresh
# HOME and cache and nothing else from this environment.
as_user() {
    unshare --mount --propagation private sh -c "$binds && exec \"\$@\"" as_user \
        setsid -w runuser -u "$user" -- env -i HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache" \
        PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@" </dev/null
}

# The precondition: apt, as the user sees it, has no source for the engine.
if as_user apt-get source --print-uris --only-source $pkg 2>/dev/null | grep -q '\.orig\.tar'; then
    fail "a deb-src entry for $pkg is still visible to $user"
fi

# Every build tool missing, no root, no sudo to use: the apt-get line for an
# administrator, exit status 1.
mkdir "$work/dpkg-empty"
: >"$work/dpkg-empty/status"
status=0
as_user DPKG_ADMINDIR="$work/dpkg-empty" BUILD_DIR="$work/build-missing" sh "$work/src/packaging/demo.sh" \
    >"$work/missing.out" 2>"$work/missing.err" || status=$?
cat "$work/missing.err"
[ $status -eq 1 ] || fail "with the build tools missing, the demo exited $status, not 1"
grep -Eq '^    apt-get install -y --no-install-recommends .*\<cmake\> .*\<g\+\+( |$)' "$work/missing.err" ||
    fail "no 'apt-get install ... cmake ... g++' line to give an administrator"
! grep -q 'not found' "$work/missing.err" || fail "$(grep 'not found' "$work/missing.err")"
[ ! -e "$work/build-missing" ] || fail "the demo went on building without the tools"
echo "ok: the build tools missing: the apt-get line for an administrator, exit status 1"

start=$(date +%s)
status=0
as_user BUILD_DIR="$work/build" sh "$work/src/packaging/demo.sh" >"$work/demo.out" 2>"$work/demo.err" || status=$?
took=$(($(date +%s) - start))
cat "$work/demo.out"
if [ $status -ne 0 ]; then
    tail -n 40 "$work/demo.err"
    fail "packaging/demo.sh as $user exited $status"
fi
! grep -q 'not found' "$work/demo.err" || fail "$(grep 'not found' "$work/demo.err")"
for line in hello 'from sdtls' 'over DTLS 1.2'; do
    grep -qx "$line" "$work/demo.out" || fail "the echo of '$line' is missing"
done
tool=$work/build/demo/src/tool/sdtls
grep -qxF "The sdtls tool is $tool. Try next:" "$work/demo.out" || fail "the demo does not say where the tool is"
grep -qxF "    $tool client --help" "$work/demo.out" || fail "the demo does not suggest '$tool client --help'"
grep -q 'README.md, section "Install"' "$work/demo.out" || fail "the demo does not point at README's Install section"
as_user "$tool" client --help >/dev/null || fail "$tool client --help failed"
[ -s "$work/home/.cache/sdtls/.apt/sources.list" ] ||
    fail "the engine's source did not come through apt's private state in the user's cache"
ls -d "$work/home/.cache/sdtls/$pkg"-*/ >/dev/null || fail "no engine tree in the user's cache"
echo "ok: packaging/demo.sh as $user, fresh cache, no deb-src entry: ${took} s (engine downloaded and built)"

echo PASS
