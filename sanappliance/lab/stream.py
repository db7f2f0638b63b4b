"""An initiator's stream of sequence-numbered, self-checking writes through a pool's floating address, and the check
that every acknowledged write is on the disk afterwards (the cluster VM tests and the failover benchmark).

One qemu-io process on the host (libiscsi, inside the lab's network namespace: one iSCSI session, which libiscsi
logs in again by itself when the portal goes away and comes back) is fed one write at a time: write number n fills
4 KiB block n mod BLOCKS with the byte 1 + n mod 251. qemu-io answers each write with "wrote ..." (the target
acknowledged it) or "write failed: ..." (not acknowledged: it may or may not have reached the disk). The check reads
the LV on the node that serves the pool: each block written must hold the byte of its last acknowledged write, or of
a write to it sent after that one (which may have landed without its acknowledgement reaching the initiator).
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from .secret_file import secret_object

BLOCK = 4096
BLOCKS = 8192  # 32 MiB of the volume
PACE = 0.05  # seconds between writes: about 20 a second, so the stream wraps only after several minutes


def pattern(n: int) -> int:
    return 1 + n % 251


class GuestStreamLike(Protocol):
    blocks: int

    def expected(self) -> dict[int, set[int]]: ...


@dataclass
class Write:
    n: int
    sent: float
    answered: float = 0.0
    acked: bool = False
    reply: str = ""


@dataclass
class Stream:
    lab: object
    portal: str
    target: str
    initiator: str
    user: str
    secret: str
    lun: int = 0
    blocks: int = BLOCKS  # the blocks written over, from the LUN's start (BLOCKS: 32 MiB)
    writes: list[Write] = field(default_factory=list)
    output: list[tuple[float, str]] = field(default_factory=list)

    def start(self) -> Stream:
        opts = (f"driver=iscsi,transport=tcp,portal={self.portal}:3260,target={self.target},lun={self.lun},"
                f"initiator-name={self.initiator}")
        argv = ["/usr/bin/stdbuf", "-oL", "-eL", "/usr/bin/qemu-io", "--image-opts"]
        if self.user:  # CHAP
            argv += ["--object", secret_object(self.secret)]
            opts += f",user={self.user},password-secret=sec0"
        argv.append(opts)
        netns = self.lab.netns  # type: ignore[attr-defined]
        self.proc = subprocess.Popen([netns.ip, "netns", "exec", netns.name, *argv], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.stop = threading.Event()
        self.answer = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.reader.start()
        self.feeder.start()
        return self

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            now = time.monotonic()
            line = raw.replace("qemu-io> ", "").strip()
            self.output.append((now, line))
            if line.startswith(("wrote ", "write failed")) and self.writes and not self.writes[-1].answered:
                last = self.writes[-1]
                last.answered, last.acked, last.reply = now, line.startswith("wrote "), line
                self.answer.set()

    def _feed(self) -> None:
        assert self.proc.stdin is not None
        n = 0
        while not self.stop.is_set() and self.proc.poll() is None:
            self.answer.clear()
            self.writes.append(Write(n, time.monotonic()))
            try:
                self.proc.stdin.write(f"write -P {pattern(n)} {(n % self.blocks) * BLOCK} {BLOCK}\n")
                self.proc.stdin.flush()
            except OSError:
                break
            while not self.answer.wait(0.5):
                if self.proc.poll() is not None:
                    return
            n += 1
            time.sleep(PACE)
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except OSError:
            pass

    # --- what happened ---------------------------------------------------------------------------------------------

    def acked(self) -> int:
        return sum(1 for w in self.writes if w.acked)

    def acked_since(self, since: float) -> int:
        return sum(1 for w in self.writes if w.acked and w.answered >= since)

    def first_ack_after(self, since: float) -> float | None:
        return next((w.answered for w in self.writes if w.acked and w.answered >= since), None)

    def longest_gap(self, since: float) -> float:
        """The longest time without an acknowledged write, from `since` on (the outage the initiator saw)."""
        return self.outage(since)[0]

    def outage(self, since: float) -> tuple[float, float | None]:
        """(the longest time without an acknowledged write from `since` on, when the first write after it was
        acknowledged: the initiator's I/O back; None while none has been since)."""
        times = [since] + [w.answered for w in self.writes if w.acked and w.answered >= since]
        gaps = [(b - a, b) for a, b in zip(times, times[1:], strict=False)]
        return max(gaps, default=(0.0, None))

    def failed(self) -> list[str]:
        return [w.reply for w in self.writes if w.answered and not w.acked]

    def finish(self) -> None:
        self.stop.set()
        self.feeder.join(timeout=600)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.reader.join(timeout=30)

    def expected(self) -> dict[int, set[int]]:
        return expected(self.writes, self.blocks)


def expected(writes: list[Write], blocks: int) -> dict[int, set[int]]:
    """Block -> the bytes it may hold: its last acknowledged write's, or any sent after that one."""
    allowed: dict[int, set[int]] = {}
    for w in writes:
        block = w.n % blocks
        if w.acked:
            allowed[block] = {pattern(w.n)}
        elif block in allowed:
            allowed[block].add(pattern(w.n))
    return allowed


READER = ("import sys\n"  # reads the blocks from stdin (dd iflag=direct: past the page cache, as LIO writes)
          "f = sys.stdin.buffer\n"
          "out = []\n"
          "for i in range(int(sys.argv[1])):\n"
          f"    b = f.read({BLOCK})\n"
          "    out.append(str(b[0]) if b and b == bytes([b[0]]) * len(b) else 'x')\n"
          "print(' '.join(out))\n")


def lost_writes(node, device: str, stream: Stream | GuestStreamLike) -> list[str]:
    """The blocks whose content is none the stream allows (acknowledged writes lost or torn), read on `node`."""
    node.run(["/bin/sh", "-c", "cat > /root/blocks.py"], input=READER, check=True)
    seen = node.sh(f"dd if={device} bs={BLOCK} count={stream.blocks} iflag=direct status=none | "
                   f"python3 /root/blocks.py {stream.blocks}", timeout=300).stdout.split()
    problems = []
    for block, allowed in sorted(stream.expected().items()):
        value = seen[block]
        if value == "x" or int(value) not in allowed:
            problems.append(f"block {block}: {value}, expected one of {sorted(allowed)}")
    return problems
