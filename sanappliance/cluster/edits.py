"""The daily operations as CIB edits (pure): each takes the current CIB text and returns the new one (epoch + 1), to
be pushed through the one validated push (crm_verify, then cibadmin --replace). Ids follow what crmsh, pcs and
crm_resource write (nodes-<id>-standby, <rsc>-meta_attributes-target-role, cli-prefer-<rsc>), so an admin's own
tools edit the same elements instead of shadowing them.

    standby node1        <node uname="node1"> nvpair standby=on (permanent)
    maintenance on       cib-bootstrap-options maintenance-mode=true
    stop RSC / start RSC meta target-role=Stopped / removed (the resource's default role)
    move RSC NODE        rsc_location cli-prefer-RSC, INFINITY on NODE (role Promoted for a promotable clone)
    clear RSC            the cli-prefer-/cli-ban- constraints of RSC removed
    restore BACKUP       the configuration section replaced by the backup's
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable

from sanappliance.errors import CONFLICT, INVALID, NOT_FOUND, SanError

from .cib import OPTIONS_ID, finish, parse_cib

RESOURCE_TAGS = ("primitive", "group", "clone", "bundle", "master")
Change = Callable[[ET.Element], None]  # edits the <configuration> element in place


def apply(current: str, *changes: Change) -> str:
    root, config = parse_cib(current)
    for change in changes:
        change(config)
    return finish(root, config)


def _child(parent: ET.Element, tag: str, ident: str) -> ET.Element:
    for el in parent.findall(tag):
        if el.get("id") == ident:
            return el
    return ET.SubElement(parent, tag, {"id": ident})


def _set_nvpair(nvset: ET.Element, name: str, value: str | None) -> None:
    """Set (or with None remove) the nvpair called `name`; the id is the set's id + name, as crm tools write it."""
    for pair in nvset.findall("nvpair"):
        if pair.get("name") == name:
            nvset.remove(pair)
    if value is not None:
        ET.SubElement(nvset, "nvpair", {"id": f"{nvset.get('id')}-{name}", "name": name, "value": value})


def node_element(config: ET.Element, node: str) -> ET.Element:
    for el in config.iterfind("nodes/node"):
        if el.get("uname") == node:
            return el
    known = ", ".join(el.get("uname", "?") for el in config.iterfind("nodes/node")) or "none yet"
    raise SanError(f"Pacemaker knows no such node (known: {known})", field="node", value=node, kind=NOT_FOUND)


def node_attribute(node: str, name: str, value: str | None) -> Change:
    def change(config: ET.Element) -> None:
        el = node_element(config, node)
        attrs = el.find("instance_attributes")
        if attrs is None:
            attrs = _child(el, "instance_attributes", f"nodes-{el.get('id')}")
        _set_nvpair(attrs, name, value)
        if not len(attrs):
            el.remove(attrs)
    return change


def standby(node: str, on: bool) -> Change:
    return node_attribute(node, "standby", "on" if on else None)


def cluster_option(name: str, value: str | None) -> Change:
    def change(config: ET.Element) -> None:
        crm = config.find("crm_config")
        if crm is None:
            crm = ET.Element("crm_config")
            config.insert(0, crm)
        options = next((el for el in crm if el.get("id") == OPTIONS_ID), None)
        if options is None:
            options = ET.Element("cluster_property_set", {"id": OPTIONS_ID})
            crm.insert(0, options)
        _set_nvpair(options, name, value)
    return change


def maintenance(on: bool) -> Change:
    return cluster_option("maintenance-mode", "true" if on else None)


def find_resource(config: ET.Element, rsc: str) -> ET.Element:
    resources = config.find("resources")
    for el in (resources.iter() if resources is not None else ()):
        if el.tag in RESOURCE_TAGS and el.get("id") == rsc:
            return el
    known = ", ".join(el.get("id", "?") for el in (resources if resources is not None else ())) or "none"
    raise SanError(f"no such resource (configured: {known})", field="resource", value=rsc, kind=NOT_FOUND)


