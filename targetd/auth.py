"""HTTP Basic authentication with a tarpit.

Credentials that passed once are remembered (a keyed digest, in memory) and pass at once afterwards. Any other
attempt goes through one gate, one at a time: the password is checked (scrypt), and a failure keeps the gate shut for
`delay` seconds before it is answered. So every failed attempt takes at least `delay`, and parallel guesses queue:
N bad logins at once take about N x `delay` together (one guess per `delay` for the whole daemon), while a client whose
credentials passed before is not slowed down by them. At most `max_waiting` attempts wait at the gate; more are
answered "busy" (HTTP 503) at once, without looking at their credentials (so they cannot guess faster)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from enum import Enum

from sanappliance.model.apiconfig import verify_password

DELAY = 1.0
MAX_WAITING = 64


class Verdict(Enum):
    OK = "ok"
    DENIED = "denied"
    BUSY = "busy"


class Authenticator:
    def __init__(self, user: str, password_hash: str, *, delay: float = DELAY, max_waiting: int = MAX_WAITING) -> None:
        self.user = user
        self.password_hash = password_hash
        self.delay = delay
        self._key = secrets.token_bytes(32)
        self._known: bytes | None = None  # digest of the credentials that passed last
        self._gate = threading.Lock()
        self._waiting = threading.BoundedSemaphore(max_waiting)

    def _digest(self, user: str, password: str) -> bytes:
        data = user.encode("utf-8", "surrogatepass") + b"\0" + password.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def _remembered(self, digest: bytes | None) -> bool:
        known = self._known
        return digest is not None and known is not None and hmac.compare_digest(digest, known)

    def check(self, user: str | None, password: str | None) -> Verdict:
        digest = self._digest(user, password) if user is not None and password is not None else None
        if self._remembered(digest):
            return Verdict.OK
        if not self._waiting.acquire(blocking=False):
            return Verdict.BUSY
        try:
            with self._gate:
                if self._remembered(digest):
                    return Verdict.OK
                if digest is not None and user is not None and password is not None:
                    user_ok = hmac.compare_digest(user.encode("utf-8", "surrogatepass"), self.user.encode())
                    if verify_password(password, self.password_hash) and user_ok:  # the hash costs the same for all
                        self._known = digest
                        return Verdict.OK
                time.sleep(self.delay)
                return Verdict.DENIED
        finally:
            self._waiting.release()


class JoinGate:
    """The cluster join secret as a credential (user `cluster-join`): checked by `verify` (against the hash the
    cluster node keeps), one attempt at a time, a failure answered after `delay` like a bad password."""

    def __init__(self, verify: Callable[[str], bool], *, delay: float = DELAY) -> None:
        self.verify = verify
        self.delay = delay
        self._gate = threading.Lock()

    def check(self, secret: str | None) -> Verdict:
        with self._gate:
            if secret is not None and self.verify(secret):
                return Verdict.OK
            time.sleep(self.delay)
            return Verdict.DENIED
