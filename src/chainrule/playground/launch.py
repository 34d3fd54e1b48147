"""Start the playground: ``chainrule playground [--host 127.0.0.1] [--port 8000] [--open]``.

Starlette and uvicorn are an optional extra; without them this says how to install them in
one line and returns a non-zero exit status instead of a traceback.
"""

from __future__ import annotations

import sys
import threading
import webbrowser

MISSING = ("chainrule playground needs Starlette and uvicorn, which are not installed: "
           "pip install chainrule[playground]")


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          max_sessions: int = 32, idle_seconds: float = 300.0) -> int:
    """Run the server until interrupted; returns the process exit status."""
    try:
        import uvicorn

        from .server import create_app
    except ImportError:
        print(MISSING, file=sys.stderr)
        return 2
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    print(f"chainrule playground on {url} (Ctrl+C to stop)")
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    app = create_app(max_sessions=max_sessions, idle_seconds=idle_seconds)
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def add_arguments(parser) -> None:
    """The playground's command-line options, for ``chainrule playground``."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: only this machine can connect)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="chainrule playground",
                                     description="The neural-network playground in your browser.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.open)
