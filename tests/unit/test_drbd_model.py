"""Replicated pools in the desired-state model: validation naming the field, unique DRBD numbers, JSON round trip,
the schema upgrade, and the targets that move with a pool."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sanappliance.errors import EXHAUSTED, SanError
from sanappliance.model import replication
from sanappliance.model.config import (
    SCHEMA_VERSION,
    Config,
    FloatingIp,
    Lun,
    Pool,
    Portal,
    ReplicaNode,
    Target,
    Tpg,
    Volume,
    VolumeKind,
)
from sanappliance.model.validate import Facts, validate
from tests.unit.drbd_samples import IQN, LOCAL, R1, R2, config, replicated_pool, two_pools


def fields(cfg: Config, facts: Facts | None = None) -> dict[str, object]:
    return {p.field: p.value for p in validate(cfg, facts)}


def with_pool(pool: Pool, base: Config | None = None) -> Config:
    base = base or config()
    return replace(base, pools=tuple(pool if p.name == pool.name else p for p in base.pools))


def with_nodes(*nodes: ReplicaNode) -> Config:
    pool = replicated_pool()
    return with_pool(replace(pool, replication=replace(pool.replication, nodes=nodes)))


def test_the_samples_are_valid():
    assert validate(config()) == []
    assert validate(two_pools()) == []


def test_a_replicated_pool_sits_on_its_drbd_device():
    pool = replicated_pool(minor=3)
    assert pool.replicated and pool.physical_volumes == ("/dev/drbd3",) and pool.vg == "san-p1"
    assert Pool("x", (LOCAL,)).physical_volumes == (LOCAL,) and not Pool("x", (LOCAL,)).replicated
    assert pool.replication.node("node2").disk == R2
    with pytest.raises(SanError) as err:
        pool.replication.node("node9")
    assert err.value.field == "node" and err.value.value == "node9"


def test_errors_name_the_replica_node_and_field():
    bad = with_nodes(ReplicaNode("node1", R1, "10.0.2.11"), ReplicaNode("node2", "/dev/sdc", "10.0.2.12"))
    assert fields(bad) == {"pools[p1].replication.nodes[node2].disk": "/dev/sdc"}
    bad = with_nodes(ReplicaNode("node1", R1, "10.0.2.11"), ReplicaNode("node2", R2, "10.0.2.300"))
    assert fields(bad) == {"pools[p1].replication.nodes[node2].address": "10.0.2.300"}
    bad = with_nodes(ReplicaNode("Node_1", R1, "10.0.2.11"), ReplicaNode("node2", R2, "10.0.2.12/24"))
    assert fields(bad) == {"pools[p1].replication.nodes[Node_1].name": "Node_1",
                           "pools[p1].replication.nodes[node2].address": "10.0.2.12/24"}


def test_two_nodes_exactly_with_distinct_names_and_addresses():
    one = with_nodes(ReplicaNode("node1", R1, "10.0.2.11"))
    assert fields(one) == {"pools[p1].replication.nodes": 1}
    same = with_nodes(ReplicaNode("node1", R1, "10.0.2.11"), ReplicaNode("node1", R2, "10.0.2.12"))
    assert fields(same) == {"pools[p1].replication.nodes": "node1"}
    same_ip = with_nodes(ReplicaNode("node1", R1, "10.0.2.11"), ReplicaNode("node2", R2, "10.0.2.11"))
    assert fields(same_ip) == {"pools[p1].replication.nodes": "10.0.2.11"}
    mixed = with_nodes(ReplicaNode("node1", R1, "10.0.2.11"), ReplicaNode("node2", R2, "fd00::12"))
    assert "pools[p1].replication.nodes" in fields(mixed)
    wildcard = with_nodes(ReplicaNode("node1", R1, "0.0.0.0"), ReplicaNode("node2", R2, "10.0.2.12"))
    assert fields(wildcard) == {"pools[p1].replication.nodes[node1].address": "0.0.0.0"}


@pytest.mark.parametrize("change, field, value", [
    ({"minor": 256}, "pools[p1].replication.minor", 256),
    ({"minor": -1}, "pools[p1].replication.minor", -1),
    ({"port": 80}, "pools[p1].replication.port", 80),
    ({"port": 3260}, "pools[p1].replication.port", 3260),
    ({"port": 5405}, "pools[p1].replication.port", 5405),
    ({"protocol": "A"}, "pools[p1].replication.protocol", "A"),
])
def test_drbd_numbers_and_protocol(change, field, value):
    pool = replicated_pool()
    assert fields(with_pool(replace(pool, replication=replace(pool.replication, **change)))) == {field: value}


def test_minors_ports_and_backing_disks_are_unique_across_pools():
    base = two_pools()
    p2 = base.pools[2]
    clash = with_pool(replace(p2, replication=replace(p2.replication, minor=0, port=7789)), base)
    assert fields(clash) == {"pools.replication.minor": 0, "pools.replication.port": 7789}
    shared = with_pool(replace(p2, replication=replace(p2.replication, nodes=(
        ReplicaNode("node1", R1, "10.0.2.11"), ReplicaNode("node2", "/dev/disk/by-id/virtio-repl4", "10.0.2.12")))),
        base)
    assert fields(shared) == {"pools[p2].replication.nodes[node1].disk": R1}
    on_local = with_nodes(ReplicaNode("node1", LOCAL, "10.0.2.11"), ReplicaNode("node2", R2, "10.0.2.12"))
    assert fields(on_local) == {"pools[p1].replication.nodes[node1].disk": LOCAL}


def test_disks_belong_to_the_nodes_and_floating_addresses_to_replicated_pools():
    assert fields(with_pool(replace(replicated_pool(), disks=(LOCAL,)))) == {"pools[p1].disks": LOCAL}
    local = Pool("local", (LOCAL,), floating_ips=(FloatingIp("10.0.3.50/24"),))
    assert fields(with_pool(local)) == {"pools[local].floating_ips": "10.0.3.50/24"}
    assert fields(with_pool(replace(replicated_pool(), floating_ips=(), portblock=True))) == {
        "pools[p1].portblock": True}


@pytest.mark.parametrize("fip, field, value", [
    (FloatingIp("10.0.3.100"), "pools[p1].floating_ips[0].address", "10.0.3.100"),
    (FloatingIp("10.0.3.300/24"), "pools[p1].floating_ips[0].address", "10.0.3.300/24"),
    (FloatingIp("10.0.3.0/24"), "pools[p1].floating_ips[0].address", "10.0.3.0/24"),
    (FloatingIp("10.0.2.11/24"), "pools[p1].floating_ips[0].address", "10.0.2.11/24"),
    (FloatingIp("10.0.3.100/24", "eth 2"), "pools[p1].floating_ips[0].link", "eth 2"),
])
def test_floating_addresses(fip, field, value):
    assert fields(with_pool(replace(replicated_pool(), floating_ips=(fip,)))) == {field: value}


def test_a_floating_address_is_used_once():
    base = two_pools()
    p2 = replace(base.pools[2], floating_ips=(FloatingIp("10.0.3.100/24"),))
    assert fields(with_pool(p2, base)) == {"pools.floating_ips": "10.0.3.100",
                                           f"targets[{base.targets[1].iqn}].tpg1.portals[0].address": "10.0.3.101"}


def test_targets_move_with_one_replicated_pool():
    base = config()
    assert replication.targets_of_pool(base, "p1") == base.targets
    assert replication.targets_of_pool(base, "local") == ()
    mixed = replace(base, targets=(Target(IQN, (Tpg(luns=(Lun(0, "vol1"), Lun(1, "scratch"))),)),))
    assert fields(mixed) == {f"targets[{IQN}].luns": "p1, local"}
    filed = replace(mixed, volumes=(*base.volumes[:2], Volume("scratch", VolumeKind.FILEIO, 2**20)))
    assert fields(filed) == {f"targets[{IQN}].luns": "p1, (not an LV)"}
    elsewhere = replace(base, targets=(Target(IQN, (Tpg(portals=(Portal("10.9.9.9"),), luns=(Lun(0, "vol1"),)),)),))
    assert fields(elsewhere) == {f"targets[{IQN}].tpg1.portals[0].address": "10.9.9.9"}
    on_floating = replace(base, targets=(Target(IQN, (Tpg(portals=(Portal("10.0.3.100"), Portal("10.0.4.100")),
                                                          luns=(Lun(0, "vol1"),)),)),))
    assert validate(on_floating) == []


def test_the_local_backing_disk_is_checked_against_this_nodes_facts():
    cfg = config()
    facts = Facts(disk_sizes={LOCAL: 2**34, R1: 2**34}, node="node1")
    assert validate(cfg, facts) == []
    assert fields(cfg, Facts(disk_sizes={LOCAL: 2**34}, node="node1")) == {
        "pools[p1].replication.nodes[node1].disk": R1}
    assert fields(cfg, Facts(disk_sizes={LOCAL: 2**34, R1: 1}, disks_in_use={R1: "mounted on /srv"},
                             node="node1")) == {"pools[p1].replication.nodes[node1].disk": R1}
    assert validate(cfg, Facts(disk_sizes={LOCAL: 2**34, R2: 2**34}, node="node2")) == []  # node1's is not here
    assert fields(cfg, Facts(disk_sizes={LOCAL: 2**34, R1: 2**34}, node="node2")) == {
        "pools[p1].replication.nodes[node2].disk": R2}


def test_allocate_picks_the_lowest_free_minor_and_port():
    assert replication.allocate(Config()) == (0, 7789)
    assert replication.allocate(config()) == (1, 7790)
    base = two_pools()
    gap = with_pool(replace(base.pools[1], replication=replace(base.pools[1].replication, minor=5, port=7800)), base)
    assert replication.allocate(gap) == (0, 7789)
    pools = tuple(replicated_pool(f"p{i}", minor=i, port=7789 + i, disks=(f"{R1}-{i}", f"{R2}-{i}"),
                                  floating_ips=()) for i in range(replication.MAX_MINOR + 1))
    with pytest.raises(SanError) as err:
        replication.allocate(Config(pools=pools))
    assert err.value.kind == EXHAUSTED and err.value.field == "replication.minor"


def test_json_round_trip_and_errors_by_path():
    cfg = two_pools()
    assert Config.from_json(cfg.to_json()) == cfg
    data = cfg.to_dict()
    assert data["schema"] == SCHEMA_VERSION and data["pools"][0]["replication"] is None
    data["pools"][1]["replication"]["nodes"][1]["disk"] = 7
    with pytest.raises(SanError) as err:
        Config.from_dict(data)
    assert err.value.field == "config.pools[1].replication.nodes[1].disk"


def test_schema_1_files_upgrade_to_local_pools():
    old = {"schema": 1, "generation": 4, "pools": [{"name": "p1", "disks": [LOCAL], "thin": False}]}
    cfg = Config.from_json(json.dumps(old))
    assert cfg.schema == SCHEMA_VERSION and cfg.generation == 4
    assert cfg.pools == (Pool("p1", (LOCAL,)),) and validate(cfg) == []
    with pytest.raises(SanError) as err:
        Config.from_json(json.dumps({**old, "schema": SCHEMA_VERSION + 1}))
    assert err.value.field == "schema" and "newer" in err.value.message
