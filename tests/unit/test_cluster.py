"""The cluster spec (pure): JSON round trip, init and join, validation naming fields, the cluster properties.
Renders are in test_cluster_render.py."""

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sanappliance.cluster import cib, properties, timeouts
from sanappliance.cluster.model import ClusterSpec, Link, Node, SbdSpec, with_node, without_node
from sanappliance.cluster.validate import check, validate
from sanappliance.errors import SanError

from .cluster_samples import SBD0, SBD1, n_nodes, two_nodes


def fields(spec):
    return {p.field for p in validate(spec)}


# --- model ---------------------------------------------------------------------------------------------------------

def test_json_round_trip():
    spec = two_nodes(properties={"no-quorum-policy": "freeze"}, fencing_delay=7, profile="lab")
    text = spec.to_json()
    assert ClusterSpec.from_json(text) == spec
    assert ClusterSpec.from_dict(json.loads(text)).sbd.watchdog_timeout is None
    assert validate(spec) == []


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["nodes"][1].update(nodeid="2"), "cluster.nodes[1].nodeid"),
    (lambda d: d["sbd"].update(devices="/dev/sda"), "cluster.sbd.devices"),
    (lambda d: d["links"][0].update(colour="red"), "cluster.links[0]"),
    (lambda d: d["nodes"][0].pop("name"), "cluster.nodes[0].name"),
])
def test_from_dict_names_the_bad_field(mutate, field):
    data = two_nodes().to_dict()
    mutate(data)
    with pytest.raises(SanError) as err:
        ClusterSpec.from_dict(data)
    assert err.value.field == field


def test_init_then_join():
    spec = ClusterSpec("san", nodes=(Node("node1", 1, ("10.0.0.1",)),), sbd=SbdSpec((SBD0,)))
    assert validate(spec) == [] and not spec.two_node
    joined = with_node(spec, "node2", ("10.0.0.2",))
    assert joined.node("node2").nodeid == 2 and joined.two_node and validate(joined) == []
    assert with_node(without_node(joined, "node1"), "node3", ("10.0.0.3",)).node("node3").nodeid == 3
    with pytest.raises(SanError) as err:
        spec.node("nodeX")
    assert err.value.kind == "not_found"


# --- validation ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field", [
    (dict(name="San"), "name"),
    (dict(name="-san"), "name"),
    (dict(name="a" * 64), "name"),
    (dict(profile="fast"), "profile"),
    (dict(links=(Link(1), Link(1))), "links[1].priority"),
    (dict(links=(Link(3), Link(2), Link(1))), "links"),
    (dict(links=(Link(300), Link(1))), "links[0].priority"),
    (dict(nodes=()), "nodes"),
    (dict(fencing_delay=600), "fencing_delay"),
    (dict(sbd=SbdSpec(())), "sbd.devices"),
    (dict(sbd=SbdSpec((SBD0, SBD1, SBD0 + "x", SBD1 + "x"))), "sbd.devices"),
    (dict(sbd=SbdSpec(("/dev/sdb",))), "sbd.devices[0]"),
    (dict(sbd=SbdSpec(("/dev/disk/by-id/a;reboot",))), "sbd.devices[0]"),
    (dict(sbd=SbdSpec((SBD0, SBD0))), "sbd.devices"),
    (dict(sbd=SbdSpec((SBD0,), watchdog_device="watchdog")), "sbd.watchdog_device"),
    (dict(sbd=SbdSpec((SBD0,), watchdog_timeout=1)), "sbd.watchdog_timeout"),
    (dict(crypto=replace(ClusterSpec("x").crypto, cipher="none")), "crypto.cipher"),
    (dict(crypto=replace(ClusterSpec("x").crypto, hash="md5")), "crypto.hash"),
    (dict(properties={"stonith-enabled": "false"}), "properties.stonith-enabled"),
    (dict(properties={"no-quorum-policy": "panic"}), "properties.no-quorum-policy"),
    (dict(properties={"stonith-timeout": "5s"}), "properties.stonith-timeout"),
    (dict(properties={"priority-fencing-delay": "0"}), "properties.priority-fencing-delay"),
    (dict(properties={"symmetric-cluster": "false"}), "properties.symmetric-cluster"),
])
def test_validation_names_the_field(change, field):
    assert field in fields(two_nodes(**change))


