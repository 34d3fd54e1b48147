"""The playground's state latency under load: N sessions playing at once while /state is polled.

    python benchmarks/playground_latency.py                    # 20 and 50 sessions, 10 s each
    python benchmarks/playground_latency.py --sessions 20 --seconds 20 --pollers 4

The server runs in its own process (``python -m chainrule.playground`` on 127.0.0.1 and a free
port, with room for the sessions), so the polling clients here do not share its interpreter lock.
Every session trains a 4-feature 8-8-6 network with batch 5 (the heaviest training the load test
uses); ``--pollers`` threads each poll their share of the sessions, pausing ``--pause`` seconds
between rounds, as a page's polling would. Prints p50 / p95 / max of GET /state and the epochs
each session trained. Not a test: it prints figures (tests/playground/test_playground_load.py is
the bounded test in the suite).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, max_sessions: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    command = [sys.executable, "-m", "chainrule.playground", "--port", str(port),
               "--max-sessions", str(max_sessions)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the playground server did not start within 30 s")


def percentile(values: list, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def follow_events(url: str, sid: str, stop: float, counts: list) -> None:
    """Read one session's event stream, as the page's EventSource does, until ``stop``."""
    try:
        with httpx.Client(base_url=url, timeout=30) as mine, \
                mine.stream("GET", f"/api/sessions/{sid}/events") as response:
            for line in response.iter_lines():
                if line.startswith("event: state"):
                    counts.append(1)
                if time.monotonic() >= stop:
                    return
    except httpx.HTTPError:
        return


def measure(url: str, sessions: int, seconds: float, pollers: int, pause: float,
            streams: bool) -> dict:
    with httpx.Client(base_url=url, timeout=30) as http:
        ids = []
        for k in range(sessions):
            settings = {"activation": ["relu", "tanh", "sigmoid"][k % 3], "hidden": [8, 8, 6],
                        "features": ["x1", "x2", "x1^2", "x2^2"], "batch_size": 5}
            response = http.post("/api/sessions", json={"settings": settings})
            response.raise_for_status()
            ids.append(response.json()["id"])
        for sid in ids:
            http.post(f"/api/sessions/{sid}/play").raise_for_status()
        time.sleep(1.0)
        latencies, failures, events = [], [], []
        stop = time.monotonic() + seconds
        followers = [threading.Thread(target=follow_events, args=(url, sid, stop, events), daemon=True)
                     for sid in ids] if streams else []
        for thread in followers:
            thread.start()

        def poll(mine_ids):
            with httpx.Client(base_url=url, timeout=30) as mine:
                while time.monotonic() < stop:
                    for sid in mine_ids:
                        start = time.perf_counter()
                        response = mine.get(f"/api/sessions/{sid}/state")
                        latencies.append(time.perf_counter() - start)
                        if response.status_code != 200:
                            failures.append(response.status_code)
                    time.sleep(pause)

        threads = [threading.Thread(target=poll, args=(ids[k::pollers],)) for k in range(pollers)]
        for thread in threads:
            thread.start()
        for thread in threads + followers:
            thread.join(timeout=60)
        epochs = [http.get(f"/api/sessions/{sid}/state").json()["epoch"] for sid in ids]
        for sid in ids:
            http.delete(f"/api/sessions/{sid}")
    return {"sessions": sessions, "requests": len(latencies), "failures": len(failures),
            "p50_ms": percentile(latencies, 0.5) * 1e3, "p95_ms": percentile(latencies, 0.95) * 1e3,
            "max_ms": max(latencies) * 1e3, "epochs": (min(epochs), max(epochs)),
            "events": len(events)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seconds", type=float, default=10.0, help="polling time per run (10)")
    parser.add_argument("--pollers", type=int, default=4, help="polling threads (4)")
    parser.add_argument("--streams", action="store_true",
                        help="also hold one event stream per session open, as each page does")
    parser.add_argument("--pause", type=float, default=0.2, help="pause between a poller's rounds (0.2 s)")
    args = parser.parse_args(argv)
    port = free_port()
    server = start_server(port, max(args.sessions) + 2)
    try:
        for count in args.sessions:
            result = measure(f"http://127.0.0.1:{port}", count, args.seconds, args.pollers, args.pause,
                             args.streams)
            print(f"{result['sessions']:3d} sessions playing: {result['requests']} GET /state, "
                  f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
                  f"max {result['max_ms']:.0f} ms, failures {result['failures']}, "
                  f"epochs per session {result['epochs'][0]}-{result['epochs'][1]}"
                  + (f", {result['events']} state events streamed" if args.streams else ""), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
