"""Handles are freed exactly once, whatever order the Python objects die in.

SDTLS_GC_ROUNDS scales the random test up. tests/run.sh runs the whole
suite under ASan and UBSan: python_pytest in the ASan build (SDTLS_SANITIZE)
with SDTLS_BUILD_PYTHON=ON, which preloads the sanitizer runtimes
(bindings/python/CMakeLists.txt). By hand, with a venv that has the test
tools:

    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSDTLS_SANITIZE=ON \
          -DSDTLS_BUILD_PYTHON=ON -DPython_EXECUTABLE=$VENV/bin/python
    ninja -C build/asan sdtls_python
    (cd build/asan && SDTLS_GC_ROUNDS=1000 ctest --output-on-failure -R '^python_pytest$')

(valgrind works too, but a CPython built without --with-valgrind reports
its own false positives.)
"""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import textwrap
import weakref
from typing import Callable

import pytest

import sdtls
from conftest import Certs, Link, make_link

ROUNDS = int(os.environ.get("SDTLS_GC_ROUNDS", "300"))


def connected_pair(certs: Certs, server: bool) -> Link:
    client = sdtls.Config(cadata=certs.cert)
    srv = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    link = make_link(client, srv, server=server)
    link.run(link.connected)
    return link


def test_config_dies_before_its_connections(certs: Certs) -> None:
    link = connected_pair(certs, server=False)
    del link  # config objects are already unreferenced; connections hold the C config
    gc.collect()
    cfg = sdtls.Config(cadata=certs.cert)
    conn = sdtls.Connection(cfg, "client", server_name="localhost")
    del cfg
    gc.collect()
    conn.start()
    assert conn.datagrams_to_send()


def test_server_dies_before_its_connection_views(certs: Certs) -> None:
    link = connected_pair(certs, server=True)
    views = [e.connection for e in link.b_events if isinstance(e, sdtls.PeerConnected)]
    assert len(views) == 1 and views[0].alive
    link.b = None  # type: ignore[assignment]
    del link
    gc.collect()
    view = views[0]
    assert not view.alive
    for attempt in (lambda: view.send(b"x"), lambda: view.state, view.close):
        try:
            attempt()
        except sdtls.ConnectionClosed:
            pass


def test_views_die_in_any_order_around_close(certs: Certs) -> None:
    link = connected_pair(certs, server=True)
    server = link.b
    assert isinstance(server, sdtls.Server)
    views = list(server.connections)
    server.close()
    del server, link
    gc.collect()
    assert not views[0].alive