@pytest.mark.parametrize("nodes, field", [
    ((Node("node1", 1, ("10.0.0.1", "10.0.1.1")), Node("node1", 2, ("10.0.0.2", "10.0.1.2"))), "nodes.name"),
    ((Node("node1", 1, ("10.0.0.1", "10.0.1.1")), Node("node2", 1, ("10.0.0.2", "10.0.1.2"))), "nodes.nodeid"),
    ((Node("node1", 0, ("10.0.0.1", "10.0.1.1")),), "nodes[0].nodeid"),
    ((Node("node1", 70000, ("10.0.0.1", "10.0.1.1")),), "nodes[0].nodeid"),
    ((Node("Node_1", 1, ("10.0.0.1", "10.0.1.1")),), "nodes[0].name"),
    ((Node("node1", 1, ("10.0.0.1",)),), "nodes[0].addresses"),
    ((Node("node1", 1, ("10.0.0.1", "10.0.0.300")),), "nodes[0].addresses[1]"),
    ((Node("node1", 1, ("10.0.0.1", "0.0.0.0")),), "nodes[0].addresses[1]"),
    ((Node("node1", 1, ("10.0.0.1", "10.0.1.1")), Node("node2", 2, ("10.0.0.2", "10.0.0.1"))),
     "nodes[1].addresses[1]"),
    ((Node("node1", 1, ("10.0.0.1/24", "10.0.0.11/24")),), "nodes[0].addresses[1]"),  # one subnet for both links
    ((Node("node1", 1, ("10.0.0.1/24", "10.0.1.1/24")), Node("node2", 2, ("10.0.1.2/24", "10.0.2.2/24"))),
     "nodes[0].addresses[1]"),  # node2's first link is in the subnet of node1's second link
    ((Node("node1", 1, ("10.0.0.1", "10.0.1.1")), Node("node2", 2, ("127.0.0.1", "10.0.1.2"))),
     "nodes[1].addresses[0]"),
    ((Node("node1", 1, ("10.0.0.1", "10.0.1.1")), Node("node2", 2, ("fd00::2", "10.0.1.2"))), "links[0]"),
])
def test_node_problems_name_the_field(nodes, field):
    assert field in fields(two_nodes(nodes=nodes))


def test_second_link_in_the_first_links_subnet_across_nodes():
    spec = two_nodes(nodes=(Node("node1", 1, ("10.0.0.1/24", "10.0.1.1/24")),
                            Node("node2", 2, ("10.0.0.2/24", "10.0.0.12/24"))))
    problems = [p for p in validate(spec) if p.field == "nodes[1].addresses[1]"]
    assert problems and problems[0].value == "10.0.0.12/24" and "subnet" in problems[0].message


def test_all_problems_are_collected_then_raised():
    spec = two_nodes(name="Bad Name", profile="nope", sbd=SbdSpec(("/dev/sdb",)),
                     properties={"no-quorum-policy": "panic"})
    assert {"name", "profile", "sbd.devices[0]", "properties.no-quorum-policy"} <= fields(spec)
    with pytest.raises(SanError) as err:
        check(spec)
    assert err.value.field == "name" and "more" in err.value.message


def test_fencing_off_needs_the_force_flag():
    off = two_nodes(properties={"stonith-enabled": "no"})
    assert "properties.stonith-enabled" in fields(off)
    forced = replace(off, allow_no_fencing=True, sbd=SbdSpec(()))
    assert validate(forced) == []
    root = ET.fromstring(cib.render_cib(forced))
    assert root.find(".//nvpair[@name='stonith-enabled']").get("value") == "false"
    assert root.find(".//primitive") is None  # no disks, no fence device


def test_ignore_quorum_only_up_to_two_nodes():
    assert validate(n_nodes(2, properties={"no-quorum-policy": "ignore"})) == []
    three = n_nodes(3, properties={"no-quorum-policy": "ignore"})
    assert fields(three) == {"properties.no-quorum-policy"}


# --- properties ----------------------------------------------------------------------------------------------------

def ctx(nodes=2, profile="production"):
    return properties.Context(nodes, timeouts.derive(profile, nodes), "san")


@pytest.mark.parametrize("name, value, normalized", [
    ("stonith-enabled", "Yes", "true"),
    ("stonith-enabled", True, "true"),
    ("stonith-action", "OFF", "off"),
    ("stonith-timeout", "2min", "120s"),
    ("stonith-timeout", "20000ms", "20s"),
    ("stonith-timeout", 45, "45s"),
    ("no-quorum-policy", "Freeze", "freeze"),
    ("resource-stickiness", "infinity", "INFINITY"),
    ("resource-stickiness", "0200", "200"),
])
def test_admin_values_are_normalized(name, value, normalized):
    assert properties.parse_value(name, value, ctx()) == normalized


def test_property_refusals():
    with pytest.raises(SanError) as err:
        properties.parse_value("stonith-enabled", "false", ctx())
    assert err.value.field == "properties.stonith-enabled" and "force" in err.value.message
    assert properties.parse_value("stonith-enabled", "false", ctx(), force=True) == "false"
    with pytest.raises(SanError, match="at least 40s"):
        properties.parse_value("stonith-timeout", "30s", ctx(profile="lab"))
    with pytest.raises(SanError, match="more than two"):
        properties.parse_value("no-quorum-policy", "ignore", ctx(nodes=3))
    with pytest.raises(SanError, match="derived"):
        properties.parse_value("cluster-name", "other", ctx())
    with pytest.raises(SanError, match="duration"):
        properties.parse_value("stonith-timeout", "soon", ctx())


def test_every_property_is_explained_and_has_a_default():
    settings = properties.resolve({}, ctx())
    assert [s.name for s in settings] == [p.name for p in properties.PROPERTIES]
    for s in settings:
        assert s.explanation.endswith(".") and len(s.explanation) > 30, s.name
        assert s.value != "" and s.source == "default"
    values = {s.name: s.value for s in settings}
    assert values["stonith-enabled"] == "true" and values["no-quorum-policy"] == "stop"
    assert values["stonith-timeout"] == "20s" and values["priority-fencing-delay"] == "10s"
    three = {s.name: s.value for s in properties.resolve({}, ctx(nodes=3))}
    assert three["priority-fencing-delay"] == "0s"
