"""Who is logged in, and the checks every request passes: the login session (a random id kept in the signed session
cookie, known to the server while it lives), the CSRF token of every change, safe redirects and the security headers
of every answer."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MAX_SESSIONS = 256  # logged-in sessions kept at once; the oldest goes first

# script, style, images and fetches from this origin only; nothing inline, no frames, forms post here only
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass
class _Login:
    user: str
    idle_until: float
    ends_at: float


class SessionRegistry:
    """The logged-in sessions, in memory. A login gets a random id (the cookie carries it, signed); a request counts
    only while its id is here and neither its idle time (`idle_seconds` since the last request that was not a
    background poll) nor its lifetime (`max_seconds` since the login) ran out. Logging out forgets the id, so a copied
    cookie stops working with it; a restart of the server logs everyone out."""

    def __init__(self, idle_seconds: float, max_seconds: float, clock: Callable[[], float],
                 limit: int = MAX_SESSIONS) -> None:
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock
        self.limit = limit
        self._logins: dict[str, _Login] = {}
        self._lock = threading.Lock()

    def open(self, user: str) -> str:
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._expire(now)
            while len(self._logins) >= self.limit:
                del self._logins[next(iter(self._logins))]  # dicts keep insertion order: the oldest login
            self._logins[sid] = _Login(user, now + self.idle_seconds, now + self.max_seconds)
        return sid

    def user(self, sid: object, *, active: bool = True) -> str | None:
        """The user of a live session (its idle time starts again if `active`), or None."""
        if not isinstance(sid, str):
            return None
        now = self.clock()
        with self._lock:
            login = self._logins.get(sid)
            if login is None:
                return None
            if now >= login.idle_until or now >= login.ends_at:
                del self._logins[sid]
                return None
            if active:
                login.idle_until = now + self.idle_seconds
            return login.user

    def close(self, sid: object) -> None:
        if isinstance(sid, str):
            with self._lock:
                self._logins.pop(sid, None)

    def __len__(self) -> int:
        return len(self._logins)

    def _expire(self, now: float) -> None:
        for sid in [s for s, x in self._logins.items() if now >= x.idle_until or now >= x.ends_at]:
            del self._logins[sid]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(expected: object, given: object) -> bool:
    return (isinstance(expected, str) and isinstance(given, str) and bool(expected) and
            hmac.compare_digest(expected.encode(), given.encode()))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative //host, no backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or \
            any(ord(c) < 0x20 for c in target):
        return default
    return target
