"""The appliance's part of the CIB (pure): cluster options, resource defaults and the fence_sbd device, built with
ElementTree under fixed ids, and merged into an existing CIB. Every change to the CIB is one validated push:

    new = merge_cib(current, spec)          # our elements replaced by id, everything else kept, epoch + 1
    crm_verify --verbose --xml-file NEW     # must exit 0, or nothing is pushed
    cibadmin --replace --xml-file NEW       # refused if the CIB changed meanwhile (its epoch is not older than ours)

Property ids follow the crmsh/pcs convention (cib-bootstrap-options-<name>, rsc-options-<name>), so an admin's
`crm configure property` edits the same nvpair instead of adding a second one that would shadow ours.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sanappliance.errors import INVALID, SanError

from .model import ClusterSpec
from .properties import CRM_CONFIG, RSC_DEFAULTS, Context, resolve

SCHEMA = "pacemaker-4.0"  # the newest schema of pacemaker 3.0 (Debian trixie)
OPTIONS_ID = "cib-bootstrap-options"  # Pacemaker always evaluates this set first
RSC_DEFAULTS_ID = "rsc-options"
FENCE_ID = "fence-sbd"
GATE_ID = "san-fencing-gate"  # keeps the appliance's storage resources (ids san-*) off nodes with unproven fencing
FENCING_TESTED = "san-fencing-tested"  # node attribute: when the fencing self-test last passed for the node
STORAGE_PATTERN = "^san-"  # the ids of every clustered storage resource the appliance generates
FENCE_MONITOR = ("300s", "30s")  # interval, timeout: fence_sbd's monitor reads the disks; sbd itself watches them
SECTIONS = ("crm_config", "nodes", "resources", "constraints", "rsc_defaults", "op_defaults")
EMPTY_CIB = (f'<cib validate-with="{SCHEMA}" admin_epoch="0" epoch="0" num_updates="0">'
             "<configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>")
CRM_VERIFY = "/usr/sbin/crm_verify"
CIBADMIN = "/usr/sbin/cibadmin"


def _nvset(tag: str, set_id: str, pairs: list[tuple[str, str]]) -> ET.Element:
    nvset = ET.Element(tag, {"id": set_id})
    for name, value in pairs:
        ET.SubElement(nvset, "nvpair", {"id": f"{set_id}-{name}", "name": name, "value": value})
    return nvset


def fence_primitive(spec: ClusterSpec) -> ET.Element:
    timing = spec.timing()
    rsc = ET.Element("primitive", {"id": FENCE_ID, "class": "stonith", "type": "fence_sbd"})
    params = [("devices", ",".join(spec.sbd.devices))]
    if timing.pcmk_delay_max:
        params.append(("pcmk_delay_max", f"{timing.pcmk_delay_max}s"))
    rsc.append(_nvset("instance_attributes", f"{FENCE_ID}-instance_attributes", params))
    # where the fence device runs says nothing about which node matters in a split (priority-fencing-delay)
    rsc.append(_nvset("meta_attributes", f"{FENCE_ID}-meta_attributes", [("priority", "0")]))
    ops = ET.SubElement(rsc, "operations")
    interval, timeout = FENCE_MONITOR
    ET.SubElement(ops, "op", {"id": f"{FENCE_ID}-monitor-interval-{interval}", "name": "monitor",
                              "interval": interval, "timeout": timeout})
    return rsc


def fencing_gate() -> ET.Element:
    """Until the fencing self-test passed for a node (node attribute FENCING_TESTED), no storage resource of the
    appliance may run there: Pacemaker itself enforces it, whatever front end or tool changed the CIB."""
    gate = ET.Element("rsc_location", {"id": GATE_ID, "rsc-pattern": STORAGE_PATTERN})
    rule = ET.SubElement(gate, "rule", {"id": f"{GATE_ID}-rule", "score": "-INFINITY"})
    ET.SubElement(rule, "expression", {"id": f"{GATE_ID}-expr", "attribute": FENCING_TESTED,
                                       "operation": "not_defined"})
    return gate


def fragments(spec: ClusterSpec) -> dict[str, list[ET.Element]]:
    """Our elements per configuration section: the cluster options, the resource defaults, the fence device."""
    settings = resolve(spec.properties, Context(len(spec.nodes), spec.timing(), spec.name),
                       force=spec.allow_no_fencing)
    options = [(s.name, s.value) for s in settings if s.section == CRM_CONFIG]
    defaults = [(s.name, s.value) for s in settings if s.section == RSC_DEFAULTS]
    fenced = bool(spec.sbd.devices)
    return {"crm_config": [_nvset("cluster_property_set", OPTIONS_ID, options)],
            "resources": [fence_primitive(spec)] if fenced else [],
            "constraints": [fencing_gate()] if fenced else [],
            "rsc_defaults": [_nvset("meta_attributes", RSC_DEFAULTS_ID, defaults)]}


def parse_cib(text: str) -> tuple[ET.Element, ET.Element]:
    """The CIB's root and its configuration section."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    try:
        root = ET.fromstring(text, parser=parser)
    except ET.ParseError as exc:
        raise SanError(f"the CIB is not well-formed XML: {exc}", field="cib", kind=INVALID) from None
    config = root.find("configuration")
    if root.tag != "cib" or config is None:
        raise SanError("not a CIB: expected <cib> with a <configuration> section", field="cib", value=root.tag,
                       kind=INVALID)
    return root, config