def promotable(el: ET.Element) -> bool:
    meta = el.find("meta_attributes")
    return el.tag == "master" or (el.tag == "clone" and meta is not None and any(
        p.get("name") == "promotable" and p.get("value", "").lower() == "true" for p in meta.findall("nvpair")))


def target_role(rsc: str, started: bool) -> Change:
    """stop: target-role Stopped; start: the meta attribute removed (a resource's default is to run, promoted
    where it can be), which also undoes a target-role an admin set with other tools."""
    def change(config: ET.Element) -> None:
        el = find_resource(config, rsc)
        meta = el.find("meta_attributes")
        if meta is None:
            meta = ET.Element("meta_attributes", {"id": f"{rsc}-meta_attributes"})
            el.insert(0, meta)
        _set_nvpair(meta, "target-role", None if started else "Stopped")
        if not len(meta):
            el.remove(meta)
    return change


def _constraints(config: ET.Element) -> ET.Element:
    found = config.find("constraints")
    if found is None:
        found = ET.SubElement(config, "constraints")
    return found


def _cli_constraints(constraints: ET.Element, rsc: str) -> list[ET.Element]:
    return [el for el in constraints if el.tag == "rsc_location" and el.get("rsc") == rsc
            and (el.get("id", "").startswith("cli-prefer-") or el.get("id", "").startswith("cli-ban-"))]


def move(rsc: str, node: str) -> Change:
    """Prefer NODE for RSC (crm_resource's cli-prefer id, so `crm_resource --clear` removes it too); for a
    promotable clone the preference is for its Promoted role. An earlier move or ban of RSC is replaced."""
    def change(config: ET.Element) -> None:
        el = find_resource(config, rsc)
        node_element(config, node)
        parent = _parent(config, el)
        if parent is not None:
            raise SanError(f"part of {parent}: move that instead", field="resource", value=rsc, kind=INVALID)
        constraints = _constraints(config)
        for old in _cli_constraints(constraints, rsc):
            constraints.remove(old)
        attrs = {"id": f"cli-prefer-{rsc}", "rsc": rsc, "node": node, "score": "INFINITY"}
        if promotable(el):
            attrs["role"] = "Promoted"
        ET.SubElement(constraints, "rsc_location", attrs)
    return change


def clear(rsc: str) -> Change:
    def change(config: ET.Element) -> None:
        el = find_resource(config, rsc)
        constraints = _constraints(config)
        found = _cli_constraints(constraints, rsc)
        parent = _parent(config, el)
        if not found and parent is not None:  # moves go on the group or clone (see move)
            raise SanError(f"part of {parent}: clear that instead", field="resource", value=rsc, kind=INVALID)
        if not found:
            raise SanError("no move or ban is in place for this resource", field="resource", value=rsc,
                           kind=CONFLICT)
        for el in found:
            constraints.remove(el)
    return change


def _parent(config: ET.Element, el: ET.Element) -> str | None:
    """The id of the group or clone `el` is part of (constraints go on that), or None."""
    for outer in config.iter():
        if outer.tag in ("clone", "master", "group", "bundle") and any(child is el for child in outer):
            return outer.get("id")
    return None


def replace_configuration(saved: str) -> Change:
    """The configuration section replaced by a saved CIB's (a backup): the status section stays Pacemaker's and
    the live CIB's epoch keeps counting, so the push is accepted and every node takes it."""
    _, saved_config = parse_cib(saved)

    def change(config: ET.Element) -> None:
        for child in list(config):
            config.remove(child)
        config.extend(copy.deepcopy(list(saved_config)))
    return change


def configuration(text: str) -> str:
    """The configuration section alone, normalized (for comparing a restore with its backup)."""
    _, config = parse_cib(text)
    ET.indent(config, space="  ")
    return ET.tostring(config, encoding="unicode")
