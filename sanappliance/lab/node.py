"""One running lab node: its qemu process, its channels, and what a test does to it."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

from sanappliance.apply.runner import run, tool

from .channels import ChannelTimeout, ExecResult, GuestAgent, Qmp
from .qemu import NodePaths, Wiring, qemu_argv, san_device
from .spec import Boot, Images, LabError, NodeSpec

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the qemu child: be killed if the lab process dies, so no qemu is ever left behind."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Node:
    def __init__(self, spec: NodeSpec, wiring: Wiring, workdir: Path, images: Images) -> None:
        self.spec = spec
        self.wiring = wiring
        self.paths = NodePaths(workdir)
        self.images = images
        self.proc: subprocess.Popen[bytes] | None = None
        self.qmp = Qmp(self.paths.qmp_sock)
        self.agent = GuestAgent(self.paths.agent_sock)
        self.started_at = 0.0
        self.ready_seconds: float | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def prepare_disks(self) -> None:
        self.paths.workdir.mkdir(parents=True, exist_ok=True)
        qemu_img = tool("qemu-img", "qemu-utils")
        if self.spec.boot is Boot.LAB:
            self.paths.overlay.unlink(missing_ok=True)
            run([qemu_img, "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(self.images.root.resolve()),
                 str(self.paths.overlay)])
        for disk in self.spec.disks:
            path = self.paths.disk(disk.serial)
            if not path.exists():
                run([qemu_img, "create", "-q", "-f", "qcow2", str(path), str(disk.size_bytes)])

    def argv(self) -> list[str]:
        return qemu_argv(tool("qemu-system-x86_64", "qemu-system-x86"), self.spec, self.wiring, self.paths,
                         kernel=self.images.kernel, initrd=self.images.initrd, iso=self.images.iso)

    def start(self) -> None:
        """Start qemu and wait until its monitor answers (taps and sockets exist then). Raises if qemu exits."""
        argv = self.argv()
        for sock in (self.paths.qmp_sock, self.paths.agent_sock, self.paths.console_sock):
            sock.unlink(missing_ok=True)
        with self.paths.qemu_log.open("ab") as log:
            log.write(("\n$ " + " ".join(argv) + "\n").encode())
            log.flush()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        self.started_at = time.monotonic()
        self.ready_seconds = None
        deadline = time.monotonic() + 30
        while True:
            self._check_alive("while starting")
            try:
                self.qmp.connect(timeout=2)
                return
            except LabError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise LabError(f"qemu of {self.name} did not open its monitor in 30 s; see {self.paths.qemu_log}",
                                   field="node", value=self.name) from None
                time.sleep(0.1)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _check_alive(self, when: str) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = "\n".join(line for line in self.log_tail(self.paths.qemu_log, 8).splitlines()
                             if not line.startswith("$ "))
            raise LabError(f"qemu of {self.name} exited with code {self.proc.returncode} {when}; "
                           f"console {self.paths.console_log}, qemu log {self.paths.qemu_log}:\n{tail}",
                           field="node", value=self.name)

    def wait_ready(self, timeout: float) -> float:
        """Wait until the guest agent answers and systemd has finished booting; returns seconds since qemu start."""
        deadline = self.started_at + timeout
        while True:
            self._check_alive("before it was ready")
            if time.monotonic() > deadline:
                raise LabError(f"{self.name} did not come up within {timeout:.0f} s; console log kept at "
                               f"{self.paths.console_log}:\n{self.log_tail(self.paths.console_log, 12)}",
                               field="node", value=self.name)
            try:
                self.agent.sync(timeout=2)
                break
            except (LabError, OSError):
                self.agent.close()
                time.sleep(0.5)
        remaining = max(5.0, deadline - time.monotonic())
        state = self.run(["/usr/bin/systemctl", "is-system-running", "--wait"], timeout=remaining).stdout.strip()
        if state not in ("running", "degraded"):
            raise LabError(f"{self.name} booted to system state {state!r}", field="node", value=self.name)
        self.ready_seconds = time.monotonic() - self.started_at
        return self.ready_seconds

    def kill(self) -> None:
        """Pull the plug: SIGKILL qemu (what a failover test wants of a dying node)."""
        self.agent.close()
        self.qmp.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def power_off(self, timeout: float = 60.0) -> bool:
        """Clean shutdown through the guest (ACPI power button); pulls the plug after `timeout`. True if clean."""
        if not self.alive():
            return True
        try:
            self.qmp.command("system_powerdown")
        except (LabError, OSError):
            pass
        try:
            assert self.proc is not None
            self.proc.wait(timeout=timeout)
            clean = True
        except subprocess.TimeoutExpired:
            clean = False
        self.kill()
        return clean

    def set_link(self, network: str, up: bool, nth: int = 1) -> None:
        """Cable pulled or plugged on the node's NIC of `network` (the `nth` one when it has several there, as the
        ports of a bond); the guest sees the carrier change."""
        self.qmp.command("set_link", name=f"net-{network}" if nth == 1 else f"net-{network}-{nth}", up=up)

    def set_path(self, serial: str, path: int, up: bool, timeout: float = 30.0) -> None:
        """A SAN disk's path (0-based) cut or restored, as a pulled and plugged cable of the shelf: its SCSI device
        leaves the node (QMP device_del, the guest sees the hot unplug) or comes back (device_add)."""
        index, disk = next((i, d) for i, (d, _p) in enumerate(self.wiring.san) if d.serial == serial)
        props = san_device(disk, index, path)
        ident = props["id"]
        if not up:
            self.qmp.command("device_del", id=ident)
            deadline = time.monotonic() + timeout
            while ident in self._peripherals():
                if time.monotonic() > deadline:
                    raise LabError("the guest did not release the SCSI device", field="path", value=ident)
                time.sleep(0.2)
            return
        typed: dict[str, object] = {**props, "share-rw": True, "wwn": int(disk.wwn, 16)}
        self.qmp.command("device_add", **typed)

    def _peripherals(self) -> set[str]:
        return {str(item["name"]) for item in self.qmp.command("qom-list", path="/machine/peripheral")}

    # --- commands inside --------------------------------------------------------------------------------------------

    def run(self, argv: list[str], *, check: bool = False, input: str | None = None,
            timeout: float = 120.0) -> ExecResult:
        self._check_alive("")
        try:
            result = self.agent.exec(argv, input=input, timeout=timeout)
        except ChannelTimeout:
            self.agent.close()
            raise
        if check and not result.ok:
            raise LabError(f"{self.name}: {' '.join(argv)} exited {result.returncode}: "
                           f"{(result.stderr or result.stdout).strip()[-800:]}", field="command", value=argv)
        return result

    def sh(self, script: str, *, check: bool = True, timeout: float = 120.0) -> ExecResult:
        return self.run(["/bin/sh", "-c", script], check=check, timeout=timeout)

    def wait_for(self, script: str, timeout: float = 60.0, interval: float = 1.0) -> float:
        """Run `script` until it exits 0; returns the seconds it took, or raises a LabError with its last output."""
        started = time.monotonic()
        while True:
            result = self.sh(script, check=False, timeout=max(5.0, timeout))
            if result.ok:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise LabError(f"{self.name}: `{script}` did not succeed within {timeout:.0f} s: "
                               f"{(result.stderr or result.stdout).strip()[-400:]}", field="wait", value=script)
            time.sleep(interval)

    # --- evidence ---------------------------------------------------------------------------------------------------

    @staticmethod
    def log_tail(path: Path, lines: int) -> str:
        try:
            text = path.read_bytes().decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.replace("\r", "").splitlines()[-lines:])

    def rss_bytes(self) -> int:
        if not self.alive():
            return 0
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def collect_logs(self, dest: Path) -> None:
        """Console, qemu log and (when the guest still answers) the journal and failed units, into dest."""
        dest.mkdir(parents=True, exist_ok=True)
        for src in (self.paths.console_log, self.paths.qemu_log):
            if src.exists():
                (dest / src.name).write_bytes(src.read_bytes())
        if self.alive():
            for name, argv in (("journal.txt", ["/usr/bin/journalctl", "-b", "--no-pager", "-o", "short-monotonic"]),
                               ("failed-units.txt", ["/usr/bin/systemctl", "--failed", "--no-pager"])):
                try:
                    result = self.agent.exec(argv, timeout=30)
                    (dest / name).write_text(result.stdout + result.stderr)
                except (LabError, OSError):
                    break
        os.sync()
