#!/bin/bash
# The files the tool writes secrets to (--keylog, cert --key) and reads
# secrets or state from (--session, --ticket-secret-file, --key): a device or
# FIFO keeps its mode; a FIFO with nobody at the other end is refused at once,
# not waited on; --session must be a regular file (a device is not replaced);
# a pipe with a writer is still read (--key <(command)).
. "$(dirname "$0")/lib.sh"
setup "$@"

# Key log lines, DTLS 1.2 or 1.3 (as in keylog.sh).
KEYLOG_LINE='CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}|(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64}([0-9a-f]{32})?'

# expect_refused NAME REGEX CMD...: CMD (stdin /dev/null) exits 1 within
# 5 s with an error matching REGEX on stderr (NAME.err).
expect_refused() {
    local name=$1 re=$2
    shift 2
    timeout 5 "$@" </dev/null >"$name.out" 2>"$name.err"
    local rc=$?
    [ $rc -ne 124 ] || fail "$name: still waiting after 5 s"
    [ $rc -eq 1 ] || fail "$name: exit $rc, expected 1: $(cat "$name.err")"
    grep -Eq -- "$re" "$name.err" || fail "$name: expected /$re/: $(cat "$name.err")"
}

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
CLIENT=("$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost)

# A character device whose mode the test can watch: a scratch /dev/null
# (mknod, as root); else, not being root, /dev/null itself (which the tool
# then cannot chmod either). Root without mknod (a container without
# CAP_MKNOD, a nodev mount) has only the FIFO cases.
CHARDEV=
if mknod -m 666 null c 1 3 2>/dev/null && echo probe >null 2>/dev/null; then
    CHARDEV=$SCRATCH/null
elif [ "$(id -u)" -ne 0 ]; then
    CHARDEV=/dev/null
else
    rm -f null
    note "root without a scratch character device: only the FIFO cases"
fi

if [ -n "$CHARDEV" ]; then
    mode=$(stat -c %a "$CHARDEV")
    # A key log and a new key written to the device: its mode stays.
    echo dev | timeout 20 "${CLIENT[@]}" --keylog "$CHARDEV" >dev.out 2>dev.err ||
        fail "--keylog $CHARDEV: exit $?: $(cat dev.err)"
    [ "$(cat dev.out)" = dev ] || fail "--keylog $CHARDEV: no echo"
    [ "$(stat -c %a "$CHARDEV")" = "$mode" ] ||
        fail "--keylog changed the mode of $CHARDEV from $mode to $(stat -c %a "$CHARDEV")"
    "$SDTLS" cert --cert dev.pem --key "$CHARDEV" >devcert.out 2>devcert.err ||
        fail "cert --key $CHARDEV: exit $?: $(cat devcert.err)"
    [ "$(stat -c %a "$CHARDEV")" = "$mode" ] ||
        fail "cert --key changed the mode of $CHARDEV from $mode to $(stat -c %a "$CHARDEV")"
    # A session file must be a regular file: the device is refused before
    # the handshake, not replaced by the saved session after it.
    expect_refused session_dev "$CHARDEV: the session file is a character device, not a regular file" \
        "${CLIENT[@]}" --session "$CHARDEV"
    [ -c "$CHARDEV" ] || fail "--session replaced $CHARDEV"
    [ "$(stat -c %a "$CHARDEV")" = "$mode" ] || fail "--session changed the mode of $CHARDEV"
fi

# A FIFO as key log, with a reader (this shell, fd 8): the lines come through
# and its mode stays.
mkfifo -m 644 keys.fifo
exec 8<>keys.fifo
echo fifo | timeout 20 "${CLIENT[@]}" --keylog keys.fifo 8<&- >fifo.out 2>fifo.err ||
    fail "--keylog keys.fifo: exit $?: $(cat fifo.err)"
[ "$(cat fifo.out)" = fifo ] || fail "--keylog keys.fifo: no echo"
while IFS= read -r -t 2 -u 8 line; do
    printf '%s\n' "$line"
done >fifo.log
exec 8<&-
[ -s fifo.log ] || fail "no key log line came through keys.fifo"
grep -Evx "$KEYLOG_LINE" fifo.log && fail "unexpected lines through keys.fifo"
[ "$(stat -c %a keys.fifo)" = 644 ] || fail "--keylog changed the mode of keys.fifo to $(stat -c %a keys.fifo)"

# Without a reader: refused at once, not waited on.
expect_refused keylog_noreader 'keys\.fifo: cannot write the key log file: a FIFO with no reader' \
    "${CLIENT[@]}" --keylog keys.fifo
[ "$(stat -c %a keys.fifo)" = 644 ] || fail "keys.fifo mode $(stat -c %a keys.fifo)"

# FIFOs with no writer, read for a secret or state: refused at once.
mkfifo nowriter.fifo
expect_refused session_fifo 'nowriter\.fifo: the session file is a FIFO, not a regular file' \
    "${CLIENT[@]}" --session nowriter.fifo
expect_refused ticket_fifo 'nowriter\.fifo: nothing to read from the ticket secret file' \
    "$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --ticket-secret-file nowriter.fifo
expect_refused key_fifo 'nowriter\.fifo: nothing to read from the key file' \
    "$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key nowriter.fifo
expect_refused ca_fifo 'nowriter\.fifo: nothing to read from the CA file' \
    "${CLIENT[@]}" --ca nowriter.fifo
# A directory is no session, key or ticket secret either.
mkdir dir
expect_refused session_dir 'dir: the session file is a directory, not a regular file' \
    "${CLIENT[@]}" --session dir
expect_refused key_dir 'dir: the key file is a directory, not a regular file or a pipe' \
    "$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key dir

# A pipe with a writer is read: the key and the ticket secret from commands.
kill "$SERVER_PID"
wait_exit "$SERVER_PID" 5 || fail "server did not stop"
head -c 48 /dev/urandom >ticket.key
chmod 600 ticket.key
start_sdtls_server piped --listen 127.0.0.1:0 --cert srv.pem --key <(cat srv.key) --echo \
    --ticket-secret-file <(cat ticket.key)
echo piped | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
    --server-name localhost >piped-client.out 2>piped-client.err ||
    fail "client of the piped server: exit $?: $(cat piped-client.err)"
[ "$(cat piped-client.out)" = piped ] || fail "piped server: no echo"
echo PASS
