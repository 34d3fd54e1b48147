"""The playground's HTTP layer (Starlette): sessions, commands, state by server-sent events.

    POST   /api/sessions                   {"settings": {...}, "lang": "ja"}   → 201 {"id", "state"}
    GET    /api/sessions/{id}/state        the page's full state (JSON)
    GET    /api/sessions/{id}/events       the same state, pushed as server-sent events
    GET    /api/sessions/{id}/data         the train and test points
    POST   /api/sessions/{id}/settings     {"settings": {...changes}}
    POST   /api/sessions/{id}/play|pause|reset|regenerate
    POST   /api/sessions/{id}/step         {"epochs": n}
    POST   /api/sessions/{id}/language     {"lang": "ja"|"en"}   the state's words and the explanations
                                          from now on (the network and its training go on)
    GET    /api/sessions/{id}/explain      ?layer=L&neuron=J[&source=I][&example=K][&view=forward|backward]
                                          the number the page shows for that element, derived
                                          (&lang=ja|en: its language; default the session's)
    GET    /api/sessions/{id}/export/model the trained weights as a chainrule save file
    GET    /api/sessions/{id}/export/safetensors  the same weights as a .safetensors file
    GET    /api/sessions/{id}/export/code  a Python script that rebuilds and retrains the network
    DELETE /api/sessions/{id}              (or POST .../close, for the page's unload beacon)

Every error the app answers is JSON {"error": message} with a 4xx status naming what was wrong
(the field, the header, the limit); nothing here trains or computes the model itself (see
session.py, snapshot.py, explain.py, export.py).

Security model. The playground runs on a learner's own machine and trusts that machine's own
browser tab and command-line clients; any web page the learner visits is hostile, and so is any
other program's page on another localhost port.

- Who can connect: the server binds 127.0.0.1 unless told otherwise (launch.py), so only this
  machine reaches it. A connection must send its request head within a few seconds, and open
  connections are capped (http_limits.py), so slow or idle sockets cannot hold the server.
- DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 sends
  ``Host: evil.example``. Starlette's TrustedHostMiddleware answers only the Host names
  127.0.0.1, localhost and [::1] (any port) and the ``--host`` given (guard.allowed_hosts);
  any other Host gets 400.
- Cross-site requests: a foreign page can still fire "simple" requests at 127.0.0.1 (form posts,
  text/plain fetches, beacons) without a CORS preflight. guard.SameOriginGuard answers 403 to
  every POST or DELETE, and every /api/ request, that carries an Origin other than this server's
  own (``null`` included) or a Sec-Fetch-Site of cross-site or same-site (another port on this
  machine is same-site). A request with neither header passes: a browser page always sends
  Origin on a POST, so only curl, scripts and the like omit it, and they need no tricking.
- JSON only: a POST with a body must declare Content-Type: application/json (else 415), which a
  page on another origin cannot send without a preflight, and a preflight is never granted
  (403 for a foreign Origin, no Access-Control-* headers ever). An empty body needs no type:
  play/pause/reset/regenerate carry none, and the page's unload beacon to .../close sends an
  empty text/plain body.
- Hostile bodies: at most MAX_BODY_BYTES, the whole of it within BODY_SECONDS (408 otherwise),
  strict UTF-8 JSON; too deep a nesting is 400, an integer literal over 100 digits is never
  converted, and every field is checked by settings.py. The answer is a 4xx naming the field,
  never a 500, and an error message never echoes more than a few dozen characters of the input.
- Sessions: 128-bit random ids, capped in number (429), dropped when idle; at most
  MAX_STREAMS_PER_SESSION event streams each, counted before the stream starts.
- Every response, errors and static files included, carries a Content-Security-Policy that allows
  only this origin's own scripts, styles and connections (no inline code, no eval), plus
  X-Frame-Options DENY, X-Content-Type-Options nosniff, Referrer-Policy no-referrer and
  same-origin opener/resource policies (guard.SecurityHeaders).

Not covered: anything running as the learner on this machine can use the API like the page does
(it can read the learner's files anyway); with ``--host`` set to a network address, so can every
machine on that network. There is no TLS: the page is served over plain HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..locale import LANGUAGES, environment_language, language, normalise
from ..serialization.safetensors_format import SafetensorsMissingError
from .explain import ExplainError, explain_weight
from .export import export_code, export_model, export_safetensors
from .guard import SameOriginGuard, SecurityHeaders, allowed_hosts
from .sessions import SessionStore, TooManySessions
from .settings import SettingsError, parse_json_int, shown, validate_epochs
from .snapshot import build_data, latest_state, publish_state, to_json

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 16 * 1024
BODY_SECONDS = 10.0        # the whole request body must arrive within this
EVENT_INTERVAL = 0.1       # at most ten state pushes a second per stream
HEARTBEAT_SECONDS = 15.0
MAX_STREAMS_PER_SESSION = 4
COMMANDS = ("play", "pause", "reset", "regenerate", "step", "settings", "language", "close")


def _language(value) -> str:
    if not isinstance(value, str) or value not in LANGUAGES:
        raise ApiError(422, f"lang must be one of {', '.join(LANGUAGES)}; got {shown(value)}")
    return value


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def _json(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(to_json(data), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return _json({"error": message}, status, headers)


async def _read_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"request body too large (the limit is {MAX_BODY_BYTES} bytes)")
    return body


async def _read_json(request: Request, seconds: float = BODY_SECONDS) -> dict:
    """The request's JSON object ({} for an empty body), or an ApiError saying what is wrong."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, f"Content-Length must be a whole number of bytes; got {shown(declared)}")
        if len(declared) > 9 or int(declared) > MAX_BODY_BYTES:
            raise ApiError(413, f"request body too large (the limit is {MAX_BODY_BYTES} bytes)")
    try:
        body = await asyncio.wait_for(_read_body(request), seconds)
    except asyncio.TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {seconds:g} s",
                       {"Connection": "close"}) from None
    except ClientDisconnect:
        raise ApiError(400, "the client went away before sending the whole body") from None
    if not body.strip():
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, f"send JSON with Content-Type: application/json, not {shown(kind or 'none')}")
    try:
        data = json.loads(body.decode("utf-8"), parse_int=parse_json_int)
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not valid JSON: it must be UTF-8") from None
    except RecursionError:
        raise ApiError(400, "the body is not valid JSON: it is nested too deeply") from None
    except ValueError as err:
        raise ApiError(400, f"the body is not valid JSON: {str(err)[:120]}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _only(data: dict, allowed: tuple) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        names = ", ".join(shown(name) for name in unknown[:5])
        raise ApiError(400, f"unknown field(s) {names}; expected {', '.join(allowed) or 'none'}")


def _locked(session, function, *args):
    with session.lock:
        return function(session, *args)


def _command(session, action: str, body: dict):
    """Run one command under the session's lock; the state after it."""
    with session.lock:
        if action == "settings":
            session.update_settings(body.get("settings", {}))
        elif action == "step":
            session.queue_epochs(body["epochs"])
        elif action == "language":
            session.set_language(body["lang"])
        else:
            getattr(session, action)()
        return publish_state(session)


class _Stream(StreamingResponse):
    """A streaming response that runs ``release`` once it ends, however it ends (the client
    gone, the task cancelled, an error), so a reserved stream slot is always given back."""

    def __init__(self, content, release, **options):
        super().__init__(content, **options)
        self.release = release

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


class _Playground(Starlette):
    """Starlette with SecurityHeaders outside its error layer, so a 500 carries them too."""

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack())


