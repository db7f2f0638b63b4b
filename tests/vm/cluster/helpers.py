"""What the cluster's VM tests share: sanctl in a guest, crm_mon's view (where a resource runs, who is online,
whether a node was fenced), the timing bound of a fence derived from the lab profile, and the report of measured
times (build/reports/cluster.json)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

from sanappliance.cluster.model import ClusterSpec, Node

from ..conftest import BUILD

SBD = "/dev/disk/by-id/virtio-sbd0"
SECRETS: list[str] = []  # the join secret init printed
_T = ClusterSpec("lab1", nodes=(Node("node1", 1), Node("node2", 2)), profile="lab").timing()
# the longest a lost node may take to be fenced: membership loss (token + consensus), both fence delays, the fence
# itself (stonith-timeout, above msgwait); plus 30 s for TCG
TIMEOUTS = {"token_ms": _T.effective_token_ms, "consensus_ms": _T.consensus_ms, "msgwait_s": _T.msgwait,
            "stonith_timeout_s": _T.stonith_timeout, "pcmk_delay_max_s": _T.pcmk_delay_max,
            "priority_fencing_delay_s": _T.priority_fencing_delay,
            "bound_s": (_T.effective_token_ms + _T.consensus_ms) / 1000 + _T.pcmk_delay_max
            + _T.priority_fencing_delay + _T.stonith_timeout + 30}
REPORT = BUILD / "reports" / "cluster.json"
TIMES: dict[str, float] = {}
DUMMY = ('<primitive id="san-dummy" class="ocf" provider="heartbeat" type="Dummy"><operations>'
         '<op id="san-dummy-monitor-10s" name="monitor" interval="10s" timeout="20s"/></operations></primitive>')


def sanctl(node, *args, check=False, timeout=900):
    return node.run(["/usr/bin/sanctl", *args], check=check, timeout=timeout)


def untouched(node) -> str:
    return node.sh("ls /etc/corosync/corosync.conf /etc/corosync/authkey /etc/sanappliance/cluster.json 2>&1; "
                   "systemctl is-active corosync pacemaker sbd", check=False).stdout


def mon(node) -> ET.Element:
    return ET.fromstring(node.sh("crm_mon --one-shot --inactive --output-as=xml").stdout)


def where(node, rsc: str = "san-dummy") -> list[str]:
    el = mon(node).find(f".//resource[@id='{rsc}']")
    if el is None or el.get("role") != "Started":
        return []
    return [n.get("name") for n in el.findall("node")]


def wait_where(lab, node, expected: list[str], timeout: float = 180, rsc: str = "san-dummy") -> float:
    return lab.wait_until(lambda: where(node, rsc) == expected, timeout, f"{rsc} on {expected or 'no node'}", 2)


def online(node, name: str) -> bool:
    el = mon(node).find(f".//nodes/node[@name='{name}']")
    return el is not None and el.get("online") == "true" and el.get("unclean") != "true"


def fenced_ok(node, target: str) -> bool:
    out = node.sh(f"stonith_admin --history {target} --output-as=xml", check=False).stdout
    try:
        return any(e.get("status") == "success" for e in ET.fromstring(out).iter("fence_event"))
    except ET.ParseError:
        return False


def record(name: str, seconds: float) -> None:
    TIMES[name] = round(seconds, 1)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"profile": "lab", "seconds": TIMES, "timeouts": TIMEOUTS}, indent=1) + "\n")
    print(f"{name}: {seconds:.1f} s")


def rejoin(lab, name: str, survivor) -> None:
    """Boot a fenced node again; it rejoins by itself (SBD_STARTMODE=always, two_node waits for its peer)."""
    started = time.monotonic()
    lab.restart(name)
    lab.wait_until(lambda: online(survivor, name), 600, f"{name} online again", 3)
    record(f"{name} boot to online again", time.monotonic() - started)
