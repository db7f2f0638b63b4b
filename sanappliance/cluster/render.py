"""The files and commands a cluster spec becomes (pure): corosync.conf, /etc/default/sbd, sbd.service's start
timeout, the corosync authkey, and the `sbd create` argv. Render only a spec that validates (validate.check).
The CIB side is in cib.py."""

from __future__ import annotations

import ipaddress
import secrets

from .model import ClusterSpec
from .timeouts import Timing

COROSYNC_CONF = "/etc/corosync/corosync.conf"
AUTHKEY = "/etc/corosync/authkey"
AUTHKEY_BYTES = 256  # corosync-keygen's default (2048 bits); corosync accepts 128-512 bytes
SBD_CONFIG = "/etc/default/sbd"
SBD_DROPIN = "/etc/systemd/system/sbd.service.d/sanappliance-delay-start.conf"
SBD = "/usr/sbin/sbd"
HEADER = "# Written by sanappliance from the cluster spec: changes made here are overwritten.\n"

# SBD_STARTMODE=always: a fenced node (stonith-action reboot) comes back and starts sbd and the cluster stack by
# itself. That is safe here because a two-node cluster runs votequorum two_node, which implies wait_for_all: the node
# that rebooted does nothing (and fences nobody) until it sees its peer again, so no fence loop; with three or more
# nodes quorum does the same. "clean" would keep every fenced node out until an admin clears its SBD slot by hand
# (`sbd -d DEV message NODE clear`): an unattended appliance would stay degraded after every transient fault.
SBD_STARTMODE = "always"


def _ip(address: str) -> str:
    return str(ipaddress.ip_interface(address).ip)


def render_corosync(spec: ClusterSpec, timing: Timing | None = None) -> str:
    timing = timing or spec.timing()
    two_links = len(spec.links) == 2
    out = [HEADER.rstrip("\n"), "totem {", "    version: 2", f"    cluster_name: {spec.name}",
           "    transport: knet", f"    crypto_cipher: {spec.crypto.cipher}", f"    crypto_hash: {spec.crypto.hash}",
           f"    keyfile: {AUTHKEY}", f"    token: {timing.token_ms}", f"    consensus: {timing.consensus_ms}"]
    if two_links:
        out.append("    link_mode: passive")
    for number, link in enumerate(spec.links):
        out += ["    interface {", f"        linknumber: {number}"]
        if two_links:
            out.append(f"        knet_link_priority: {link.priority}")
        out.append("    }")
    out += ["}", "", "nodelist {"]
    for node in spec.nodes:
        # the parser rejects a `node {` block whose first key is on the same line: one key per line
        out += ["    node {", f"        name: {node.name}", f"        nodeid: {node.nodeid}"]
        out += [f"        ring{k}_addr: {_ip(address)}" for k, address in enumerate(node.addresses)]
        out.append("    }")
    out += ["}", "", "quorum {", "    provider: corosync_votequorum"]
    if spec.two_node:
        out.append("    two_node: 1")  # implies wait_for_all: 1
    out += ["}", "", "logging {", "    to_syslog: yes", "    to_stderr: no", "    to_logfile: no",
            "    timestamp: off", "}"]
    return "\n".join(out) + "\n"


def render_sbd_config(spec: ClusterSpec, timing: Timing | None = None) -> str:
    """/etc/default/sbd: a systemd EnvironmentFile that is also valid sh (device paths are checked: no quoting)."""
    timing = timing or spec.timing()
    values = [
        ("SBD_DEVICE", '"' + ";".join(spec.sbd.devices) + '"'),
        ("SBD_PACEMAKER", "yes"),
        ("SBD_STARTMODE", SBD_STARTMODE),
        ("SBD_DELAY_START", str(timing.sbd_delay_start) if timing.sbd_delay_start else "no"),
        ("SBD_WATCHDOG_DEV", spec.sbd.watchdog_device),
        ("SBD_WATCHDOG_TIMEOUT", str(timing.watchdog_timeout)),
        ("SBD_TIMEOUT_ACTION", "flush,reboot"),
        ("SBD_MOVE_TO_ROOT_CGROUP", "auto"),
        ("SBD_SYNC_RESOURCE_STARTUP", "yes"),
        ("SBD_OPTS", '""'),
    ]
    return HEADER + "".join(f"{name}={value}\n" for name, value in values)


def render_sbd_dropin(spec: ClusterSpec, timing: Timing | None = None) -> str | None:
    """sbd.service's start timeout when sbd waits SBD_DELAY_START seconds at start; None: no drop-in needed."""
    timing = timing or spec.timing()
    if not timing.sbd_delay_start:
        return None
    return HEADER + f"[Service]\nTimeoutStartSec={timing.sbd_start_timeout}\n"


def sbd_create_argv(spec: ClusterSpec, timing: Timing | None = None) -> list[str]:
    """Initialize the SBD disks (once, at init; it overwrites their header and slots): watchdog and msgwait timeouts
    are written to the disks, where they take precedence over SBD_WATCHDOG_TIMEOUT."""
    timing = timing or spec.timing()
    argv = [SBD]
    for device in spec.sbd.devices:
        argv += ["-d", device]
    return argv + ["-1", str(timing.watchdog_timeout), "-4", str(timing.msgwait), "create"]


def sbd_dump_argv(spec: ClusterSpec) -> list[str]:
    """Read the disks' headers back (timeouts, slots) to compare with the spec."""
    argv = [SBD]
    for device in spec.sbd.devices:
        argv += ["-d", device]
    return argv + ["dump"]


def new_authkey() -> bytes:
    """The cluster's shared secret, made once by `init` and copied to each node that joins (mode 0400)."""
    return secrets.token_bytes(AUTHKEY_BYTES)
