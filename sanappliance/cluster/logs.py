"""The cluster daemons' logs (pure): which units, the time filters an admin may give (checked before journalctl
sees them), and the journalctl argv."""

from __future__ import annotations

import re

from sanappliance.errors import INVALID, SanError

JOURNALCTL = "/usr/bin/journalctl"
UNITS = ("corosync.service", "pacemaker.service", "sbd.service", "dlm.service", "lvmlockd.service")
MAX_LINES = 100_000
TIME_RES = (
    re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$"),  # 2026-12-01, 2026-12-01 08:15[:30]
    re.compile(r"^\d{2}:\d{2}(:\d{2})?$"),  # 08:15[:30] today
    re.compile(r"^-\d{1,6}(s|min|h|d)$"),  # -30min: that long ago
    re.compile(r"^(now|today|yesterday)$"),
)


def check_time(value: str, field: str) -> str:
    text = value.strip()
    if not any(r.match(text) for r in TIME_RES):
        raise SanError("a time is YYYY-MM-DD[ HH:MM[:SS]], HH:MM[:SS], -N(s|min|h|d), now, today or yesterday",
                       field=field, value=value, kind=INVALID)
    return text


def check_lines(value: int | str, field: str = "lines") -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 1 <= number <= MAX_LINES:
        raise SanError(f"a number of lines is 1-{MAX_LINES}", field=field, value=value, kind=INVALID)
    return number


def journal_argv(since: str = "", until: str = "", lines: int = 200) -> list[str]:
    """The newest `lines` lines of the cluster daemons between since and until (both checked by the caller)."""
    argv = [JOURNALCTL, "--no-pager", "--output=short-iso", "--lines", str(lines)]
    for unit in UNITS:
        argv += ["--unit", unit]
    argv += [f"--since={since}"] if since else []
    argv += [f"--until={until}"] if until else []
    return argv