def test_keylog_closure_and_exit(certs: Certs) -> None:
    """A key log closure that holds its own config, a connection left
    mid-handshake and a server with peers, all alive at interpreter exit."""
    code = textwrap.dedent(f"""
        import sdtls
        cert, key = {certs.cert!r}, {certs.key!r}
        lines = []
        cfg = sdtls.Config(cadata=cert)
        cfg.set_keylog(lambda line: lines.append((cfg, line)))
        conn = sdtls.Connection(cfg, "client", server_name="localhost")
        server = sdtls.Server(sdtls.Config(certificate=cert, private_key=key))
        conn.start(1.0)
        for _ in range(6):
            for d in conn.datagrams_to_send():
                server.receive_datagram(d, ("127.0.0.1", 9), 1.0)
            for d, a in server.datagrams_to_send():
                conn.receive_datagram(d, 1.0)
        views = server.connections
        assert lines and views
        half = sdtls.Connection(cfg, "client", server_name="localhost")
        half.start(1.0)
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_thousands_of_objects_dropped_in_random_orders(certs: Certs) -> None:
    rng = random.Random(int(os.environ.get("SDTLS_TEST_SEED", "7")))
    addr_n = 0
    for _ in range(ROUNDS):
        objs: list[object] = []
        ccfg = sdtls.Config(cadata=certs.cert)
        scfg = sdtls.Config(certificate=certs.cert, private_key=certs.key)
        objs += [ccfg, scfg]
        server = sdtls.Server(scfg)
        objs.append(server)
        for _ in range(rng.randint(1, 4)):
            conn = sdtls.Connection(ccfg, "client", server_name="localhost")
            objs.append(conn)
            conn.start(1.0)
            addr_n += 1
            addr = ("127.0.0.1", 1024 + addr_n % 60000)
            for _ in range(rng.randint(0, 5)):  # anywhere from nothing to connected
                for d in conn.datagrams_to_send():
                    server.receive_datagram(d, addr, 1.0)
                for d, a in server.datagrams_to_send():
                    if a == addr:
                        conn.receive_datagram(d, 1.0)
            while (e := server.next_event()) is not None:
                objs.append(e)
                if getattr(e, "connection", None) is not None:
                    objs.append(e.connection)  # type: ignore[attr-defined]
        if rng.random() < 0.3:
            server.close()
        del server, conn, ccfg, scfg
        if rng.random() < 0.2 and objs:
            e = rng.choice(objs)
            if isinstance(e, sdtls.ServerConnection):  # a view outlives everything
                try:
                    e.send(b"x")
                except sdtls.Error:
                    pass
        rng.shuffle(objs)
        while objs:
            objs.pop()
            if rng.random() < 0.05:
                gc.collect()
    gc.collect()


def with_keylog(cfg: sdtls.Config, callback: Callable[..., object]) -> None:
    cfg.set_keylog(callback)


def with_psk_lookup(cfg: sdtls.Config, callback: Callable[..., object]) -> None:
    cfg.set_psk_lookup(callback)


@pytest.mark.parametrize("set_callback", [with_keylog, with_psk_lookup])
def test_config_whose_callback_refers_to_it_is_collected(set_callback: Callable[..., None]) -> None:
    """A key log or PSK lookup that refers back to its Config (a bound
    method of an object holding it, a closure) makes a cycle the collector
    frees, C config included."""
    refs = []
    for _ in range(100):
        cfg = sdtls.Config()
        set_callback(cfg, lambda *args, cfg=cfg: cfg)
        refs.append(weakref.ref(cfg))
    del cfg
    gc.collect()
    assert [r for r in refs if r() is not None] == []


def test_cycles_through_connections_and_servers_are_collected() -> None:
    """The same through what is made from the config: a key log that holds
    a connection of its config, a PSK lookup that holds a server of its
    config, after a handshake that called both."""
    lines: list[str] = []
    holder: list[object] = []
    key = b"k" * 16
    client = sdtls.Config(psks={"id": key}, keylog=lambda line, holder=holder: lines.append(line))
    server_config = sdtls.Config(psk_lookup=lambda identity, holder=holder: key if holder else None)
    link = make_link(client, server_config, server=True)
    holder += [link.a, link.b, client, server_config]
    link.run(link.connected)
    assert lines and link.a.psk_identity == "id"
    refs = [weakref.ref(o) for o in holder]
    del link, client, server_config, holder
    gc.collect()
    assert [r() for r in refs if r() is not None] == []


def test_callbacks_outlive_the_configs_python_object(certs: Certs) -> None:
    """The C side holds a config's callbacks through a weak reference to
    the Config: a connection keeps its Config alive, so a Config nobody
    else holds still logs keys and looks up PSKs for it."""
    lines: list[str] = []
    asked: list[str] = []

    def lookup(identity: str) -> bytes:
        asked.append(identity)
        return b"k" * 16

    cli = sdtls.Connection(sdtls.Config(psks={"id": b"k" * 16}, keylog=lines.append), "client")
    srv = sdtls.Connection(sdtls.Config(psk_lookup=lookup), "server")
    gc.collect()
    link = Link(cli, srv)
    cli.start(link.now)
    link.run(link.connected)
    assert lines and asked == ["id"] and cli.psk_identity == "id"
