"""A lab: several appliance nodes under qemu with shared disks and private networks, set up and torn down as one."""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sanappliance.apply.runner import run, tool
from sanappliance.errors import SanError

from .accel import choose_accel
from .digest import console_end, host_line, notable
from .netns import LabNetns
from .node import Node
from .qemu import Wiring, mac
from .spec import Boot, Images, LabError, LabSpec, NodeSpec, check


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise LabError(f"port 127.0.0.1:{port} is in use ({what}): {exc.strerror}", field="forwards.host_port",
                           value=port) from exc


# one line from inside a node: its load average and the memory it has left
LOAD_AND_MEMORY = ("printf 'load %s %s %s, ' $(cut -d' ' -f1-3 /proc/loadavg); "
                   "awk '/^MemTotal/ {t=$2} /^MemAvailable/ {a=$2} "
                   "END {printf \"%d of %d MiB available\", a/1024, t/1024}' /proc/meminfo")


class Lab:
    """Use as a context manager: `with Lab(spec, images, workdir) as lab: lab.node("node1").sh("...")`."""

    def __init__(self, spec: LabSpec, images: Images, workdir: Path, *, accel: str | None = None) -> None:
        self.spec = spec
        self.images = images
        self.workdir = Path(workdir).resolve()
        self.id = secrets.token_hex(2)
        self.accel = accel
        self.netns = LabNetns(f"sanlab-{self.id}")
        self.nodes: dict[str, Node] = {}
        self.boot_seconds: float | None = None

    # --- setup ------------------------------------------------------------------------------------------------------

    def _wire(self, accel: str) -> dict[str, Wiring]:
        wirings = {}
        auto_vcpus = 1  # MTTCG with 2 vCPUs can oops the guest kernel (int3 text patching race); see README
        shared = tuple((d.serial, self.workdir / f"shared-{d.serial}.img") for d in self.spec.shared_disks)
        san = tuple((d, self.workdir / f"san-{d.serial}.img") for d in self.spec.san_disks)
        for index, node in enumerate(self.spec.nodes, start=1):
            forwards = []
            for fwd in node.forwards:
                if fwd.host_port:
                    require_free(fwd.host_port, f"node {node.name}, forward to guest port {fwd.guest_port}")
                forwards.append((fwd.host_port or free_port(), fwd.guest_port))
            taps = tuple((net, f"sl{self.id}n{index}x{j}") for j, net in enumerate(node.networks, start=1))
            wirings[node.name] = Wiring(index=index, vcpus=node.vcpus or auto_vcpus, taps=taps,
                                        forwards=tuple(forwards), shared=shared, accel=accel, san=san)
        return wirings

    def start(self) -> Lab:
        """Validate, create disks and networks, boot every node in parallel and wait until all are ready."""
        check(self.spec)
        for node in self.spec.nodes:
            self.images.require(node.boot)
        qemu = tool("qemu-system-x86_64", "qemu-system-x86")
        accel = self.accel or choose_accel(qemu, self.images.kernel if self.images.kernel.exists() else Path("/"))
        wirings = self._wire(accel)  # port checks before anything is created
        self.workdir.mkdir(parents=True, exist_ok=True)
        for spec in self.spec.nodes:  # a new lab: no data disk of an earlier one that was killed before its teardown
            for path in (self.workdir / spec.name).glob("disk-*.qcow2"):
                path.unlink()
        started = time.monotonic()
        try:
            for serial, path in next(iter(wirings.values())).shared:
                size = next(d for d in self.spec.shared_disks if d.serial == serial).size_bytes
                run([tool("qemu-img", "qemu-utils"), "create", "-q", "-f", "raw", str(path), str(size)])
            for disk, path in next(iter(wirings.values())).san:
                run([tool("qemu-img", "qemu-utils"), "create", "-q", "-f", "raw", str(path), str(disk.size_bytes)])
            if self.spec.networks:
                self.netns.create()
                for net in self.spec.networks:
                    self.netns.add_bridge(f"br-{net.name}", net.bridge_address())
            for spec in self.spec.nodes:
                self._boot(spec, wirings[spec.name])
            self._write_state()
            self.wait_ready(list(self.nodes))
            self.boot_seconds = time.monotonic() - started
            for name in self.nodes:
                if self.spec.node(name).boot is Boot.LAB:
                    self.configure_networks(name)
        except BaseException:
            self.close()
            raise
        return self

    def _boot(self, spec: NodeSpec, wiring: Wiring) -> Node:
        """The node's disks made, qemu started, its taps on the lab's bridges (not waited for)."""
        node = Node(spec, wiring, self.workdir / spec.name, self.images)
        self.nodes[spec.name] = node
        node.prepare_disks()
        node.start()
        for net, tap in node.wiring.taps:
            self.netns.adopt_tap(tap, f"br-{net}")
        return node

    def add_node(self, spec: NodeSpec) -> Node:
        """Boot one more node in the running lab (a client that comes and goes: an initiator VM), on the lab's
        networks, without the shared disks."""
        if spec.name in self.nodes:
            raise LabError("a node of this name runs already", field="node", value=spec.name)
        check(replace(self.spec, nodes=(*self.spec.nodes, spec)))
        self.spec = replace(self.spec, nodes=(*self.spec.nodes, spec))
        index = max(n.wiring.index for n in self.nodes.values()) + 1
        taps = tuple((net, f"sl{self.id}n{index}x{j}") for j, net in enumerate(spec.networks, start=1))
        forwards = tuple((fwd.host_port or free_port(), fwd.guest_port) for fwd in spec.forwards)
        first = next(iter(self.nodes.values())).wiring
        wiring = Wiring(index=index, vcpus=spec.vcpus or 1, taps=taps, forwards=forwards, shared=(),
                        accel=first.accel)
        node = self._boot(spec, wiring)
        self._write_state()
        node.wait_ready(self.spec.ready_timeout)
        if spec.boot is Boot.LAB:
            self.configure_networks(spec.name)
        return node

    def remove_node(self, name: str) -> None:
        """Kill an added node and forget it (its disks go with it)."""
        node = self.nodes.pop(name)
        node.kill()
        for path in node.paths.workdir.glob("*.qcow2"):
            path.unlink(missing_ok=True)
        self.spec = replace(self.spec, nodes=tuple(n for n in self.spec.nodes if n.name != name))
        self._write_state()

    def wait_ready(self, names: list[str]) -> None:
        """Wait for several nodes at once; the first failure is raised after all waits have ended."""
        errors: list[BaseException] = []

        def wait(node: Node) -> None:
            try:
                node.wait_ready(self.spec.ready_timeout)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                errors.append(exc)

        threads = [threading.Thread(target=wait, args=(self.nodes[n],), daemon=True) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def configure_networks(self, name: str) -> None:
        """Static addresses on the node's private NICs, as systemd-networkd runtime files matched by MAC."""
        node = self.nodes[name]
        if not self.spec.node(name).lab_addresses:
            return
        files = []
        for nic, (net_name, _tap) in enumerate(node.wiring.taps, start=1):
            net = next(n for n in self.spec.networks if n.name == net_name)
            files.append(f"cat > /run/systemd/network/10-lab-{net.name}.network <<'EOF'\n[Match]\n"
                         f"MACAddress={mac(node.wiring.index, nic)}\n\n[Network]\n"
                         f"Address={net.address(node.wiring.index)}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
                         "ConfigureWithoutCarrier=yes\nEOF\n")
        if files:
            node.sh("mkdir -p /run/systemd/network\n" + "".join(files) + "networkctl reload")

    def _write_state(self) -> None:
        """lab.json in the workdir: what `python -m sanappliance.lab exec/console` needs to reach the nodes."""
        state = {"id": self.id, "netns": self.netns.name if self.netns.created else None, "nodes": {
            name: {"agent": str(n.paths.agent_sock), "console": str(n.paths.console_sock),
                   "qmp": str(n.paths.qmp_sock), "pid": n.proc.pid if n.proc else None,
                   "forwards": {str(g): h for h, g in n.wiring.forwards},
                   "addresses": {net: next(x for x in self.spec.networks if x.name == net).address(n.wiring.index)
                                 for net, _ in n.wiring.taps}}
            for name, n in self.nodes.items()}}
        (self.workdir / "lab.json").write_text(json.dumps(state, indent=2) + "\n")

    # --- operations -------------------------------------------------------------------------------------------------

    def node(self, name: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            raise LabError("no such node", field="node", value=name) from None

    def address(self, node: str, network: str) -> str:
        """The node's address on a private network, without the prefix length."""
        net = next((n for n in self.spec.networks if n.name == network), None)
        if net is None:
            raise LabError("no such network", field="network", value=network)
        return net.address(self.node(node).wiring.index).split("/")[0]

    def forward(self, node: str, guest_port: int) -> int:
        """The loopback port on the host that reaches `guest_port` of the node."""
        for host, guest in self.node(node).wiring.forwards:
            if guest == guest_port:
                return host
        raise LabError("no forward for that guest port", field="guest_port", value=guest_port)

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str, interval: float = 1.0) -> float:
        """Poll `condition` until it holds; returns the seconds it took, or raises a LabError naming `what`."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise LabError(f"timed out after {timeout:.0f} s waiting for {what}", field="wait", value=what)
            time.sleep(interval)
        return time.monotonic() - started

    def cut(self, node: str, network: str, nth: int = 1) -> None:
        self.node(node).set_link(network, False, nth)

    def restore(self, node: str, network: str, nth: int = 1) -> None:
        self.node(node).set_link(network, True, nth)

    def restart(self, name: str) -> float:
        """Boot a node again (after a power-off or kill) on the same disks; returns its boot-to-ready seconds."""
        node = self.node(name)
        node.kill()
        node.start()
        for net, tap in node.wiring.taps:
            self.netns.adopt_tap(tap, f"br-{net}")
        self._write_state()
        seconds = node.wait_ready(self.spec.ready_timeout)
        if self.spec.node(name).boot is Boot.LAB:
            self.configure_networks(name)
        return seconds

    def digest(self, seconds: float, limit: int = 30) -> str:
        """Each node's notable journal lines of the last `seconds` (see digest.NOTABLE), or, for a node that is
        gone, qemu's exit code and the end of its console: what a failed test prints of its lab."""
        try:
            ps = run([tool("ps", "procps"), "-eo", "pcpu,etimes,comm", "--sort=-pcpu"], check=False).stdout
            parts = [host_line(Path("/proc/loadavg").read_text(), ps)]
        except (SanError, OSError) as e:
            parts = [f"host: its load could not be read: {e}"]
        for node in self.nodes.values():
            if not node.alive():
                code = node.proc.returncode if node.proc is not None else None
                parts.append(f"== {node.name}: not running (qemu exit code {code}); its console ends:")
                parts.extend(console_end(node.log_tail(node.paths.console_log, 200), 12))
                continue
            script = (f"{LOAD_AND_MEMORY}; echo; journalctl -b --no-pager -o short-monotonic "
                      f"--since=-{int(seconds) + 1}s")
            try:
                out = node.run(["/bin/sh", "-c", script], timeout=30).stdout
            except (LabError, OSError) as e:
                parts.append(f"== {node.name}: its journal could not be read: {e}")
                continue
            header, _, journal = out.partition("\n")
            lines = notable(journal, limit)
            parts.append(f"== {node.name} ({header.strip()}): {len(lines)} notable journal lines of the last "
                         f"{int(seconds)} s")
            parts.extend(lines)
        return "\n".join(parts)

    def collect_logs(self, dest: Path) -> Path:
        for node in self.nodes.values():
            node.collect_logs(dest / node.name)
        return dest

    def close(self, *, keep: bool = False) -> None:
        """Kill every node, remove the network namespace; the work dir (disks, logs) goes unless `keep`."""
        for node in self.nodes.values():
            node.kill()
        self.netns.delete()
        if not keep:
            for node in self.nodes.values():
                for path in node.paths.workdir.glob("*.qcow2"):
                    path.unlink(missing_ok=True)
            for path in [*self.workdir.glob("shared-*.img"), *self.workdir.glob("san-*.img")]:
                path.unlink(missing_ok=True)

    def destroy(self) -> None:
        self.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close(keep=exc[0] is not None)
