"""The playground's HTTP layer (Starlette): sessions, commands, state by server-sent events.

    POST   /api/sessions                   {"settings": {...}}   → 201 {"id", "state"}
    GET    /api/sessions/{id}/state        the page's full state (JSON)
    GET    /api/sessions/{id}/events       the same state, pushed as server-sent events
    GET    /api/sessions/{id}/data         the train and test points
    POST   /api/sessions/{id}/settings     {"settings": {...changes}}
    POST   /api/sessions/{id}/play|pause|reset|regenerate
    POST   /api/sessions/{id}/step         {"epochs": n}
    GET    /api/sessions/{id}/explain      ?layer=L&neuron=J[&source=I][&example=K][&view=forward|backward]
                                          the number the page shows for that element, derived
    GET    /api/sessions/{id}/export/model the trained weights as a chainrule save file
    GET    /api/sessions/{id}/export/code  a Python script that rebuilds and retrains the network
    DELETE /api/sessions/{id}              (or POST .../close, for the page's unload beacon)

Every error is JSON {"error": message} with a 4xx status; nothing here trains or computes the
model itself (see session.py, snapshot.py, explain.py, export.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .explain import ExplainError, explain_weight
from .export import export_code, export_model
from .sessions import SessionStore, TooManySessions
from .settings import SettingsError, validate_epochs
from .snapshot import build_data, build_state

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 16 * 1024
EVENT_INTERVAL = 0.1       # at most ten state pushes a second per stream
HEARTBEAT_SECONDS = 15.0
MAX_STREAMS_PER_SESSION = 4
COMMANDS = ("play", "pause", "reset", "regenerate", "step", "settings", "close")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def _clean(value):
    """JSON has no NaN or Infinity: send null instead."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _json(data, status: int = 200) -> Response:
    body = json.dumps(_clean(data), separators=(",", ":"), allow_nan=False)
    return Response(body, status_code=status, media_type="application/json")


async def _read_json(request: Request) -> dict:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise ApiError(413, f"request body too large (the limit is {MAX_BODY_BYTES} bytes)")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"request body too large (the limit is {MAX_BODY_BYTES} bytes)")
    if not body.strip():
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in ("application/json", "text/plain", ""):  # text/plain: the page's unload beacon
        raise ApiError(415, f"send JSON (content-type application/json), not {kind}")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, f"the body is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _only(data: dict, allowed: tuple) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown field(s) {', '.join(unknown)}; expected {', '.join(allowed) or 'none'}")


def _locked(session, function, *args):
    with session.lock:
        return function(session, *args)


def create_app(store: SessionStore | None = None, max_sessions: int = 32,
               idle_seconds: float = 300.0, start_trainer: bool = True) -> Starlette:
    if store is None:
        store = SessionStore(max_sessions=max_sessions, idle_seconds=idle_seconds)
    streams: dict[str, int] = {}

    def session_for(request: Request):
        sid = request.path_params["sid"]
        session = store.get(sid) if len(sid) == 32 and sid.isalnum() else None
        if session is None:
            raise ApiError(404, f"no session {sid[:40]!r}: it expired or never existed; start a new one")
        return session

    async def index(request: Request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def create(request: Request):
        data = await _read_json(request)
        _only(data, ("settings",))
        try:
            session = await run_in_threadpool(store.create, data.get("settings") or {})
        except TooManySessions as err:
            raise ApiError(429, str(err), {"Retry-After": "30"}) from None
        state = await run_in_threadpool(_locked, session, build_state)
        return _json({"id": session.id, "state": state}, 201)

    async def state(request: Request):
        session = session_for(request)
        return _json(await run_in_threadpool(_locked, session, build_state))

    async def data(request: Request):
        session = session_for(request)
        return _json(await run_in_threadpool(_locked, session, build_data))

    async def command(request: Request):
        session = session_for(request)
        action = request.path_params["action"]
        if action not in COMMANDS:
            raise ApiError(404, f"unknown command {action[:40]!r}; commands are {', '.join(COMMANDS)}")
        body = await _read_json(request)
        if action == "close":
            store.drop(session.id)
            return _json({"closed": session.id})
        if action == "settings":
            _only(body, ("settings",))
            changes = body.get("settings", {})
            await run_in_threadpool(_locked, session, lambda s: s.update_settings(changes))
        elif action == "step":
            _only(body, ("epochs",))
            epochs = validate_epochs(body.get("epochs", 1))
            with session.lock:
                session.queue_epochs(epochs)
        else:
            _only(body, ())
            await run_in_threadpool(_locked, session, lambda s: getattr(s, action)())
        store.wake()
        return _json(await run_in_threadpool(_locked, session, build_state))

    async def delete(request: Request):
        session = session_for(request)
        store.drop(session.id)
        return _json({"closed": session.id})

    async def explain(request: Request):
        session = session_for(request)
        params = dict(request.query_params)
        text = await run_in_threadpool(_locked, session, lambda s: explain_weight(s, params))
        return _json(text)

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
        raise ApiError(404, f"unknown export {what[:40]!r}; use model or code")

    async def events(request: Request):
        session = session_for(request)
        if streams.get(session.id, 0) >= MAX_STREAMS_PER_SESSION:
            raise ApiError(429, f"at most {MAX_STREAMS_PER_SESSION} event streams per session")
        sid = session.id

        async def stream():
            streams[sid] = streams.get(sid, 0) + 1
            sent_version, quiet = None, 0.0
            try:
                while not await request.is_disconnected():
                    current = store.get(sid)
                    if current is None:
                        yield "event: gone\ndata: {\"error\": \"session expired\"}\n\n"
                        return
                    if current.version != sent_version:
                        snapshot = await run_in_threadpool(_locked, current, build_state)
                        sent_version, quiet = snapshot["version"], 0.0
                        body = json.dumps(_clean(snapshot), separators=(",", ":"))
                        yield f"event: state\ndata: {body}\n\n"
                    elif quiet >= HEARTBEAT_SECONDS:
                        quiet = 0.0
                        yield ": keep-alive\n\n"
                    await asyncio.sleep(EVENT_INTERVAL)
                    quiet += EVENT_INTERVAL
            finally:
                streams[sid] = streams.get(sid, 1) - 1
                if streams[sid] <= 0:
                    streams.pop(sid, None)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def api_error(request: Request, err: ApiError):
        return JSONResponse({"error": err.message}, status_code=err.status, headers=err.headers)

    async def settings_error(request: Request, err: Exception):
        return JSONResponse({"error": str(err)}, status_code=422)

    async def http_error(request: Request, err: HTTPException):
        return JSONResponse({"error": err.detail or "request refused"}, status_code=err.status_code)

    async def server_error(request: Request, err: Exception):
        return JSONResponse({"error": f"internal error: {type(err).__name__}: {err}"}, status_code=500)

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

    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.state.store = store
    return app
