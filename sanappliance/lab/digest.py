"""What a failed VM test shows of its lab (pure): the journal lines that tell why a resource stopped or moved or a
node went away, and the end of a dead node's console. CI shows only the test output, not the collected logs, so a
failure has to carry its own evidence."""

from __future__ import annotations

import re

# Pacemaker's results other than ok, its fencing and recovery decisions, corosync's membership, sbd's warnings, the
# resource agents' errors, and the kernel's hung-task and watchdog reports
NOTABLE = re.compile(
    r"Result of \S+ operation for .*: (?!ok\b)"
    r"|Unexpected result|will be fenced|Fence \(|Requesting fencing|Operation '?\w+'? targeting"
    r"|Recover |Restart |Move |Stop .*(due to|because)|Forcing .* away"
    r"|Token has not been received|A processor failed|Node \S+ (is now )?lost|left the membership"
    r"|sbd\[\d+\]: .*(warning|error|Latency|outdated|[Rr]eset|fenc)"
    r"|ERROR:|\berror: |\bcrit: "
    r"|blocked for more than|watchdog: |Oops|BUG:|Out of memory")
# the guest agent logs every command the tests run (their words are not the node's), and a line that may carry a
# secret (the first boot's API password on the console, CHAP in a command) is never printed
LEFT_OUT = re.compile(r"qemu-ga\[|NMI watchdog|(?i:password|secret)")


def notable(journal: str, limit: int) -> list[str]:
    """The last `limit` notable lines of a journal text."""
    found = [line for line in journal.splitlines() if NOTABLE.search(line) and not LEFT_OUT.search(line)]
    return found[-limit:]


def console_end(console: str, lines: int) -> list[str]:
    """The last `lines` non-empty lines of a console log (carriage returns and escape sequences dropped)."""
    clean = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console.replace("\r", ""))
    return [line for line in clean.splitlines() if line.strip() and not LEFT_OUT.search(line)][-lines:]


def host_line(loadavg: str, ps: str, top: int = 5) -> str:
    """The host's load and its busiest processes (`ps -eo pcpu,etimes,comm --sort=-pcpu` output, header first): a
    failure in a slow lab may be the host's, not the nodes'."""
    rows = [line.split(None, 2) for line in ps.splitlines()[1:] if len(line.split(None, 2)) == 3]
    busiest = ", ".join(f"{comm} {pcpu}% for {int(secs) // 60} min" for pcpu, secs, comm in rows[:top])
    return f"host: load average {' '.join(loadavg.split()[:3])}; busiest: {busiest}"
