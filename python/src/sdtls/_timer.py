# SPDX-License-Identifier: Apache-2.0
"""The event-loop timer that drives a connection's or a server's deadline,
shared by :mod:`sdtls.aio`'s socket classes and its transport drivers."""

from __future__ import annotations

import asyncio
from typing import Callable, Optional


class DeadlineTimer:
    """One pending loop callback for the deadline that ``get_timer()``
    reported, in seconds on ``clock``: the clock of the ``now`` values the
    connection or server is given (docs/design.md, "Time"): the default
    :func:`time.monotonic` for :mod:`sdtls.aio`'s sockets, ``loop.time``
    for the transport drivers, which pass ``loop.time()`` as ``now``.

    :meth:`set` takes each new deadline. A later one than the callback is
    armed for keeps that callback, which re-arms for the deadline then
    wanted when it runs early: a connection that exchanges data moves its
    idle deadline on every datagram, and re-arming each time would cost a
    cancel and a new loop timer per datagram. ``fire`` runs only once the
    deadline wanted has passed on ``clock``."""

    __slots__ = ("_loop", "_fire", "_clock", "_on_loop_clock", "_handle", "_armed", "_want")

    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[], None],
                 clock: Callable[[], float]) -> None:
        self._loop = loop
        self._fire = fire
        self._clock = clock
        self._on_loop_clock = clock == loop.time
        self._handle: Optional[asyncio.TimerHandle] = None
        self._armed = 0.0  # the deadline the handle is for
        self._want: Optional[float] = None

    def set(self, at: Optional[float]) -> None:
        """Fires at ``at`` (seconds on ``clock``), or never for None."""
        self._want = at
        if at is None:
            return  # an armed callback finds nothing to do
        if self._handle is not None:
            if self._armed <= at:
                return
            self._handle.cancel()
        self._arm(at)

    def cancel(self) -> None:
        self._want = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self, at: float) -> None:
        loop = self._loop
        when = at if self._on_loop_clock else loop.time() + max(0.0, at - self._clock())
        self._armed = at
        self._handle = loop.call_at(when, self._run)

    def _run(self) -> None:
        self._handle = None
        at = self._want
        if at is None:
            return
        if self._clock() < at:  # armed for a deadline that has moved later since
            self._arm(at)
            return
        self._want = None
        self._fire()