def _section(config: ET.Element, name: str) -> ET.Element:
    found = config.find(name)
    if found is not None:
        return found
    order = SECTIONS.index(name)
    position = sum(1 for child in config if child.tag in SECTIONS[:order])
    section = ET.Element(name)
    config.insert(position, section)
    return section


def _merge_nvset(section: ET.Element, ours: ET.Element) -> None:
    """Replace our nvpairs (by id or by name) in the set with our id; keep the set's other nvpairs
    (dc-version, cluster-infrastructure, ... belong to Pacemaker)."""
    existing = next((el for el in section if el.get("id") == ours.get("id")), None)
    if existing is None:
        section.insert(0, ours)
        return
    names = {pair.get("name") for pair in ours}
    ids = {pair.get("id") for pair in ours}
    for pair in list(existing):
        if pair.tag == "nvpair" and (pair.get("name") in names or pair.get("id") in ids):
            existing.remove(pair)
    existing.extend(ours)


def _replace(section: ET.Element, ours: ET.Element) -> None:
    for i, el in enumerate(section):
        if el.get("id") == ours.get("id"):
            section[i] = ours
            return
    section.append(ours)


def merge_cib(current: str, spec: ClusterSpec) -> str:
    """`current` with our fragments in place (by their fixed ids), everything else as it was; epoch + 1.
    The fence device and the fencing gate go when the spec has no SBD disks (fencing forced off)."""
    root, config = parse_cib(current)
    for name, elements in fragments(spec).items():
        section = _section(config, name)
        for ours in elements:
            if ours.tag in ("cluster_property_set", "meta_attributes"):
                _merge_nvset(section, ours)
            else:
                _replace(section, ours)
        if not elements:  # fencing forced off: the fence device and the gate go
            for el in [el for el in section if el.get("id") in (FENCE_ID, GATE_ID)]:
                section.remove(el)
    return finish(root, config)


def finish(root: ET.Element, config: ET.Element) -> str:
    """The CIB as text after a change: ids still unique in the configuration, epoch + 1 (so `cibadmin --replace`
    refuses the push when the CIB moved on since it was read)."""
    seen: set[str] = set()
    for el in config.iter():  # ids are unique in the configuration (status repeats resource ids per node)
        ident = el.get("id")
        if ident is None:
            continue
        if ident in seen:
            raise SanError(f"the CIB uses one of the appliance's ids elsewhere (<{el.tag}>): rename that element",
                           field="cib", value=ident, kind=INVALID)
        seen.add(ident)
    epoch = root.get("epoch", "0")
    if not epoch.isdigit():
        raise SanError("the CIB's epoch is not a number", field="cib.epoch", value=epoch, kind=INVALID)
    root.set("epoch", str(int(epoch) + 1))
    root.set("num_updates", "0")
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def render_cib(spec: ClusterSpec) -> str:
    """A complete minimal CIB for a new cluster (nodes are added by Pacemaker as they join)."""
    return merge_cib(EMPTY_CIB, spec)


def verify_argv(path: str) -> list[str]:
    return [CRM_VERIFY, "--verbose", "--xml-file", path]


def push_argv(path: str) -> list[str]:
    return [CIBADMIN, "--replace", "--xml-file", path]
