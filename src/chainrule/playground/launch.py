"""Start the playground: ``chainrule playground [--host 127.0.0.1] [--port 8000] [--open]``.

Starlette and uvicorn are an optional extra; without them this says how to install them in
one line and returns a non-zero exit status instead of a traceback. The listening socket is
bound here, before the URL is announced, so a port that is taken (or a --host that is not this
machine's) is reported in one line with a port to try instead, and ``--port 0`` announces the
port the system picked. The server answers only Host names that are this machine's loopback
address or the --host given (see server.py's security model).
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import threading
import webbrowser

from ..locale import N_, _, language
from ..locale.commandline import add_lang_argument, argparse_messages, lang_from_argv

MISSING = N_("chainrule playground needs Starlette and uvicorn, which are not installed: pip install "
             "chainrule[playground]")
PROG = "chainrule playground"


class BindError(Exception):
    """The socket could not be bound; ``status`` is the exit status to return."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _listening_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say TCP,
    # and a response's head and body are two writes (with Nagle on, 40 ms each on Linux).
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":   # as asyncio does: restart over TIME_WAIT (on Windows it would
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # share a port in use)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)   # hold the port from now on
    except BaseException:
        sock.close()
        raise
    return sock


def free_port_near(host: str, port: int, tries: int = 50) -> int | None:
    """The first port after ``port`` that this host can listen on now, or None."""
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        try:
            _listening_socket(host, candidate).close()
            return candidate
        except OSError:
            continue
    return None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or BindError with one line saying what to do."""
    try:
        return _listening_socket(host, port)
    except socket.gaierror as err:
        raise BindError(_("{prog}: cannot listen on --host {host!r}: {why}").format(
            prog=PROG, host=host, why=err.strerror), 2) from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            near = free_port_near(host, port)
            other = _("--port {port} (free now) or ").format(port=near) if near is not None else ""
            raise BindError(_("{prog}: port {port} on {host} is taken (another program, or another "
                              "playground, is using it); try {other}--port 0 for any free port").format(
                                  prog=PROG, port=port, host=host, other=other)) from None
        if err.errno == errno.EADDRNOTAVAIL:
            raise BindError(_("{prog}: --host {host} is not an address of this machine (the default "
                              "127.0.0.1 always is)").format(prog=PROG, host=host), 2) from None
        if err.errno == errno.EACCES:
            raise BindError(_("{prog}: port {port} needs administrator rights here; use a port above 1023, "
                              "e.g. --port 8000, or --port 0").format(prog=PROG, port=port)) from None
        raise BindError(_("{prog}: cannot listen on {host} port {port}: {why}").format(
            prog=PROG, host=host, port=port, why=err.strerror)) from None


def page_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          max_sessions: int = 32, idle_seconds: float = 300.0, lang: str | None = None) -> int:
    """Run the server until interrupted; returns the process exit status. ``lang`` ("en", "ja";
    default: the environment's) is the language of the console lines and of every page that does
    not choose its own (``?lang=``)."""
    with language(lang) as chosen:
        return _serve(host, port, open_browser, max_sessions, idle_seconds, chosen, explicit=lang is not None)


def _serve(host, port, open_browser, max_sessions, idle_seconds, lang, explicit) -> int:
    try:
        import uvicorn

        from .guard import allowed_hosts
        from .http_limits import server_config
        from .server import create_app
    except ImportError:
        print(_(MISSING), file=sys.stderr)
        return 2
    try:
        sock = bind(host, port)
    except BindError as err:
        print(err, file=sys.stderr)
        return err.status
    port = sock.getsockname()[1]
    url = page_url(host, port) + (f"?lang={lang}" if explicit else "")
    print(_("chainrule playground on {url} (Ctrl+C to stop)").format(url=url), flush=True)
    if host in ("0.0.0.0", "::"):
        print(_("{prog}: listening on every interface, but answering only Host names {hosts}; to serve other "
                "machines, give this machine's own address as --host").format(
                    prog=PROG, hosts=", ".join(allowed_hosts())), flush=True)
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    app = create_app(max_sessions=max_sessions, idle_seconds=idle_seconds, hosts=allowed_hosts(host),
                     lang=lang)
    config = server_config(app, host, port, max_connections=max(128, 8 * max_sessions))
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _bounded_int(low: int, high: int, what: str):
    """An argparse type: a whole number from low to high."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(_("expected {what} from {low} to {high}, got {text!r}").format(
                what=_(what), low=low, high=high, text=text[:20]))
        return value
    convert.__name__ = what
    return convert


def add_arguments(parser) -> None:
    """The playground's command-line options, for ``chainrule playground``."""
    parser.add_argument("--host", default="127.0.0.1",
                        help=_("address to bind (default 127.0.0.1: only this machine can connect); the "
                               "server answers requests addressed to it, or to localhost"))
    parser.add_argument("--port", type=_bounded_int(0, 65535, N_("a port")), default=8000,
                        help=_("port (default 8000; 0 picks a free one)"))
    parser.add_argument("--open", action="store_true", help=_("open the page in a web browser"))
    parser.add_argument("--max-sessions", type=_bounded_int(1, 1000, N_("a number of sessions")), default=32,
                        help=_("browser tabs the server keeps at once (default 32)"))


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, _("{prog}: error: {message} (see {prog} --help)").format(prog=self.prog, message=message)
                  + "\n")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    with language(lang_from_argv(argv)), argparse_messages():
        parser = _OneLineParser(prog=PROG, description=_("The neural-network playground in your browser."))
        add_arguments(parser)
        add_lang_argument(parser, top=True)
        args = parser.parse_args(argv)
        return serve(args.host, args.port, args.open, args.max_sessions, lang=args.lang)
