"""Stand-ins for the live system in unit tests of the service layer's logic (the real LIO and LVM are exercised in
the VM tests). They apply plan actions to plain state the way LIO and LVM would."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sanappliance.errors import SanError
from sanappliance.lio import plan as P
from sanappliance.lio.state import Acl, LioState, Target, Tpg
from sanappliance.model.config import Config
from sanappliance.model.validate import Facts
from sanappliance.storage import plan as S


def apply_lio(state: LioState, actions) -> LioState:
    storage = dict(state.storage)
    targets = {k: Target(k, dict(v.tpgs)) for k, v in state.targets.items()}
    discovery = state.discovery
    for a in actions:
        if isinstance(a, P.CreateStorage):
            assert a.storage.key not in storage, a
            storage[a.storage.key] = a.storage
        elif isinstance(a, P.DeleteStorage):
            del storage[a.key]
        elif isinstance(a, P.SetStorageAttributes):
            storage[a.key] = replace(storage[a.key], attributes={**storage[a.key].attributes, **a.attributes})
        elif isinstance(a, P.CreateTarget):
            assert a.target not in targets, a
            targets[a.target] = Target(a.target, {})
        elif isinstance(a, P.DeleteTarget):
            del targets[a.target]
        elif isinstance(a, P.CreateTpg):
            targets[a.target].tpgs[a.tag] = Tpg(a.tag, enabled=False)
        elif isinstance(a, P.DeleteTpg):
            del targets[a.target].tpgs[a.tag]
        elif isinstance(a, P.SetDiscoveryAuth):
            discovery = a.chap
        else:
            tpgs = targets[a.target].tpgs
            tpgs[a.tag] = _tpg(tpgs[a.tag], a)
    return LioState(storage, targets, discovery)


def _tpg(tpg: Tpg, a) -> Tpg:
    if isinstance(a, P.SetTpgSettings):
        return replace(tpg, attributes={**tpg.attributes, **a.attributes}, parameters={**tpg.parameters,
                                                                                      **a.parameters})
    if isinstance(a, P.SetTpgAuth):
        return replace(tpg, chap=a.chap)
    if isinstance(a, P.CreatePortal):
        return replace(tpg, portals=tuple(sorted(tpg.portals + ((a.address, a.port),))))
    if isinstance(a, P.DeletePortal):
        return replace(tpg, portals=tuple(p for p in tpg.portals if p != (a.address, a.port)))
    if isinstance(a, P.CreateLun):
        assert a.lun not in tpg.luns, a
        return replace(tpg, luns={**tpg.luns, a.lun: a.key})
    if isinstance(a, P.DeleteLun):
        acls = {w: replace(x, mapped=tuple(m for m in x.mapped if m.tpg_lun != a.lun)) for w, x in tpg.acls.items()}
        return replace(tpg, luns={n: k for n, k in tpg.luns.items() if n != a.lun}, acls=acls)
    if isinstance(a, P.CreateAcl):
        assert a.wwn not in tpg.acls, a
        return replace(tpg, acls={**tpg.acls, a.wwn: Acl(a.wwn, a.group)})
    if isinstance(a, P.DeleteAcl):
        return replace(tpg, acls={w: x for w, x in tpg.acls.items() if w != a.wwn})
    acl = tpg.acls[a.wwn] if hasattr(a, "wwn") else None
    if isinstance(a, P.SetAclTag):
        acl = replace(acl, tag=a.group)
    elif isinstance(a, P.SetAclAuth):
        acl = replace(acl, chap=a.chap)
    elif isinstance(a, P.CreateMappedLun):
        assert a.mapped.tpg_lun in tpg.luns and a.mapped.mapped_lun not in {m.mapped_lun for m in acl.mapped}, a
        acl = replace(acl, mapped=tuple(sorted(acl.mapped + (a.mapped,), key=lambda m: m.mapped_lun)))
    elif isinstance(a, P.DeleteMappedLun):
        acl = replace(acl, mapped=tuple(m for m in acl.mapped if m.mapped_lun != a.mapped_lun))
    elif isinstance(a, P.SetTpgEnabled):
        return replace(tpg, enabled=a.enabled)
    else:
        raise AssertionError(f"unhandled {a}")
    return replace(tpg, acls={**tpg.acls, a.wwn: acl})


@dataclass
class FakeSystem:
    lio: LioState = field(default_factory=LioState)
    lvm: S.LvmState = field(default_factory=S.LvmState)
    disk_sizes: dict[str, int] = field(default_factory=lambda: {"/dev/disk/by-id/virtio-data1": 4 * 2**30,
                                                                "/dev/disk/by-id/virtio-data2": 4 * 2**30})
    fail_on: type | None = None  # an action type whose execution fails, as LIO might
    calls: int = 0
    reads: list = field(default_factory=list)
    copies: list = field(default_factory=list)  # (source, target) volume names of each copy_volume
    fail_copy: bool = False
    node_addresses: tuple | None = None  # portal_addresses(): None, the node is alone; else a cluster node's

    def portal_addresses(self) -> tuple | None:
        return self.node_addresses

    def read_lio(self, scope=None) -> LioState:
        self.reads.append(scope)
        return self.lio.restrict(scope)

    def run_lio(self, actions) -> None:
        for action in actions:
            if self.fail_on is not None and isinstance(action, self.fail_on):
                raise SanError("LIO refused", field="lio")
            self.lio = apply_lio(self.lio, [action])
            if isinstance(action, P.CreateStorage) and action.storage.plugin == "fileio":  # LIO makes the file
                self.lvm = replace(self.lvm, files=tuple(sorted({*self.lvm.files, action.storage.dev})))
        self.calls += 1

    def read_lvm(self, known_disks) -> S.LvmState:
        return self.lvm

    def run_lvm(self, actions) -> None:
        vgs, lvs, files = dict(self.lvm.vgs), dict(self.lvm.lvs), list(self.lvm.files)
        for a in actions:
            if isinstance(a, S.CreateVg):
                vgs[a.vg] = a.disks
            elif isinstance(a, S.ExtendVg):
                vgs[a.vg] += (a.disk,)
            elif isinstance(a, S.RemoveVg):
                del vgs[a.vg]
                lvs = {k: v for k, v in lvs.items() if k[0] != a.vg}
            elif isinstance(a, S.CreateLv | S.ResizeLv):
                lvs[(a.vg, a.lv)] = a.size
            elif isinstance(a, S.RemoveLv):
                del lvs[(a.vg, a.lv)]
            elif isinstance(a, S.RemoveFile):
                files.remove(a.path)
        self.lvm = S.LvmState(vgs, lvs, tuple(files))

    def disks(self, config: Config) -> list:
        return sorted(self.disk_sizes)

    def facts(self, config: Config) -> Facts:
        return Facts(disk_sizes=dict(self.disk_sizes), pool_sizes={  # a replicated pool's size: not known here
            p.name: sum(self.disk_sizes.get(d, 0) for d in p.disks) for p in config.pools if p.replication is None})

    def pool_usage(self, config: Config) -> dict[str, tuple[int, int]]:
        lvm, usage = self.lvm, {}
        for pool in config.pools:
            if pool.vg in lvm.vgs:
                size = sum(self.disk_sizes.get(d, 0) for d in lvm.vgs[pool.vg])
                usage[pool.name] = (size, size - sum(n for (vg, _), n in lvm.lvs.items() if vg == pool.vg))
        return usage

    def copy_volume(self, config: Config, source: str, target: str) -> None:
        vgs = {v.name: config.pool(v.pool).vg for v in config.volumes if v.name in (source, target)}
        assert (vgs[source], source) in self.lvm.lvs and (vgs[target], target) in self.lvm.lvs
        if self.fail_copy:
            raise SanError("dd failed", field="storage", value=target)
        self.copies.append((source, target))


@dataclass
class MemoryStore:
    config: Config = field(default_factory=Config)
    saves: int = 0

    def load(self) -> Config:
        return self.config

    def save(self, config: Config, expected_generation: int) -> Config:
        if expected_generation != self.config.generation:
            raise SanError("changed meanwhile", field="generation")
        self.config = replace(config, generation=expected_generation + 1)
        self.saves += 1
        return self.config

    @contextmanager
    def lock(self, timeout: float = 1.0):
        yield

    def export(self, path):
        path.write_text(self.config.to_json())
        return path

    def read_external(self, path):
        return Config.from_json(path.read_text(), str(path))

    def list_backups(self):
        return []
