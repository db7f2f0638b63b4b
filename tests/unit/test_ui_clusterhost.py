"""A cluster host in memory for the web page's and the API's tests (and the headless browser's): it holds a CIB
text, which the real service functions (service.cluster_ops) read, edit and push, and reports crm_mon's XML made from
that CIB the way a settled Pacemaker would show it (standby nodes run nothing, a stopped resource runs nowhere, a
move's preference wins, storage resources stay off nodes whose fencing is untested, the fence device runs on the first
node that can run anything). It records what it was asked to do (fence, cleanup, SBD messages). The placement is a
stand-in for pure logic only: the real Pacemaker runs these edits in the image and VM tests of the cluster."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from sanappliance.cluster import cib, edits
from sanappliance.errors import SanError
from sanappliance.service import cluster, cluster_ops
from sanappliance.service.env import Env

from .cluster_samples import two_nodes
from .fakes import FakeSystem, MemoryStore

RESOURCES = (("san-ip-p1", "ocf", "heartbeat", "IPaddr2"), ("san-target-p1", "ocf", "sanappliance", "target"))


def agent_of(el: ET.Element) -> str:
    if el.get("class") == "stonith":
        return f"stonith:{el.get('type')}"
    return f"{el.get('class')}:{el.get('provider')}:{el.get('type')}"


class MemoryCluster:
    def __init__(self, *, formed: bool = True, local: str = "node1", tested: bool = False) -> None:
        self.spec = two_nodes() if formed else None
        self.local = local
        xml = cib.render_cib(two_nodes())
        xml = xml.replace("<nodes />", '<nodes><node id="1" uname="node1" /><node id="2" uname="node2" /></nodes>')
        primitives = "".join(f'<primitive id="{i}" class="{c}" provider="{p}" type="{t}" />'
                             for i, c, p, t in RESOURCES)
        self.cib = xml.replace("</resources>", primitives + "</resources>")
        self.online = {"node1": True, "node2": True}
        self.failures = [("san-ip-p1", "node2", "monitor", "error", 3)]
        self.history = ["node2 reboot by node1: success"]
        self.fenced: list[tuple[str, str]] = []
        self.cleaned: list[tuple[str | None, str | None]] = []
        self.sent: list[tuple[str, str]] = []
        self.pushes = 0
        self.broken = False  # crm_mon does not answer
        self.quorate = True
        if tested:
            self.mark_tested()

    def mark_tested(self) -> None:
        self.cib = edits.apply(self.cib, *(edits.node_attribute(n, cib.FENCING_TESTED, "2026-12-01T07:00:00Z")
                                           for n in self.online))

    # --- the host's interface (service.cluster.ClusterHost, service.cluster_ops.OpsHost) -----------------------------

    def read_spec(self):
        return self.spec

    def hostname(self) -> str:
        return self.local

    def query_cib(self, timeout: float = 0) -> str:
        return self.cib

    def push_cib(self, text: str) -> None:
        assert int(ET.fromstring(text).get("epoch")) > int(ET.fromstring(self.cib).get("epoch"))
        self.cib, self.pushes = text, self.pushes + 1

    def cleanup(self, resource: str | None, node: str | None) -> str:
        self.cleaned.append((resource, node))
        self.failures = [f for f in self.failures if (resource and f[0] != resource) or (node and f[1] != node)]
        return f"Cleaned up {resource or 'all resources'} on {node or 'all nodes'}\n"

    def fence(self, node: str, action: str, timeout: int) -> None:
        self.fenced.append((node, action))
        self.history.insert(0, f"{node} {action} by {self.local}: success")

    def fence_devices_for(self, node: str) -> list[str]:
        return [cib.FENCE_ID]

    def sbd_message(self, spec, node: str, message: str) -> None:
        self.sent.append((node, message))

    def sbd_uuid(self, spec) -> str:
        return "0b5e7a1c-sbd-header"

    def sbd_slots(self, spec) -> dict[str, dict[str, str]]:
        return {d: {n.name: "clear" for n in spec.nodes} for d in spec.sbd.devices}

    def status_xml(self) -> str:
        if self.broken:
            raise SanError("crm_mon did not answer", field="crm_mon")
        _, config = cib.parse_cib(self.cib)
        attrs = {el.get("uname"): {p.get("name"): p.get("value") for p in el.iterfind("instance_attributes/nvpair")}
                 for el in config.iterfind("nodes/node")}
        options = {p.get("name"): p.get("value") for p in config.iterfind("crm_config/cluster_property_set/nvpair")}
        usable = [n for n in self.online if self.online[n] and attrs.get(n, {}).get("standby") != "on"]
        prefer = {el.get("rsc"): el.get("node") for el in config.iterfind("constraints/rsc_location")
                  if el.get("id", "").startswith("cli-prefer-")}
        dc = next((n for n in self.online if self.online[n]), "")
        out = ['<pacemaker-result><summary>',
               f'<current_dc present="{str(bool(dc)).lower()}" name="{dc}" with_quorum="{str(self.quorate).lower()}"/>',
               f'<cluster_options maintenance-mode="{options.get("maintenance-mode", "false")}"/></summary><nodes>']
        for name, up in self.online.items():
            out.append(f'<node name="{name}" online="{str(up).lower()}" '
                       f'standby="{str(attrs.get(name, {}).get("standby") == "on").lower()}" maintenance="false" '
                       f'unclean="false" is_dc="{str(name == dc).lower()}"/>')
        out.append("</nodes><resources>")

        def stopped(el: ET.Element) -> bool:
            return any(p.get("name") == "target-role" and p.get("value") == "Stopped"
                       for p in el.iterfind("meta_attributes/nvpair"))

        def where(el: ET.Element) -> list[str]:
            """Where a top-level resource (primitive, group, clone) may run, the preferred node first."""
            rid = el.get("id", "")
            found = [n for n in usable if not rid.startswith("san-") or cib.FENCING_TESTED in attrs.get(n, {})]
            return [] if stopped(el) else sorted(found, key=lambda n: n != prefer.get(rid))

        def instance(el: ET.Element, node: str, role: str = "Started") -> str:
            rid = el.get("id", "")
            failed = any(f[0] == rid for f in self.failures)
            role = role if node and not stopped(el) else "Stopped"
            return (f'<resource id="{rid}" resource_agent="{agent_of(el)}" role="{role}" '
                    f'failed="{str(failed).lower()}">' + (f'<node name="{node}"/>' if role != "Stopped" else "")
                    + "</resource>")

        resources = config.find("resources")
        for el in resources if resources is not None else ():
            nodes = where(el)
            if el.tag == "primitive":  # the preferred (or first) node
                out.append(instance(el, nodes[0] if nodes else ""))
            elif el.tag == "group":  # every member on the group's node
                out.append(f'<group id="{el.get("id")}" number_resources="{len(el.findall("primitive"))}">'
                           + "".join(instance(m, nodes[0] if nodes else "") for m in el.iterfind("primitive"))
                           + "</group>")
            elif el.tag == "clone":  # one instance per node; a promotable one Promoted on the preferred node
                member = el.find("primitive")
                promotable = edits.promotable(el)
                out.append(f'<clone id="{el.get("id")}" multi_state="{str(promotable).lower()}">' + "".join(
                    instance(member, n, ("Promoted" if i == 0 else "Unpromoted") if promotable else "Started")
                    for i, n in enumerate(nodes)) + (instance(member, "") if not nodes else "") + "</clone>")
        out.append("</resources><failures>")
        for rsc, node, task, state, count in self.failures:
            out.append(f'<failure op_key="{rsc}_{task}_10000" node="{node}" task="{task}" status="{state}" '
                       f'fail-count="{count}"/>')
        out.append("</failures><fence_history>")
        for event in self.history:
            target, action, _, delegate, state = event.replace(":", "").split(" ")
            out.append(f"<fence_event target={quoteattr(target)} action={quoteattr(action)} "
                       f"delegate={quoteattr(delegate)} status={quoteattr(state)}/>")
        out.append("</fence_history></pacemaker-result>")
        return "".join(out)


def env(dry_run: bool = False) -> Env:
    return Env(MemoryStore(), FakeSystem(), dry_run)


# --- the stand-in follows what the service functions did ----------------------------------------------------------

def roles(host: MemoryCluster) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {r.id: (r.role, r.nodes) for r in cluster.status(host).resources}


def test_the_stand_in_reports_what_the_service_changed():
    host = MemoryCluster()
    assert roles(host) == {"fence-sbd": ("Started", ("node1",)), "san-ip-p1": ("Stopped", ()),
                           "san-target-p1": ("Stopped", ())}  # fencing untested: no storage resource runs
    assert cluster_ops.untested_nodes(host) == ["node1", "node2"]
    assert cluster_ops.fencing_test(env(), host).passed
    assert roles(host)["san-ip-p1"] == ("Started", ("node1",)) and cluster_ops.untested_nodes(host) == []
    cluster_ops.standby(env(), host, "node1", True)
    state = cluster.status(host)
    assert [n.state for n in state.nodes] == ["standby", "online"] and roles(host)["san-ip-p1"][1] == ("node2",)
    cluster_ops.standby(env(), host, "node1", False)
    cluster_ops.move(env(), host, "san-target-p1", "node2")
    assert roles(host)["san-target-p1"] == ("Started", ("node2",))
    cluster_ops.set_running(env(), host, "san-target-p1", False)
    assert roles(host)["san-target-p1"] == ("Stopped", ())
    cluster_ops.maintenance(env(), host, True)
    assert 'maintenance-mode="true"' in host.status_xml()
    assert cluster.status(MemoryCluster(formed=False)) is None


def test_the_stand_in_records_fencing_and_cleanup():
    host = MemoryCluster(tested=True)
    assert cluster.status(host).failures[0].fail_count == 3
    cluster_ops.cleanup(env(), host, "san-ip-p1")
    assert host.cleaned == [("san-ip-p1", None)] and cluster.status(host).failures == ()
    cluster_ops.fence(env(), host, "node2")
    assert host.fenced == [("node2", "reboot")] and cluster.status(host).fencing[0] == "node2 reboot by node1: success"
