"""Who may talk to the playground: loopback Host names, same-origin requests, and safe headers.

Three small ASGI layers wrapped around the app by ``server.create_app`` (outermost first):

``SecurityHeaders``
    Adds ``CONTENT_SECURITY_POLICY`` and the other ``SECURITY_HEADERS`` to every response, the
    page, static files and errors alike (it sits outside Starlette's own error layer, so a 500
    carries them too).
``TrustedHostMiddleware`` (Starlette's own)
    Answers only requests whose Host header names this machine's loopback address
    (``LOOPBACK_HOSTS``) or the ``--host`` the server was started with, so a DNS-rebinding page
    (evil.example resolving to 127.0.0.1) gets 400 instead of the API.
``SameOriginGuard``
    Refuses (403, JSON) a request that a page on another site sent: any state-changing method, and
    any request under /api/, whose ``Origin`` is present and is not this server's own origin
    (``null`` included), or whose ``Sec-Fetch-Site`` says ``cross-site`` or ``same-site``. A
    request with neither header (curl, a script) passes: it cannot come from a browser page.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FOREIGN_FETCH_SITES = ("cross-site", "same-site")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",          # main.js and its modules; no inline script, no eval
    "style-src 'self'",           # style.css; element.style from the scripts is CSSOM, allowed
    "img-src 'self' data:",       # the page's empty data: favicon
    "connect-src 'self'",         # fetch and EventSource to this server only
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def allowed_hosts(bind_host: str | None = None) -> list[str]:
    """The Host names the server answers: loopback, plus the address it was told to bind.

    An IPv6 address is written as a Host header carries it, in brackets; a wildcard bind
    (0.0.0.0, ::) adds nothing, since no Host header names it."""
    hosts = list(LOOPBACK_HOSTS)
    if bind_host and bind_host not in WILDCARD_BINDS:
        name = bind_host.strip().lower()
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        if name not in hosts:
            hosts.append(name)
    return hosts


def _host_and_port(url: str) -> tuple[str, int | None]:
    """('localhost', 8000) from 'http://localhost:8000'; the scheme's default port if none given."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:   # a port that is not a number, an unclosed bracket
        return "", None
    host = (parts.hostname or "").lower()
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return (f"[{host}]" if ":" in host else host), port


def is_own_origin(origin: str, host_header: str, scheme: str = "http") -> bool:
    """Whether ``origin`` (an Origin header) is this server's origin: the request's own scheme and
    the host and port its Host header names. ``null`` (a sandboxed frame, a file: page, some
    redirects) is never ours."""
    scheme = scheme.lower()
    if not origin.lower().startswith(scheme + "://") or not host_header:
        return False
    theirs = _host_and_port(origin)
    return theirs[0] != "" and theirs == _host_and_port(f"{scheme}://{host_header}")


async def send_json_error(send, status: int, message: str, headers=()) -> None:
    body = json.dumps({"error": message}, separators=(",", ":")).encode("ascii")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode("ascii")), *headers]})
    await send({"type": "http.response.body", "body": body})


class SameOriginGuard:
    """403 for a request a page on another origin sent (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            reason = self.refusal(scope)
            if reason is not None:
                await send_json_error(send, 403, reason)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def refusal(scope) -> str | None:
        if scope["method"] in SAFE_METHODS and not scope["path"].startswith("/api/"):
            return None   # the page itself may be opened from a link on any site
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and not is_own_origin(origin, headers.get("host", ""),
                                                    scope.get("scheme", "http")):
            return (f"cross-origin request refused: Origin {origin[:80]!r} is not this playground; "
                    "open the playground's own page to use it")
        site = headers.get("sec-fetch-site", "").lower()
        if site in FOREIGN_FETCH_SITES:
            return f"cross-site request refused (Sec-Fetch-Site: {site}); open the playground's own page"
        return None


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP response that does not already set them."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, send_with_headers)
