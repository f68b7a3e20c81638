# SPDX-License-Identifier: Apache-2.0
# apt in a PRIVATE state directory, for the fetch-boringssl scripts and
# tests/release/python39.sh (sourced, not run): deb-src (or deb) entries for
# Debian's main component are derived from the machine's own apt sources (so
# no host name is written here), and apt's lists, cache and sources live
# under the directory. /etc/apt and the system's lists stay as they are, so
# no root is needed.
#
#   apt_private_init DIR [SUITE [TYPE]]
#                                  writes DIR/sources.list: the machine's
#                                  suites, or release SUITE (and its
#                                  -security) instead; TYPE deb-src (the
#                                  default) or deb; fails if there is none
#   apt_private TOOL ARGS...       apt-get or apt-cache with every piece of
#                                  state in DIR (run apt_private_init first)

apt_private_dir=

# TYPE (deb-src or deb) lines from the machine's Debian entries (deb822 or
# one-line); keyrings named by the entries are kept. With a suite, each
# entry's suite is replaced by it (-security by its -security; -updates,
# -backports and -proposed-updates are left out); without, kept.
apt_private_derive() { # SUITE TYPE
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$1" -v type="$2" '
            function flush() {
                if (types ~ /deb/ && uri != "" && suites != "") {
                    n = split(suites, s, " ")
                    for (i = 1; i <= n; i++) {
                        if (suite == "") out = s[i]
                        else if (s[i] ~ /-security$/) out = suite "-security"
                        else if (s[i] ~ /-(updates|backports|proposed-updates)$/) out = ""
                        else out = suite
                        if (out == "" || seen[uri " " out]++) continue
                        opt = signed != "" ? "[signed-by=" signed "] " : ""
                        if (comps ~ /(^| )main( |$)/ && uri ~ /debian/)
                            print type " " opt uri " " out " main"
                    }
                }
                types = uri = suites = comps = signed = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^#/ { next }
            /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uri = $1 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
            /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $1 }
            END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        grep -E '^deb(-src)?[[:space:]]' "$f" | awk -v suite="$1" -v type="$2" '{
            i = 2; opt = ""
            if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opt = opt $i " "; i++ } opt = opt $i " "; i++ }
            uri = $i; s = $(i + 1)
            if (uri !~ /debian/) next
            if (suite == "") out = s
            else if (s ~ /-security$/) out = suite "-security"
            else if (s ~ /-(updates|backports|proposed-updates)$/) next
            else out = suite
            main = 0; for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
            if (main && !seen[uri " " out]++) print type " " opt uri " " out " main"
        }'
    done
}

apt_private_init() {
    apt_private_dir=$1
    mkdir -p "$1/lists/partial" "$1/archives/partial" "$1/parts"
    apt_private_derive "${2:-}" "${3:-deb-src}" | sort -u >"$1/sources.list.new"
    if [ ! -s "$1/sources.list.new" ]; then
        rm -f "$1/sources.list.new"
        return 1
    fi
    mv "$1/sources.list.new" "$1/sources.list"
}

apt_private() {
    tool=$1
    shift
    "$tool" -q -o Dir::Etc::sourcelist="$apt_private_dir/sources.list" \
        -o Dir::Etc::sourceparts="$apt_private_dir/parts" \
        -o Dir::State="$apt_private_dir" -o Dir::State::Lists="$apt_private_dir/lists" \
        -o Dir::State::status=/var/lib/dpkg/status \
        -o Dir::Cache="$apt_private_dir" -o Dir::Cache::archives="$apt_private_dir/archives" \
        -o Dir::Cache::srcpkgcache= -o Dir::Cache::pkgcache= \
        -o APT::Sandbox::User="$(id -un)" "$@"
}
