"""A CHAP secret for a host-side qemu-io, passed as a 0600 file (`--object secret,file=`), never on the command
line: `secret,data=` would show it in the host's process list for as long as the initiator runs."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

_DIR: list[Path] = []


def _directory() -> Path:
    if not _DIR:
        made = Path(tempfile.mkdtemp(prefix="sanlab-secrets-"))  # mode 0700, this process's own
        atexit.register(shutil.rmtree, made, True)
        _DIR.append(made)
    return _DIR[0]


def secret_object(secret: str) -> str:
    """The qemu `--object` value (id sec0, as the callers' password-secret= names it) that reads `secret` from a
    file only this user can read."""
    path = _directory() / hashlib.sha256(secret.encode()).hexdigest()[:16]
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secret)
    return f"secret,id=sec0,file={path}"