def create_app(store: SessionStore | None = None, max_sessions: int = 32,
               idle_seconds: float = 300.0, start_trainer: bool = True,
               hosts: list[str] | None = None, body_seconds: float = BODY_SECONDS,
               lang: str | None = None) -> Starlette:
    """The playground app. ``hosts``: the Host names it answers (default guard.allowed_hosts():
    the loopback names); ``body_seconds``: how long a request body may take to arrive; ``lang``:
    the language of a session whose page names none (default: the environment's)."""
    default_lang = normalise(lang) if lang else environment_language()
    if store is None:
        store = SessionStore(max_sessions=max_sessions, idle_seconds=idle_seconds)
    streams: dict[str, int] = {}   # session id -> event streams open (or reserved) for it

    def session_for(request: Request):
        sid = request.path_params["sid"]
        session = store.get(sid) if len(sid) == 32 and sid.isalnum() else None
        if session is None:
            raise ApiError(404, f"no session {shown(sid)}: it expired or never existed; start a new one")
        return session

    async def current_state(session) -> tuple[int, bytes]:
        """The session's state: the published copy when it is fresh enough, else built now."""
        return latest_state(session) or await run_in_threadpool(_locked, session, publish_state)

    async def index(request: Request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def create(request: Request):
        data = await _read_json(request, body_seconds)
        _only(data, ("settings", "lang"))
        settings = data.get("settings")
        lang = _language(data.get("lang", default_lang))

        def make():
            session = store.create({} if settings is None else settings, lang)
            return session.id, _locked(session, publish_state)[1]
        try:
            sid, state = await run_in_threadpool(make)
        except TooManySessions as err:
            raise ApiError(429, str(err), {"Retry-After": "30"}) from None
        body = b'{"id":' + json.dumps(sid).encode("ascii") + b',"state":' + state + b"}"
        return Response(body, status_code=201, media_type="application/json")

    async def state(request: Request):
        session = session_for(request)
        return Response((await current_state(session))[1], media_type="application/json")

    async def data(request: Request):
        session = session_for(request)
        return _json(await run_in_threadpool(_locked, session, build_data))

    async def command(request: Request):
        session = session_for(request)
        action = request.path_params["action"]
        if action not in COMMANDS:
            raise ApiError(404, f"unknown command {shown(action)}; commands are {', '.join(COMMANDS)}")
        body = await _read_json(request, body_seconds)
        _only(body, {"settings": ("settings",), "step": ("epochs",), "language": ("lang",)}.get(action, ()))
        if action == "close":
            store.drop(session.id)
            return _json({"closed": session.id})
        if action == "step":
            body = {"epochs": validate_epochs(body.get("epochs", 1))}
        if action == "language":
            body = {"lang": _language(body.get("lang"))}
        _, state = await run_in_threadpool(_command, session, action, body)
        store.wake()
        return Response(state, media_type="application/json")

    async def delete(request: Request):
        session = session_for(request)
        store.drop(session.id)
        return _json({"closed": session.id})

    async def explain(request: Request):
        session = session_for(request)
        params = dict(request.query_params)
        lang = _language(params.pop("lang")) if "lang" in params else None

        def answer(s):
            with language(lang or s.lang):
                return explain_weight(s, params)
        return _json(await run_in_threadpool(_locked, session, answer))

    async def export(request: Request):
        session = session_for(request)
        what = request.path_params["what"]
        if what == "code":
            code = await run_in_threadpool(_locked, session, export_code)
            return Response(code, media_type="text/x-python", headers={
                "Content-Disposition": 'attachment; filename="train_playground.py"'})
        if what == "model":
            blob = await run_in_threadpool(_locked, session, export_model)
            return Response(blob, media_type="application/octet-stream", headers={
                "Content-Disposition": 'attachment; filename="playground_model.crt"'})
        if what == "safetensors":
            try:
                blob = await run_in_threadpool(_locked, session, export_safetensors)
            except SafetensorsMissingError as err:
                raise ApiError(501, str(err)) from None
            return Response(blob, media_type="application/octet-stream", headers={
                "Content-Disposition": 'attachment; filename="playground_model.safetensors"'})
        raise ApiError(404, f"unknown export {shown(what)}; use model, safetensors or code")

    async def events(request: Request):
        session = session_for(request)
        sid = session.id
        # Count the stream now, before the first await: forty requests arriving together all see
        # the count their predecessors left, so no more than the cap are ever let through.
        if streams.get(sid, 0) >= MAX_STREAMS_PER_SESSION:
            raise ApiError(429, f"at most {MAX_STREAMS_PER_SESSION} event streams per session")
        streams[sid] = streams.get(sid, 0) + 1
        released = False

        def release():
            nonlocal released
            if not released:
                released = True
                left = streams.get(sid, 1) - 1
                if left > 0:
                    streams[sid] = left
                else:
                    streams.pop(sid, None)

        async def stream():
            sent_version, quiet = None, 0.0
            while not await request.is_disconnected():
                current = store.get(sid)
                if current is None:
                    yield b'event: gone\ndata: {"error": "session expired"}\n\n'
                    return
                if current.version != sent_version:
                    version, body = await current_state(current)
                    if version != sent_version:
                        sent_version, quiet = version, 0.0
                        yield b"event: state\ndata: " + body + b"\n\n"
                if quiet >= HEARTBEAT_SECONDS:
                    quiet = 0.0
                    yield b": keep-alive\n\n"
                await asyncio.sleep(EVENT_INTERVAL)
                quiet += EVENT_INTERVAL

        try:
            return _Stream(stream(), release, media_type="text/event-stream",
                           headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        except BaseException:
            release()
            raise

    async def api_error(request: Request, err: ApiError):
        return _error(err.status, err.message, err.headers)

    async def settings_error(request: Request, err: Exception):
        return _error(422, str(err))

    async def http_error(request: Request, err: HTTPException):
        return _error(err.status_code, str(err.detail or "request refused"), err.headers)

    async def server_error(request: Request, err: Exception):
        return _error(500, f"internal error ({type(err).__name__}); the server's log has the details")

    api = "/api/sessions/{sid}"
    routes = [
        Route("/", index),
        Route("/api/sessions", create, methods=["POST"]),
        Route(api, delete, methods=["DELETE"]),
        Route(api + "/state", state),
        Route(api + "/data", data),
        Route(api + "/events", events),
        Route(api + "/explain", explain),
        Route(api + "/export/{what}", export),
        Route(api + "/{action}", command, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {ApiError: api_error, SettingsError: settings_error, ExplainError: settings_error,
                HTTPException: http_error, Exception: server_error}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if start_trainer:
            store.start()
        try:
            yield
        finally:
            store.stop()

    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts or allowed_hosts()),
                  Middleware(SameOriginGuard)]
    app = _Playground(routes=routes, middleware=middleware, exception_handlers=handlers,
                      lifespan=lifespan)
    app.state.store = store
    app.state.streams = streams
    return app
