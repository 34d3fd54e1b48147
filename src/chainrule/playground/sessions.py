"""All live sessions: creation under a cap, lookup, idle expiry, and the trainer thread.

One background thread trains every playing session in turn, a short time slice each, so twenty
sessions share the CPU fairly and the HTTP event loop stays responsive. At the end of a slice,
while it still holds the session's lock, the trainer publishes the session's state if a reader
has asked for it since the last slice and the last one is PUBLISH_SECONDS old (no page shows
more than ten states a second), so readers never wait for a slice (see snapshot.py).
A session nobody has asked about for ``idle_seconds`` is dropped (its tab was closed or went to
sleep).
"""

from __future__ import annotations

import secrets
import threading
import time

from .session import Session
from .snapshot import publish_state

SLICE_SECONDS = 0.02   # training time per playing session per round
PUBLISH_SECONDS = 0.1  # the trainer publishes a watched session's state at most this often
IDLE_PAUSE = 0.05      # how long the trainer sleeps when nobody is training


class TooManySessions(RuntimeError):
    pass


class SessionStore:
    def __init__(self, max_sessions: int = 32, idle_seconds: float = 300.0):
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self.trainer_error = None

    # --- the table ------------------------------------------------------------------------
    def create(self, settings: dict | None = None, lang: str = "en") -> Session:
        self.expire()
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                raise TooManySessions(
                    f"the playground is full ({self.max_sessions} sessions); close a tab or try again later")
        session = Session(secrets.token_hex(16), settings, lang)  # validates; may raise SettingsError
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                raise TooManySessions(
                    f"the playground is full ({self.max_sessions} sessions); close a tab or try again later")
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is not None:
            session.touch()
        return session

    def drop(self, session_id: str) -> bool:
        with self._lock:
            return self._sessions.pop(session_id, None) is not None

    def __len__(self) -> int:
        return len(self._sessions)

    def expire(self, now: float | None = None) -> list[str]:
        """Drop sessions idle for longer than ``idle_seconds``; returns their ids."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [sid for sid, s in self._sessions.items() if now - s.last_seen > self.idle_seconds]
            for sid in stale:
                del self._sessions[sid]
        return stale

    def wake(self) -> None:
        self._wake.set()

    # --- the trainer thread -----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._train_forever, name="playground-trainer",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def train_round(self) -> int:
        """Give every session that wants training one slice; returns how many trained."""
        with self._lock:
            busy = [s for s in self._sessions.values() if s.wants_training]
        for session in busy:
            with session.lock:
                if not session.wants_training:
                    continue
                try:
                    session.advance(SLICE_SECONDS)
                except Exception as err:  # noqa: BLE001 - a bad session must not stop the others
                    session.error = f"training stopped: {type(err).__name__}: {err}"
                    session.playing = False
                    session.pending_epochs = 0
                    session.version += 1
                if session.state_wanted and (session.state_cache is None or
                                             time.monotonic() - session.state_cache[2] >= PUBLISH_SECONDS):
                    session.state_wanted = False
                    try:
                        publish_state(session)
                    except Exception:  # noqa: BLE001 - a reader then builds it and sees the error
                        session.state_cache = None
            time.sleep(0)  # let request handlers in between sessions
        return len(busy)

    def _train_forever(self) -> None:
        last_expiry = time.monotonic()
        while not self._stop.is_set():
            trained = self.train_round()
            if time.monotonic() - last_expiry > 1.0:
                self.expire()
                last_expiry = time.monotonic()
            if not trained:
                self._wake.wait(IDLE_PAUSE)
                self._wake.clear()
            else:
                time.sleep(0.001)
