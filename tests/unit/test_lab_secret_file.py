"""The lab's host-side initiators get their CHAP secret from a 0600 file, never on the command line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sanappliance.lab.secret_file import secret_object


def test_the_secret_is_in_a_private_file_and_not_in_the_argument():
    value = secret_object("s3cret-4711")
    assert "s3cret-4711" not in value and value.startswith("secret,id=sec0,file=")
    path = Path(value.split("file=", 1)[1])
    assert path.read_text() == "s3cret-4711"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == os.getuid()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secret_object("s3cret-4711") == value  # one file per secret
    assert secret_object("other") != value
