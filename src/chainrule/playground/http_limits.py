"""Connection limits for the playground's uvicorn server: slow or idle sockets cannot hold it.

What uvicorn's own settings cover, and ``server_config`` sets:

- ``h11_max_incomplete_event_size``: a request head still incomplete past ``MAX_HEAD_BYTES`` is
  refused (h11 checks what it has buffered while it waits for more, so a head that arrives whole
  in one read is parsed: the bound is that plus one read).
- ``timeout_keep_alive``: an idle keep-alive connection closes ``KEEP_ALIVE_SECONDS`` after its
  last response.
- ``proxy_headers=False``: nothing sits in front of this server, so X-Forwarded-* headers from a
  local program are not believed; ``server_header=False``; no WebSocket upgrades.

What they do not (uvicorn 0.54 with h11): no timer runs on a new connection until a first
response completes, and the keep-alive timer stops at the first byte of the next request, so a
client that sends half a request line, or nothing, holds its socket for as long as it likes.
``limit_concurrency`` only counts connections when a request arrives, after an idle socket has
already taken its place. ``guarded_protocol`` adds both missing limits to uvicorn's h11 protocol:

- a deadline for each request's head: the request line and headers must arrive within
  ``head_seconds`` of the connection opening (or of the previous response ending), else the
  connection is closed (with a 408 when part of a request came);
- a cap on open connections: past ``max_connections`` a new connection gets a 503 and is closed
  at once, before it can hold anything.

The request body has its own time limit in the app (server.BODY_SECONDS, answered with 408).
"""

from __future__ import annotations

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .guard import SECURITY_HEADERS

HEAD_SECONDS = 5.0
KEEP_ALIVE_SECONDS = 5
MAX_HEAD_BYTES = 16 * 1024
MAX_CONNECTIONS = 256



def _raw_response(status: bytes, message: str, extra: bytes = b"") -> bytes:
    """A whole HTTP/1.1 JSON error response, written straight to a socket h11 cannot answer on."""
    body = b'{"error":"' + message.encode("ascii") + b'"}'
    headers = b"".join(name + b": " + value + b"\r\n" for name, value in SECURITY_HEADERS)
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
            + extra + headers + b"content-length: " + str(len(body)).encode("ascii") + b"\r\n\r\n"
            + body)


_TIMED_OUT = _raw_response(b"408 Request Timeout", "the request head did not arrive in time")
_BUSY = _raw_response(b"503 Service Unavailable", "too many open connections to the playground",
                      b"retry-after: 5\r\n")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head deadline and a connection cap (see above)."""

    head_seconds = HEAD_SECONDS
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._head_deadline = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(_BUSY)
            transport.close()
            return
        self._await_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:   # the head has arrived (or the request failed)
            self._stop_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._await_head()   # the next request on this connection gets the same deadline

    def connection_lost(self, exc) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._stop_waiting()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._head_deadline = self.loop.call_later(self.head_seconds, self._head_too_late)

    def _stop_waiting(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        partial, _ = self.conn.trailing_data
        if partial:
            self.transport.write(_TIMED_OUT)
        self.transport.close()


def guarded_protocol(head_seconds: float = HEAD_SECONDS,
                     max_connections: int = MAX_CONNECTIONS) -> type[GuardedH11Protocol]:
    """GuardedH11Protocol with these limits (uvicorn builds the protocol from a class)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,),
                {"head_seconds": head_seconds, "max_connections": max_connections})


def server_config(app, host: str = "127.0.0.1", port: int = 8000, *,
                  head_seconds: float = HEAD_SECONDS, max_connections: int = MAX_CONNECTIONS,
                  log_level: str = "warning") -> uvicorn.Config:
    """The uvicorn configuration the playground runs under (the CLI and the tests alike)."""
    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, lifespan="on",
        http=guarded_protocol(head_seconds, max_connections), ws="none",
        h11_max_incomplete_event_size=MAX_HEAD_BYTES, timeout_keep_alive=KEEP_ALIVE_SECONDS,
        proxy_headers=False, server_header=False)
