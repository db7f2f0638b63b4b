"""The network spec as data (pure): JSON round trip, fields named in errors, and the helpers the cluster, DRBD and
target layers use to pick addresses."""

import json
from dataclasses import replace

import pytest

from sanappliance.errors import NOT_FOUND, SanError
from sanappliance.model.apiconfig import hash_password, verify_password
from sanappliance.network.model import (
    Bond,
    FirstBoot,
    Interface,
    NetworkSpec,
    Role,
    RoleAddress,
    Vlan,
    addresses_for,
    links_for,
    lower_devices,
    members,
)

from .test_network_samples import active_backup, dhcp, full


@pytest.mark.parametrize("make", [full, dhcp, active_backup])
def test_json_round_trip(make):
    spec = make()
    text = spec.to_json()
    assert NetworkSpec.from_json(text) == spec
    assert NetworkSpec.from_dict(json.loads(text)) == spec


def test_json_keeps_enums_as_their_kernel_names():
    data = full().to_dict()
    assert data["bonds"][0]["mode"] == "802.3ad" and data["bonds"][0]["xmit_hash_policy"] == "layer3+4"
    assert data["links"][1]["roles"] == ["replication", "cluster"]
    assert data["interfaces"][0] == {"name": "eth0", "mac": None, "mtu": None}


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["bonds"][0].update(mode="802.3ax"), "network.bonds[0].mode"),
    (lambda d: d["links"][0].update(roles=["admin"]), "network.links[0].roles[0]"),
    (lambda d: d["vlans"][0].update(id="100"), "network.vlans[0].id"),
    (lambda d: d["links"][0].update(colour="red"), "network.links[0]"),
    (lambda d: d["time"].pop("timezone") and d["time"].update(tz="UTC"), "network.time"),
    (lambda d: d.pop("hostname"), "network.hostname"),
])
def test_from_dict_names_the_bad_field(mutate, field):
    data = full().to_dict()
    mutate(data)
    with pytest.raises(SanError) as err:
        NetworkSpec.from_dict(data)
    assert err.value.field == field


def test_from_json_refuses_what_is_not_json():
    with pytest.raises(SanError) as err:
        NetworkSpec.from_json("{hostname: san1}", "network.json")
    assert err.value.field == "network.json" and "not valid JSON" in err.value.message


def test_first_boot_round_trip_keeps_the_hash_apart():
    first = FirstBoot(dhcp(), hash_password("a-long-secret"))
    again = FirstBoot.from_json(first.to_json())
    assert again == first and verify_password("a-long-secret", again.admin_password_hash)
    assert "password" not in again.network.to_json()


def test_addresses_for_follows_link_then_address_order():
    spec = full()
    assert addresses_for(spec, Role.CLUSTER) == [RoleAddress("bond0.100", "10.0.1.1/24"),
                                                 RoleAddress("bond0.200", "10.0.2.1/24")]
    assert [a.ip for a in addresses_for(spec, Role.STORAGE)] == ["10.0.3.1", "10.0.4.1"]
    assert [a.ip for a in addresses_for(spec, Role.MANAGEMENT)] == ["192.0.2.10", "2001:db8::10"]
    assert [a.link for a in addresses_for(spec, Role.REPLICATION)] == ["bond0.100"]
    swapped = replace(spec, links=(spec.links[0], spec.links[2], spec.links[1], *spec.links[3:]))
    assert [a.link for a in addresses_for(swapped, Role.CLUSTER)] == ["bond0.200", "bond0.100"]  # knet link 0 first


def test_a_dhcp_management_address_is_not_in_the_spec():
    assert addresses_for(dhcp(), Role.MANAGEMENT) == []
    assert [link.name for link in links_for(dhcp(), Role.MANAGEMENT)] == ["eth0"]


def test_devices_and_their_lower_devices():
    spec = full()
    assert lower_devices(spec, "bond0.100") == ["bond0.100", "bond0", "eth1", "eth2"]
    assert lower_devices(spec, "eth3") == ["eth3"]
    assert members(spec) == {"eth1": "bond0", "eth2": "bond0"}
    assert isinstance(spec.device("bond0"), Bond) and isinstance(spec.device("bond0.200"), Vlan)
    assert isinstance(spec.device("lan0"), Interface) and spec.link("eth1") is None
    assert spec.management().name == "eth0"
    with pytest.raises(SanError) as err:
        spec.device("eth7")
    assert err.value.kind == NOT_FOUND and err.value.value == "eth7"


def test_lower_devices_survive_a_loop():
    spec = NetworkSpec("san1", vlans=(Vlan("a", "b", 1), Vlan("b", "a", 2)))
    assert lower_devices(spec, "a") == ["a", "b"]


def test_a_cluster_node_s_local_targets_listen_on_its_storage_links_else_its_management_one():
    from sanappliance.network.model import Link, NetworkSpec, Role, portal_addresses

    live = {"ens3": ["192.168.1.50/24"], "ens4": ["10.0.1.1/24"], "ens5": ["10.0.3.11/24", "10.0.3.100/24"]}
    storage = NetworkSpec("san1", links=(Link("ens3", (Role.MANAGEMENT,), dhcp=True),
                                         Link("ens4", (Role.CLUSTER,), addresses=("10.0.1.1/24",)),
                                         Link("ens5", (Role.STORAGE,), addresses=("10.0.3.11/24",)),
                                         Link("ens6", (Role.STORAGE,), addresses=("10.0.4.11/24", "fd00::11/64"))))
    assert portal_addresses(storage, live) == ("10.0.3.11", "10.0.4.11", "fd00::11")  # up or not yet
    one_link = NetworkSpec("san1", links=(Link("ens3", (Role.MANAGEMENT,), dhcp=True),
                                          Link("ens4", (Role.CLUSTER,), addresses=("10.0.1.1/24",))))
    assert portal_addresses(one_link, live) == ("192.168.1.50",)  # the management link's lease
    assert portal_addresses(None, live) == ("192.168.1.50", "10.0.1.1", "10.0.3.11", "10.0.3.100")
