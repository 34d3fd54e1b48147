"""Connection-level limits, against a real uvicorn on 127.0.0.1 (the CLI's configuration):
slow and idle sockets are closed, open connections are capped, a slow body times out, and no
more than the cap of event streams is ever let through, even forty at once.

Timing is bounded but generous (closed "within 15 s" where the limit is 1 s, or the CLI's 5 s),
so a slow machine does not fail these; a server without the limits holds the sockets forever and
does. Most tests share a server whose head deadline is 1 s, to keep the suite quick; the
three-hundred-socket test runs under the CLI's own limits.
"""

import asyncio
import selectors
import socket
import time

import pytest
from playground_helpers import LiveServer, wait_for

from chainrule.playground.http_limits import HEAD_SECONDS
from chainrule.playground.server import MAX_STREAMS_PER_SESSION

httpx = pytest.importorskip("httpx")
GENEROUS = 15.0
assert HEAD_SECONDS * 2 < GENEROUS


def connect(server):
    return socket.create_connection(("127.0.0.1", server.port), timeout=GENEROUS)


def read_until_closed(sock, seconds=GENEROUS):
    """(closed?, bytes received): whether the server closed the socket within ``seconds``."""
    received, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def all_closed_within(sockets, seconds):
    """How many of ``sockets`` the server closed within ``seconds``, waiting on them together."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    closed, deadline = 0, time.monotonic() + seconds
    while closed < len(sockets) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=max(0.01, deadline - time.monotonic())):
            try:
                chunk = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                selector.unregister(key.fileobj)
                closed += 1
    selector.close()
    return closed


@pytest.fixture(scope="module")
def server():
    with LiveServer(limits={"head_seconds": 1.0}, max_sessions=8, body_seconds=1.0) as live:
        yield live


def test_half_a_request_line_is_closed(server):
    with connect(server) as sock:
        sock.sendall(b"GET / HT")
        closed, received = read_until_closed(sock)
    assert closed, "a half request line held its connection open"
    assert received.startswith(b"HTTP/1.1 408") and b"did not arrive in time" in received


def test_a_silent_connection_is_closed(server):
    with connect(server) as sock:
        closed, received = read_until_closed(sock)
    assert closed and received == b""


def test_half_a_second_request_on_a_kept_alive_connection_is_closed(server):
    with connect(server) as sock:
        sock.sendall(b"GET /static/colors.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(GENEROUS)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /static/api.js HTTP/1.1\r\nHost: 127.0")   # and then nothing
        closed, _ = read_until_closed(sock)
    assert closed


def test_headers_dribbled_slowly_still_hit_the_deadline(server):
    with connect(server) as sock:
        start = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        closed = False
        while time.monotonic() - start < GENEROUS + 5 and not closed:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
            closed, _ = read_until_closed(sock, 1.0)
    assert closed, "a client sending a header line a second kept its connection"


def test_three_hundred_slow_connections_are_all_closed_and_the_server_answers_after():
    """The reviewer's attack, under the CLI's limits: 300 sockets each send half a request."""
    with LiveServer() as live:
        sockets = []
        try:
            for _ in range(300):
                sock = connect(live)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
                sockets.append(sock)
            assert all_closed_within(sockets, GENEROUS) == 300
        finally:
            for sock in sockets:
                sock.close()
        assert httpx.get(live.url + "/", timeout=GENEROUS).status_code == 200


def test_a_slow_body_is_answered_408(server):
    with connect(server) as sock:
        sock.sendall(b"POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"settings\":")
        closed, received = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408") and b"did not arrive within" in received
    assert closed


def test_an_oversized_request_head_is_refused(server):
    """h11 refuses a head still incomplete past MAX_HEAD_BYTES (one that arrives whole in a single
    read is parsed, so the bound is that plus one read)."""
    with connect(server) as sock:
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n")
        except OSError:
            pass   # the server may close before it has read it all
        closed, received = read_until_closed(sock)
    assert closed and not received.startswith(b"HTTP/1.1 2")


def test_responses_are_not_delayed_by_nagle(server):
    """The listening socket says TCP, so asyncio turns Nagle off on every connection (with it on, a
    response's head and body, two writes, wait 40 ms for the client's delayed ACK)."""
    with connect(server) as sock:
        sock.sendall(b"GET /static/colors.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.recv(65536)
        flags = [c.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                 for c in list(server.server.server_state.connections) if c.transport is not None]
    assert flags and all(flags)


def test_connections_past_the_cap_get_503_and_the_server_recovers():
    with LiveServer(limits={"max_connections": 8, "head_seconds": 60}) as live:
        idle = [socket.create_connection(("127.0.0.1", live.port), timeout=GENEROUS) for _ in range(8)]
        try:
            wait_for(lambda: len(live.server.server_state.connections) == 8, timeout=GENEROUS)
            with socket.create_connection(("127.0.0.1", live.port), timeout=GENEROUS) as extra:
                closed, received = read_until_closed(extra)
            assert closed and received.startswith(b"HTTP/1.1 503")
            assert b"too many open connections" in received and b"x-frame-options: DENY" in received
        finally:
            for sock in idle:
                sock.close()
        wait_for(lambda: httpx.get(live.url + "/", timeout=GENEROUS).status_code == 200, timeout=GENEROUS)


async def open_streams(url, count, hold):
    """``count`` GET .../events at once; each keeps its stream open until ``hold`` is set."""
    statuses = []

    async def one(client):
        async with client.stream("GET", url) as response:
            statuses.append(response.status_code)
            if response.status_code == 200:
                await hold.wait()

    limits = httpx.Limits(max_connections=count + 5, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=GENEROUS, limits=limits) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(count)]
        while len(statuses) < count and not any(t.done() and t.exception() for t in tasks):
            await asyncio.sleep(0.05)
        snapshot = list(statuses)
        hold.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return snapshot


def test_forty_concurrent_event_streams_admit_exactly_the_cap(server):
    sid = httpx.post(server.url + "/api/sessions", json={}).json()["id"]
    url = f"{server.url}/api/sessions/{sid}/events"
    for _ in range(2):   # and again once the first forty have gone: every slot came back
        statuses = asyncio.run(asyncio.wait_for(open_streams(url, 40, asyncio.Event()), 60))
        assert len(statuses) == 40
        assert statuses.count(200) == MAX_STREAMS_PER_SESSION, sorted(statuses)
        assert statuses.count(429) == 40 - MAX_STREAMS_PER_SESSION
        wait_for(lambda: not server.app.state.streams, timeout=GENEROUS)   # all slots given back
    httpx.delete(f"{server.url}/api/sessions/{sid}")
