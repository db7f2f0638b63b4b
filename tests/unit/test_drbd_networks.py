"""A replicated pool against its nodes' network specs: DRBD on the replication link when there is one, floating
portal addresses in a storage subnet."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sanappliance.drbd.networks import check_pool_networks, replication_address
from sanappliance.errors import SanError
from sanappliance.model.config import FloatingIp
from sanappliance.network.model import Interface, Link, NetworkSpec, Role
from tests.unit.drbd_samples import replicated_pool


def spec(host: str, n: int, replication: bool = True) -> NetworkSpec:
    links = [Link("eth0", (Role.MANAGEMENT,), dhcp=True), Link("eth1", (Role.CLUSTER,), addresses=(f"10.0.1.{n}/24",)),
             Link("eth2", (Role.STORAGE,), addresses=(f"10.0.3.{n}/24",)),
             Link("eth3", (Role.STORAGE,), addresses=(f"10.0.4.{n}/24",))]
    if replication:
        links.append(Link("eth4", (Role.REPLICATION,), addresses=(f"10.0.2.{n}/24",)))
    return NetworkSpec(host, interfaces=tuple(Interface(f"eth{i}") for i in range(5)), links=tuple(links))


SPECS = {"node1": spec("node1", 11), "node2": spec("node2", 12)}


def test_the_sample_pool_fits_the_networks():
    assert check_pool_networks(replicated_pool(), SPECS) == []
    assert replication_address(SPECS["node1"]) == "10.0.2.11"


def test_drbd_stays_off_the_cluster_link_when_there_is_a_replication_link():
    pool = replicated_pool(addresses=("10.0.1.11", "10.0.2.12"))
    problems = check_pool_networks(pool, SPECS)
    assert [(p.field, p.value) for p in problems] == [("pools[p1].replication.nodes[node1].address", "10.0.1.11")]
    plain = {"node1": spec("node1", 11, replication=False), "node2": spec("node2", 12, replication=False)}
    assert replication_address(plain["node2"]) == "10.0.1.12"
    assert check_pool_networks(pool, plain)[0].field == "pools[p1].replication.nodes[node2].address"
    assert check_pool_networks(replicated_pool(addresses=("10.0.1.11", "10.0.1.12")), plain) == []


def test_floating_addresses_in_a_storage_subnet_on_a_named_storage_link():
    pool = replace(replicated_pool(), floating_ips=(FloatingIp("10.0.9.100/24"), FloatingIp("10.0.3.100/24", "eth9")))
    fields = {(p.field, p.value) for p in check_pool_networks(pool, SPECS)}
    assert fields == {("pools[p1].floating_ips[0].address", "10.0.9.100/24"),
                      ("pools[p1].floating_ips[1].link", "eth9")}


def test_a_node_without_addresses_has_no_replication_address():
    with pytest.raises(SanError) as err:
        replication_address(NetworkSpec("node3"))
    assert err.value.value == "node3"
