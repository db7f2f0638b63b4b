"""The cluster on this node: its files (corosync.conf, authkey, sbd config), the SBD disks, the CIB, crm_mon."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from pathlib import Path

from sanappliance.cluster import cib, render
from sanappliance.cluster.model import ClusterSpec
from sanappliance.cluster.status import parse_list, parse_sbd_list
from sanappliance.errors import CONFLICT, SanError

from . import peer
from .files import write_atomic
from .runner import run
from .systemd import Systemd

STATE = Path("/etc/sanappliance/cluster.json")  # the spec this node was given (no secrets: the authkey is apart)
JOIN = Path("/etc/sanappliance/cluster-join.json")  # the hash of the current join secret (0600)
API_CERT = Path("/etc/sanappliance/tls/targetd.crt")
CRM_MON = "/usr/sbin/crm_mon"
CRM_RESOURCE = "/usr/sbin/crm_resource"
STONITH_ADMIN = "/usr/sbin/stonith_admin"
CRM_NODE = "/usr/sbin/crm_node"
COROSYNC_CFGTOOL = "/usr/sbin/corosync-cfgtool"
CIB_OLDER = 103  # CRM_EX_OLD: "Update was older than existing configuration"
CLUSTER_UNITS = ("corosync.service", "pacemaker.service")


class ClusterHost:
    """This node's side of the cluster stack."""

    def __init__(self, state: Path = STATE) -> None:
        self.state = state

    def read_spec(self) -> ClusterSpec | None:
        try:
            return ClusterSpec.from_json(self.state.read_text(), str(self.state))
        except FileNotFoundError:
            return None

    def hostname(self) -> str:
        return os.uname().nodename

    def write_files(self, spec: ClusterSpec, authkey: bytes | None) -> None:
        """corosync.conf, sbd's settings (and its start timeout), the authkey when given, then the spec itself."""
        if authkey is not None:
            write_atomic(Path(render.AUTHKEY), authkey, mode=0o400)
        write_atomic(Path(render.COROSYNC_CONF), render.render_corosync(spec), mode=0o644)
        write_atomic(Path(render.SBD_CONFIG), render.render_sbd_config(spec), mode=0o644)
        dropin = render.render_sbd_dropin(spec)
        if dropin is None:
            Path(render.SBD_DROPIN).unlink(missing_ok=True)
        else:
            write_atomic(Path(render.SBD_DROPIN), dropin, mode=0o644)
        write_atomic(self.state, spec.to_json(), mode=0o600)

    def write_authkey(self, key: bytes) -> None:
        write_atomic(Path(render.AUTHKEY), key, mode=0o400)

    def join_hash(self) -> str:
        try:
            return str(json.loads(JOIN.read_text()).get("hash", ""))
        except (OSError, ValueError, AttributeError):
            return ""

    def set_join_hash(self, value: str) -> None:
        if value:
            write_atomic(JOIN, json.dumps({"hash": value}) + "\n", mode=0o600)
        else:
            JOIN.unlink(missing_ok=True)

    def api_fingerprint(self) -> str:
        return peer.own_fingerprint(API_CERT)

    def call_peer(self, address: str, pinned: str, user: str, secret: str, method: str, params: dict) -> object:
        return peer.call(address, pinned, user, secret, method, params)

    def sbd_uuid(self, spec: ClusterSpec) -> str:
        """The UUID in the first SBD disk's header as this node reads it ('' when unreadable): equal on two nodes
        means the disk is really shared."""
        result = run([render.SBD, "-d", spec.sbd.devices[0], "dump"], check=False, timeout=60)
        for line in result.stdout.splitlines():
            if line.strip().startswith("UUID"):
                return line.split(":", 1)[1].strip()
        return ""

    def restart_stack(self) -> None:
        """Stop Pacemaker and corosync, start them again (corosync cannot take two_node at runtime)."""
        systemd = Systemd()
        for unit in reversed(CLUSTER_UNITS):
            systemd.stop(unit, timeout=600)
        for unit in CLUSTER_UNITS:
            systemd.start(unit, timeout=600)

    def authkey(self) -> bytes:
        return Path(render.AUTHKEY).read_bytes()

    def init_sbd(self, spec: ClusterSpec) -> str:
        run(render.sbd_create_argv(spec), timeout=120)
        return self.sbd_dump(spec)

    def sbd_dump(self, spec: ClusterSpec) -> str:
        return run(render.sbd_dump_argv(spec), timeout=60).stdout

    def start_stack(self) -> None:
        """sbd comes with corosync (enabled, it is required by corosync.service), then pacemaker."""
        systemd = Systemd()
        systemd.enable("sbd.service", *CLUSTER_UNITS)
        for unit in CLUSTER_UNITS:
            systemd.start(unit, timeout=600)

    def stop_stack(self) -> None:
        systemd = Systemd()
        for unit in reversed(CLUSTER_UNITS):
            systemd.stop(unit, timeout=600)
        systemd.disable("sbd.service", *CLUSTER_UNITS)

    def query_cib(self, timeout: float = 300.0) -> str:
        """The live CIB, once Pacemaker answers."""
        deadline = time.monotonic() + timeout
        while True:
            result = run([cib.CIBADMIN, "--query"], check=False, timeout=60)
            if result.returncode == 0:
                return result.stdout
            if time.monotonic() > deadline:
                raise SanError(f"Pacemaker's CIB did not answer: {result.stderr.strip()}", field="cib")
            time.sleep(2)

    def wait_settled(self, node: str, timeout: float = 600.0) -> None:
        """Until a DC is elected and `node` is online in it (a CIB read before that shows the node unclean)."""
        from sanappliance.cluster.status import parse

        deadline = time.monotonic() + timeout
        while True:
            result = run([CRM_MON, "--one-shot", "--output-as=xml"], check=False, timeout=60)
            if result.returncode == 0:
                state = parse(result.stdout)
                if state.dc and any(n.name == node and n.online for n in state.nodes):
                    return
            if time.monotonic() > deadline:
                raise SanError(f"the cluster did not settle within {timeout:.0f} s (no DC, or {node} not online)",
                               field="cluster")
            time.sleep(2)

    def push_cib(self, text: str) -> None:
        """crm_verify on the new CIB, then one replace (refused by Pacemaker if the CIB moved on meanwhile)."""
        with tempfile.TemporaryDirectory(prefix="sanappliance-cib-") as tmp:
            path = Path(tmp) / "cib.xml"
            path.write_text(text)
            verify = run(cib.verify_argv(str(path)), check=False, timeout=120)
            if verify.returncode != 0:
                raise SanError(f"crm_verify refused the new CIB: {(verify.stderr or verify.stdout).strip()}",
                               field="cib")
            pushed = run(cib.push_argv(str(path)), check=False, timeout=120)
            if pushed.returncode == CIB_OLDER or "older than" in pushed.stderr:
                raise SanError("the CIB changed while this change was made", field="cib", kind=CONFLICT)
            if pushed.returncode != 0:
                raise SanError(f"cibadmin refused the new CIB: {(pushed.stderr or pushed.stdout).strip()}",
                               field="cib")

    def wait_idle(self, timeout: float) -> str:
        """Until Pacemaker has no action left to run ("" then), else what crm_resource --wait said."""
        result = run([CRM_RESOURCE, "--wait", f"--timeout={int(timeout)}"], check=False, timeout=timeout + 60)
        return "" if result.returncode == 0 else (result.stderr or result.stdout).strip()[-300:] or "timed out"

    def status_xml(self) -> str:
        return run([CRM_MON, "--one-shot", "--inactive", "--output-as=xml"], timeout=60).stdout

    def cleanup(self, resource: str | None, node: str | None) -> str:
        argv = [CRM_RESOURCE, "--cleanup"]
        argv += ["--resource", resource] if resource else []
        argv += ["--node", node] if node else []
        result = run(argv, timeout=120)
        return result.stdout

    def fence(self, node: str, action: str, timeout: int) -> None:
        """Through the fencer (the cluster's fence devices, the fencing delays and history apply)."""
        flag = "--reboot" if action == "reboot" else "--fence"
        result = run([STONITH_ADMIN, flag, node, "--timeout", str(timeout)], check=False, timeout=timeout + 30)
        if result.returncode != 0:
            raise SanError(f"fencing {node} failed: {(result.stderr or result.stdout).strip()}", field="node",
                           value=node)

    def fence_devices_for(self, node: str) -> list[str]:
        result = run([STONITH_ADMIN, "--list", node, "--output-as=xml"], check=False, timeout=60)
        return parse_list(result.stdout) if result.returncode == 0 else []

    def sbd_slots(self, spec: ClusterSpec) -> dict[str, dict[str, str]]:
        return {device: parse_sbd_list(run([render.SBD, "-d", device, "list"], timeout=60).stdout)
                for device in spec.sbd.devices}

    def sbd_message(self, spec: ClusterSpec, node: str, message: str) -> None:
        for device in spec.sbd.devices:
            run([render.SBD, "-d", device, "message", node, message], timeout=60)

    def write_private(self, path: Path, text: str) -> None:
        write_atomic(Path(path), text, mode=0o600)

    def read_text(self, path: Path) -> str:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise SanError(f"cannot read: {exc.strerror}", field="file", value=str(path)) from None

    def resolve(self, name: str) -> str:
        """The first address `name` resolves to here ('' when it does not)."""
        try:
            found = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return ""
        return str(found[0][4][0]) if found else ""

    def forget_node(self, name: str) -> None:
        run([CRM_NODE, "--force", "--remove", name], timeout=120)

    def reload_corosync(self) -> None:
        run([COROSYNC_CFGTOOL, "-R"], timeout=60)

    def remove_files(self) -> None:
        """The cluster's files on this node (after the stack was stopped): it is a single node again."""
        for path in (render.COROSYNC_CONF, render.AUTHKEY, render.SBD_CONFIG, render.SBD_DROPIN, JOIN, self.state):
            Path(path).unlink(missing_ok=True)

    def wait_no_resources(self, node: str, timeout: float = 300.0) -> None:
        """Until no resource but fence devices runs on `node` (after it was put in standby)."""
        from sanappliance.cluster.status import parse

        deadline = time.monotonic() + timeout
        while True:
            state = parse(self.status_xml())
            busy = [r.id for r in state.resources if node in r.nodes and not r.agent.startswith("stonith:")]
            if not busy:
                return
            if time.monotonic() > deadline:
                raise SanError(f"resources still run on {node} after {timeout:.0f} s: {', '.join(busy)}",
                               field="node", value=node)
            time.sleep(2)

    def journal(self, argv: list[str]) -> str:
        return run(argv, timeout=120).stdout
