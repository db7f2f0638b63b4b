"""The failover benchmark's pure parts: the guest script compiles, the stock agents' primitives, the goals' summary
(the benchmark itself runs two VMs: `make bench`)."""

from sanappliance.lab import failover_bench as B


def test_the_guest_script_makes_the_volumes_and_the_luns_in_one_change():
    from dataclasses import replace

    from sanappliance.model.config import Acl, Config, Lun, Pool, Target, Tpg
    from sanappliance.model.validate import validate
    from tests.unit.drbd_samples import replicated_pool

    names: dict = {"__name__": "guest"}
    exec(compile(B.GUEST_VOLUMES, "guest", "exec"), names)  # noqa: S102 - the benchmark's own script
    base = Config(pools=(replace(replicated_pool(), floating_ips=()),), targets=(
        Target(B.IQN, (Tpg(acls=(Acl(B.HOST),)),)),))
    base = names["edit"](base, 1, "", B.LUN_SIZE)
    base = replace(base, targets=(Target(B.IQN, (Tpg(luns=(Lun(0, "v0"),), acls=(Acl(B.HOST),)),)),))
    grown = names["edit"](base, 3, B.IQN, B.LUN_SIZE)
    assert [v.name for v in grown.volumes] == ["v0", "v1", "v2"] and grown.volumes[0] == base.volumes[0]
    tpg = grown.targets[0].tpgs[0]
    assert [lun.lun for lun in tpg.luns] == [0, 1, 2] and len(tpg.acls[0].mapped_luns) == 3
    assert validate(grown) == [] and isinstance(grown.pools[0], Pool)


def test_a_stock_primitive_carries_its_parameters_and_ops():
    rsc = B._stock("san-p1-stock-lun3", "iSCSILogicalUnit", {"lun": "3", "path": "/dev/san-p1/v3"},
                   (("start", "0s", "60s"), ("monitor", "10s", "20s")))
    assert (rsc.get("class"), rsc.get("provider"), rsc.get("type")) == ("ocf", "heartbeat", "iSCSILogicalUnit")
    assert {p.get("name"): p.get("value") for p in rsc.iter("nvpair")} == {"lun": "3", "path": "/dev/san-p1/v3"}
    assert [op.get("id") for op in rsc.iter("op")] == ["san-p1-stock-lun3-start-0s", "san-p1-stock-lun3-monitor-10s"]


def test_the_summary_checks_both_goals():
    rounds = [{"config": "appliance agent, 1 LUNs", "phases_s": {"first acknowledged write": 100.0}, "work_s": 10.0},
              {"config": "appliance agent, 64 LUNs", "phases_s": {"first acknowledged write": 104.0}, "work_s": 12.0},
              {"config": "appliance agent, 256 LUNs", "phases_s": {"first acknowledged write": 120.0}, "work_s": 20.0},
              {"config": "stock agents, 64 LUNs", "phases_s": {"first acknowledged write": 600.0}, "work_s": 480.0}]
    out = B.summary(rounds)
    assert out["appliance_256_over_1"] == 1.2 and out["work_stock64_over_appliance64"] == 40.0
    assert "appliance_256_over_1" not in B.summary(rounds[1:])


def test_the_guest_script_trims_the_volumes_a_round_does_not_use_64_at_a_time():
    from dataclasses import replace

    from sanappliance.model.config import Config
    from tests.unit.drbd_samples import replicated_pool

    names: dict = {"__name__": "guest"}
    exec(compile(B.GUEST_VOLUMES, "guest", "exec"), names)  # noqa: S102 - the benchmark's own script
    many = names["edit"](Config(pools=(replace(replicated_pool(), floating_ips=()),)), 100, "", B.LUN_SIZE)
    assert names["extra"](many, 16)[:2] == ["v99", "v98"] and len(names["extra"](many, 16)) == 84
    once = names["trim"](many, 16)
    assert len(once.volumes) == 36 and names["extra"](names["trim"](once, 16), 16) == []
    assert [v.name for v in names["trim"](once, 16).volumes] == [f"v{i}" for i in range(16)]
