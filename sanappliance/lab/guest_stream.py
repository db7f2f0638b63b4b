"""A stream of self-checking writes from inside a client VM (the kernel's initiator, dm-multipath over the pool's
portals), the same writes as lab.stream's: write number n fills 4 KiB block n mod BLOCKS with the byte 1 + n mod 251,
O_DIRECT and O_DSYNC, about 20 a second, each one logged in the guest when it returns ("ok", acknowledged, or "err"
with its errno). The log is read back at the end; `lab.stream.lost_writes` checks the disk against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .stream import BLOCK, PACE, Write, expected

UNIT = "san-stream"
LOG, STOP, SCRIPT = "/root/stream.log", "/root/stream.stop", "/root/stream.py"
WRITER = f"""import mmap, os, sys, time
dev, blocks = sys.argv[1], int(sys.argv[2])
fd = os.open(dev, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
buf = mmap.mmap(-1, {BLOCK})
log = open("{LOG}", "a", buffering=1)
n = 0
while not os.path.exists("{STOP}"):
    buf.seek(0)
    buf.write(bytes([1 + n % 251]) * {BLOCK})
    sent = time.monotonic()
    try:
        os.pwrite(fd, buf, (n % blocks) * {BLOCK})
        log.write(f"ok {{n}} {{sent:.3f}} {{time.monotonic():.3f}}\\n")
    except OSError as exc:
        log.write(f"err {{n}} {{sent:.3f}} {{time.monotonic():.3f}} {{exc.errno}}\\n")
    n += 1
    time.sleep({PACE})
"""


def parse_log(text: str) -> list[Write]:
    writes = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] in ("ok", "err"):
            writes.append(Write(int(parts[1]), float(parts[2]), float(parts[3]), parts[0] == "ok",
                                " ".join(parts[4:])))
    return writes


@dataclass
class GuestStream:
    node: Any  # lab.node.Node: the client VM
    device: str  # /dev/mapper/<wwid> of the LUN on the client
    blocks: int = 8192
    writes: list[Write] = field(default_factory=list)

    def start(self) -> GuestStream:
        self.node.run(["/bin/sh", "-c", f"cat > {SCRIPT}"], input=WRITER, check=True)
        self.node.sh(f"rm -f {LOG} {STOP}; systemd-run --unit={UNIT} --collect /usr/bin/python3 {SCRIPT} "
                     f"{self.device} {self.blocks}")
        return self

    def read(self) -> list[Write]:
        self.writes = parse_log(self.node.sh(f"cat {LOG} 2>/dev/null", check=False).stdout)
        return self.writes

    def acked(self) -> int:
        return sum(1 for w in self.read() if w.acked)

    def finish(self, timeout: float = 600.0) -> list[Write]:
        """Stop it (a write blocked in a queueing map finishes first) and read the whole log."""
        self.node.sh(f"touch {STOP}")
        self.node.wait_for(f"! systemctl is-active --quiet {UNIT}", timeout=timeout, interval=2)
        return self.read()

    def failed(self) -> list[str]:
        return [f"write {w.n}: errno {w.reply}" for w in self.writes if not w.acked]

    def longest_gap(self) -> float:
        """The longest time between two acknowledged writes (the outage the client's applications saw)."""
        times = [w.answered for w in self.writes if w.acked]
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)

    def expected(self) -> dict[int, set[int]]:
        return expected(self.writes, self.blocks)


__all__ = ["GuestStream", "parse_log"]
