# SPDX-License-Identifier: Apache-2.0
"""The bounds of the binding's queues and of the config's lists: a call
that would outgrow them is refused with an error that names the bound,
and nothing already queued is lost."""
from __future__ import annotations

import pytest

import sdtls
from sdtls._low import c

from conftest import make_link

MAX_RECORDS = int(c.SDTLSPY_QUEUE_MAX_RECORDS)


def _data(events: list[sdtls.Event]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, sdtls.DatagramReceived)]


@pytest.mark.parametrize("server", [False, True])
def test_send_queue_is_bounded_and_loses_nothing(client_config: sdtls.Config, server_config: sdtls.Config,
                                                 server: bool) -> None:
    link = make_link(client_config, server_config, server=server)
    link.run(link.connected)
    link.step()  # what the handshake's end still moves (ACKs, tickets)
    if server:
        srv = link.b
        peer = srv.connections[0]  # type: ignore[attr-defined]
        sender, receiver = peer, link.a
    else:
        sender, receiver = link.a, link.b
    sent: list[bytes] = []
    out: list[bytes] = []
    for _ in range(2):  # two queues' worth, to fill the receiver's too
        with pytest.raises(sdtls.UsageError) as refused:
            for _ in range(MAX_RECORDS + 1):
                payload = b"%06d" % len(sent)
                sender.send(payload, link.now)
                sent.append(payload)
        assert refused.value.code == int(c.SDTLS_E_LIMIT)
        assert "queue full" in str(refused.value) and str(MAX_RECORDS) in str(refused.value)
        taken = link.b.datagrams_to_send() if server else sender.datagrams_to_send()  # type: ignore[attr-defined]
        out += [d for d, _addr in taken] if server else taken
        assert len(out) == len(sent)
    assert len(sent) == 2 * MAX_RECORDS
    # The receiver's event queue has the same bound: fed until refused,
    # drained, fed the rest, it yields every record, in order.
    got: list[bytes] = []
    refusals = 0
    i = 0
    while i < len(out):
        try:
            receiver.receive_datagram(out[i], link.now)  # type: ignore[attr-defined]
            i += 1
        except sdtls.UsageError as e:
            assert e.code == int(c.SDTLS_E_LIMIT) and "next_event" in str(e)
            assert i == MAX_RECORDS, i
            refusals += 1
            while (ev := receiver.next_event()) is not None:  # type: ignore[attr-defined]
                got.extend(_data([ev]))
    while (ev := receiver.next_event()) is not None:  # type: ignore[attr-defined]
        got.extend(_data([ev]))
    assert refusals == 1
    assert got == sent
    sender.send(b"after", link.now)  # taken again once drained


def test_config_lists_are_held_to_what_fits_the_wire() -> None:
    cfg = sdtls.Config()
    with pytest.raises(sdtls.UsageError, match="at most 4095 bytes"):
        cfg.set_alpn(["p%05d" % i for i in range(10000)])
    cfg.set_alpn(["a" * 255] * 16)  # 4095 bytes: the most
    with pytest.raises(sdtls.UsageError, match="at most 4095 bytes"):
        cfg.set_alpn(["a" * 255] * 17)
    with pytest.raises(sdtls.UsageError, match="each at most once"):
        cfg.set_srtp_profiles(["SRTP_AES128_CM_SHA1_80"] * 2)
    with pytest.raises(sdtls.UsageError, match="each at most once, at most 32"):
        cfg.set_groups(["X25519"] * 10000)
    with pytest.raises(sdtls.UsageError, match="1..128 bytes"):
        cfg.add_psk("i" * 129, b"k" * 16)
    with pytest.raises(sdtls.UsageError, match="1..128 bytes"):
        cfg.set_psk_identity_hint("h" * 129)


def test_server_event_queue_is_bounded_and_loses_nothing(client_config: sdtls.Config,
                                                          server_config: sdtls.Config) -> None:
    link = make_link(client_config, server_config, server=True)
    link.run(link.connected)
    link.step()
    srv = link.b
    assert isinstance(srv, sdtls.Server)
    out = []
    for i in range(MAX_RECORDS + 1):
        link.a.send(b"%06d" % i, link.now)
        out += link.a.datagrams_to_send()
    for d in out[:MAX_RECORDS]:
        srv.receive_datagram(d, link.addr, link.now)
    with pytest.raises(sdtls.UsageError, match="next_event") as refused:
        srv.receive_datagram(out[MAX_RECORDS], link.addr, link.now)
    assert refused.value.code == int(c.SDTLS_E_LIMIT)
    got = [e.data for e in iter(srv.next_event, None) if isinstance(e, sdtls.DatagramReceived)]
    srv.receive_datagram(out[MAX_RECORDS], link.addr, link.now)
    got += [e.data for e in iter(srv.next_event, None) if isinstance(e, sdtls.DatagramReceived)]
    assert got == [b"%06d" % i for i in range(MAX_RECORDS + 1)]
