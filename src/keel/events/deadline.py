"""A deadline for receiving each HTTP request (slow-loris connections closed).

uvicorn's only timer, ``timeout_keep_alive``, covers the idle time *between*
requests and is reset by every byte received, so a client that sends a request
head one byte at a time, or never finishes its body, holds its connection for
ever; ASGI code cannot help, it runs only once the head is parsed. This protocol
(uvicorn's h11 protocol, passed as ``uvicorn.Config(http=...)``) arms a timer when
a connection opens and whenever a new request starts, and closes the connection
when the request has not fully arrived by then. The timer is disarmed as soon as
the request is complete, so a long-running answer is never cut.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_DEADLINE = 10.0  # seconds to receive a request's head and body
log = logging.getLogger("keel.events")


class DeadlineProtocol(H11Protocol):
    deadline: float = REQUEST_DEADLINE
    closed_slow = 0  # connections closed for being too slow (all instances)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # a new request starts on a kept-alive connection
        super().data_received(data)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            self._disarm()  # the whole request is in

    def _arm(self) -> None:
        self._disarm()
        self._timer = self.loop.call_later(self.deadline, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            return  # the request arrived; its answer is on its way
        DeadlineProtocol.closed_slow += 1  # one count for every server in the process
        log.warning(
            "closed a connection from %s: no complete request within %gs",
            self.client[0] if self.client else "?",
            self.deadline,
        )
        self.transport.close()


def protocol(deadline: float = REQUEST_DEADLINE) -> type[DeadlineProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)`` with ``deadline`` seconds."""
    return type("KeelDeadlineProtocol", (DeadlineProtocol,), {"deadline": deadline})
