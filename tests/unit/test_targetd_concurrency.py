"""20 clients at once against the real server, over the real saved state (ConfigStore in a temporary directory, its
file lock): every change lands, none is lost, and the node ends up as the saved state says."""

from __future__ import annotations

import threading

from sanappliance.apply.store import ConfigStore
from sanappliance.lio import plan as P
from sanappliance.lio.render import render
from sanappliance.model.apiconfig import hash_password
from sanappliance.model.validate import validate
from sanappliance.service import storage
from sanappliance.service.env import Env
from sanappliance.storage.plan import desired
from sanappliance.targetd.auth import Authenticator

from .fakes import FakeSystem
from .targetd_client import PASSWORD, TARGET, USER, Client, start

CLIENTS = 20
MiB = 2**20


def test_concurrent_clients_lose_no_update(tmp_path, monkeypatch):
    monkeypatch.setenv("SANAPPLIANCE_RUN_DIR", str(tmp_path / "run"))
    env = Env(ConfigStore(tmp_path / "etc"), FakeSystem())
    storage.create_pool(env, "p1", ["/dev/disk/by-id/virtio-data1"])
    server = start(env, tmp_path, tls=False, auth=Authenticator(USER, hash_password(PASSWORD)))
    failures: list[object] = []

    def client(i: int) -> None:
        c = Client(server.client.port)  # its own request ids
        initiator = f"iqn.1994-05.com.example:host{i}"
        try:
            for name in (f"c{i}a", f"c{i}b"):
                assert c.ok("vol_create", pool="p1", name=name, size=4 * MiB) is None
            assert c.ok("export_create", pool="p1", vol=f"c{i}a", initiator_wwn=initiator, lun=0) is None
            assert c.ok("export_create", pool="p1", vol=f"c{i}b", initiator_wwn=initiator, lun=1) is None
            assert {v["name"] for v in c.ok("vol_list", pool="p1")} >= {f"c{i}a", f"c{i}b"}
            assert (initiator, 1) in {(e["initiator_wwn"], e["lun"]) for e in c.ok("export_list")}
            assert c.ok("export_destroy", pool="p1", vol=f"c{i}b", initiator_wwn=initiator) is None
            assert c.ok("vol_destroy", pool="p1", name=f"c{i}b") is None
        except Exception as exc:  # reported below, with the client's number
            failures.append((i, exc))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        server.stop()
    assert failures == []

    config = env.store.load()
    assert config.generation == 1 + 6 * CLIENTS  # the pool, then six changes per client: none lost
    assert validate(config) == []
    assert sorted(v.name for v in config.volumes) == sorted(f"c{i}a" for i in range(CLIENTS))
    (tpg,) = config.target(TARGET).tpgs
    exported = {(a.initiator, m.mapped_lun, next(x.volume for x in tpg.luns if x.lun == m.tpg_lun))
                for a in tpg.acls for m in a.mapped_luns}
    assert exported == {(f"iqn.1994-05.com.example:host{i}", 0, f"c{i}a") for i in range(CLIENTS)}
    assert len(tpg.luns) == CLIENTS  # the LUNs of the unexported volumes went with their exports
    assert P.plan(env.system.lio, render(config)) == []
    assert env.system.lvm.lvs == desired(config).lvs
