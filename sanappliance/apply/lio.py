"""LIO through rtslib-fb: read the live kernel target into a LioState, and carry out a plan's actions.

Only the iSCSI fabric is read and changed; storage objects of other plugins (pscsi, user) are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sanappliance.errors import SanError
from sanappliance.lio import plan as P
from sanappliance.lio.state import NO_CHAP, Acl, LioState, MappedLun, StorageObject, Target, Tpg
from sanappliance.model import settings

MANAGED_PLUGINS = ("block", "fileio", "rd_mcp")
RTSLIB_PLUGINS = {"ramdisk": "rd_mcp"}  # rtslib calls rd_mcp storage objects "ramdisk"
HBA_PREFIX = {"block": "iblock"}  # configfs names HBAs by the kernel's plugin names


def _plugin(so: Any) -> str:
    return RTSLIB_PLUGINS.get(so.plugin, so.plugin)


def _rtslib() -> Any:
    try:
        import rtslib_fb
    except ImportError as exc:  # pragma: no cover - the appliance always has it
        raise SanError("rtslib-fb is not installed", field="rtslib") from exc
    return rtslib_fb


def _chap(obj: Any, prefix: str = "chap_") -> tuple[str, str, str, str]:
    return (getattr(obj, f"{prefix}userid") or "", getattr(obj, f"{prefix}password") or "",
            getattr(obj, f"{prefix}mutual_userid") or "", getattr(obj, f"{prefix}mutual_password") or "")


def _int(value: str) -> int | str:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def read_state() -> LioState:
    """The live LIO state (storage objects of the managed plugins, iSCSI targets, discovery auth)."""
    rtslib = _rtslib()
    root = rtslib.RTSRoot()
    storage = {}
    for so in root.storage_objects:
        plugin = _plugin(so)
        if plugin not in MANAGED_PLUGINS:
            continue
        dev = so.udev_path if plugin in ("block", "fileio") else ""
        size = int(so.size) if plugin in ("fileio", "rd_mcp") else 0
        attributes = {name: _int(so.get_attribute(name)) for name in settings.DEVICE_ATTRIBUTES
                      if name in so.list_attributes()}
        state = StorageObject(so.name, plugin, dev or "", size, so.wwn, attributes)  # type: ignore[arg-type]
        storage[state.key] = state
    targets = {}
    for target in root.targets:
        if target.fabric_module.name != "iscsi":
            continue
        tpgs = {}
        for tpg in target.tpgs:
            luns = {lun.lun: f"{_plugin(lun.storage_object)}/{lun.storage_object.name}" for lun in tpg.luns}
            acls = {}
            for acl in tpg.node_acls:
                mapped = tuple(sorted((MappedLun(m.mapped_lun, m.tpg_lun.lun, bool(m.write_protect))
                                       for m in acl.mapped_luns), key=lambda m: m.mapped_lun))
                acls[acl.node_wwn] = Acl(acl.node_wwn, acl.tag or "", mapped, _chap(acl))
            attributes = {n: _int(tpg.get_attribute(n)) for n in settings.TPG_ATTRIBUTES
                          if n in tpg.list_attributes()}
            parameters = {n: tpg.get_parameter(n) for n in (*settings.TPG_PARAMETERS, "AuthMethod")
                          if n in tpg.list_parameters()}
            tpgs[tpg.tag] = Tpg(tpg.tag, bool(tpg.enable), tuple(sorted((p.ip_address, p.port)
                                                                        for p in tpg.network_portals)),
                                luns, acls, attributes, parameters, _chap(tpg))  # type: ignore[arg-type]
        targets[target.wwn] = Target(target.wwn, tpgs)
    fabric = rtslib.FabricModule("iscsi")
    discovery = _chap(fabric, "discovery_") if fabric.discovery_enable_auth else NO_CHAP
    return LioState(storage, targets, discovery)


@dataclass
class Executor:
    """Carries out plan actions on the live LIO, looking rtslib objects up as it goes."""

    rtslib: Any = field(default_factory=_rtslib)

    def __post_init__(self) -> None:
        self.root = self.rtslib.RTSRoot()
        self.fabric = self.rtslib.FabricModule("iscsi")
        self._storage: dict[str, Any] = {}  # looked up one by one: listing them all costs seconds per thousand
        self._hbas_used: set[int] | None = None
        self._hba_names: dict[tuple[str, str], int] | None = None  # (HBA kind, storage object name) -> number
        self._next_hba = 0

    def storage(self, key: str) -> Any:
        if key not in self._storage:
            plugin, name = key.split("/", 1)
            cls = {"block": self.rtslib.BlockStorageObject, "fileio": self.rtslib.FileIOStorageObject,
                   "rd_mcp": self.rtslib.RDMCPStorageObject}[plugin]
            self._storage[key] = cls(name, index=self._hba_of(plugin, name))
        return self._storage[key]

    # rtslib gives each storage object an HBA (core/PLUGIN_N); without the number it globs every HBA to find one,
    # which costs most of a one-LUN change when a thousand exist. The number is found here with fewer calls.
    def _core(self) -> str:
        return f"{self.root.path}/core"

    def _hba_of(self, plugin: str, name: str) -> int | None:
        """The HBA number of storage object `name`, from one listing of every HBA made on the first look-up (one
        search per object went through half the HBAs each: quadratic in a stop of 256 LUNs)."""
        if self._hba_names is None:
            self._hba_names = {}
            with os.scandir(self._core()) as hbas:
                for hba in hbas:
                    kind, _, number = hba.name.rpartition("_")
                    if kind and number.isdigit() and hba.is_dir():
                        for entry in os.listdir(hba.path):
                            self._hba_names.setdefault((kind, entry), int(number))
        return self._hba_names.get((HBA_PREFIX.get(plugin, plugin), name))  # None: rtslib says it is not there

    def _free_hba(self) -> int:
        if self._hbas_used is None:
            self._hbas_used = {int(n) for n in (e.rpartition("_")[2] for e in os.listdir(self._core())) if n.isdigit()}
        number = next(n for n in range(self._next_hba, len(self._hbas_used) + self._next_hba + 1)
                      if n not in self._hbas_used)
        self._hbas_used.add(number)
        self._next_hba = number + 1
        return number

    def target(self, wwn: str) -> Any:
        return self.rtslib.Target(self.fabric, wwn, mode="lookup")

    def tpg(self, wwn: str, tag: int) -> Any:
        return self.rtslib.TPG(self.target(wwn), tag, mode="lookup")

    def acl(self, wwn: str, tag: int, initiator: str) -> Any:
        return self.rtslib.NodeACL(self.tpg(wwn, tag), initiator, mode="lookup")

    def run(self, actions: Iterable[P.Action], progress: Callable[[P.Action], None] | None = None) -> None:
        for action in actions:
            handler = getattr(self, "do_" + type(action).__name__)
            try:
                handler(action)
            except SanError:
                raise
            except Exception as exc:  # rtslib raises RTSLibError, OSError, ValueError: all become one error type
                raise SanError(f"LIO refused to {action.describe()}: {exc}", field="lio",
                               value=type(action).__name__) from exc
            if progress:
                progress(action)

    # deletions
    # A TPG deleted whole is first disabled, which ends its sessions, and only then loses its ACLs. rtslib deletes
    # an ACL's mapped LUNs before the ACL, and the kernel ends the ACL's sessions only with the ACL. In between, a
    # live session's commands to LUN 0 reach LIO's virtual LUN 0, which answers every write with DATA PROTECT.
    # Linux makes that a target error (EREMOTEIO), and dm-multipath hands it up to the application in place of
    # queueing it: one write failed that way during a pool move in CI. Commands cut by a closed session are
    # retried by the initiator.
    # The ACLs go before the LUNs: rtslib's LUN.delete looks for the mapped LUNs that point to it in every ACL of
    # the TPG, so a TPG deleted whole went through all its mapped LUNs once per LUN (256 LUNs with one ACL: 65536
    # look-ups, more than the stop's timeout under TCG, and the node was fenced for a failed stop).
    def _without_sessions_and_acls(self, tpgs: Iterable[Any]) -> None:
        tpgs = list(tpgs)
        for tpg in tpgs:
            tpg.enable = False  # (rtslib writes only a change: the kernel refuses to disable a TPG twice)
        for tpg in tpgs:
            for acl in list(tpg.node_acls):
                acl.delete()

    def do_DeleteTarget(self, a: P.DeleteTarget) -> None:
        target = self.target(a.target)
        self._without_sessions_and_acls(target.tpgs)
        target.delete()

    def do_DeleteTpg(self, a: P.DeleteTpg) -> None:
        tpg = self.tpg(a.target, a.tag)
        self._without_sessions_and_acls((tpg,))
        tpg.delete()

    def do_DeleteAcl(self, a: P.DeleteAcl) -> None:
        self.acl(a.target, a.tag, a.wwn).delete()

    def do_DeleteMappedLun(self, a: P.DeleteMappedLun) -> None:
        self.rtslib.MappedLUN(self.acl(a.target, a.tag, a.wwn), a.mapped_lun).delete()

    def do_DeleteLun(self, a: P.DeleteLun) -> None:
        self.rtslib.LUN(self.tpg(a.target, a.tag), a.lun).delete()

    def do_DeletePortal(self, a: P.DeletePortal) -> None:
        self.rtslib.NetworkPortal(self.tpg(a.target, a.tag), a.address, a.port, mode="lookup").delete()

    def do_DeleteStorage(self, a: P.DeleteStorage) -> None:
        self.storage(a.key).delete()
        self._storage.pop(a.key, None)
        plugin, name = a.key.split("/", 1)
        if self._hba_names is not None:
            self._hba_names.pop((HBA_PREFIX.get(plugin, plugin), name), None)

    # creations
    def do_CreateStorage(self, a: P.CreateStorage) -> None:
        so, r = a.storage, self.rtslib
        wwn = so.wwn or None
        index = self._free_hba()
        if so.plugin == "block":
            obj = r.BlockStorageObject(so.name, dev=so.dev, wwn=wwn, index=index)
        elif so.plugin == "fileio":
            obj = r.FileIOStorageObject(so.name, dev=so.dev, size=so.size, wwn=wwn, index=index)
        else:
            obj = r.RDMCPStorageObject(so.name, size=so.size, wwn=wwn, index=index)
        self._storage[so.key] = obj
        if self._hba_names is not None:
            self._hba_names[(HBA_PREFIX.get(so.plugin, so.plugin), so.name)] = index

    def do_SetStorageAttributes(self, a: P.SetStorageAttributes) -> None:
        obj = self.storage(a.key)
        for name, value in sorted(a.attributes.items()):
            obj.set_attribute(name, value)

    def do_CreateTarget(self, a: P.CreateTarget) -> None:
        self.rtslib.Target(self.fabric, a.target, mode="create")

    def do_CreateTpg(self, a: P.CreateTpg) -> None:
        self.rtslib.TPG(self.target(a.target), a.tag, mode="create")

    def do_SetTpgSettings(self, a: P.SetTpgSettings) -> None:
        tpg = self.tpg(a.target, a.tag)
        for name, value in sorted(a.parameters.items()):
            tpg.set_parameter(name, value)
        # authentication last: CHAP credentials of the ACLs are set by then, or are about to be
        for name, value in sorted(a.attributes.items(), key=lambda kv: kv[0] == "authentication"):
            tpg.set_attribute(name, value)

    def do_SetTpgAuth(self, a: P.SetTpgAuth) -> None:
        tpg = self.tpg(a.target, a.tag)
        tpg.chap_userid, tpg.chap_password, tpg.chap_mutual_userid, tpg.chap_mutual_password = a.chap

    def do_CreatePortal(self, a: P.CreatePortal) -> None:
        self.rtslib.NetworkPortal(self.tpg(a.target, a.tag), a.address, a.port, mode="create")

    def do_CreateLun(self, a: P.CreateLun) -> None:
        self.rtslib.LUN(self.tpg(a.target, a.tag), a.lun, storage_object=self.storage(a.key))

    def do_CreateAcl(self, a: P.CreateAcl) -> None:
        acl = self.rtslib.NodeACL(self.tpg(a.target, a.tag), a.wwn, mode="create")
        if a.group:
            acl.tag = a.group

    def do_SetAclTag(self, a: P.SetAclTag) -> None:
        self.acl(a.target, a.tag, a.wwn).tag = a.group or None

    def do_SetAclAuth(self, a: P.SetAclAuth) -> None:
        acl = self.acl(a.target, a.tag, a.wwn)
        acl.chap_userid, acl.chap_password, acl.chap_mutual_userid, acl.chap_mutual_password = a.chap

    def do_CreateMappedLun(self, a: P.CreateMappedLun) -> None:
        self.rtslib.MappedLUN(self.acl(a.target, a.tag, a.wwn), a.mapped.mapped_lun, a.mapped.tpg_lun,
                              a.mapped.write_protect)

    def do_SetTpgEnabled(self, a: P.SetTpgEnabled) -> None:
        self.tpg(a.target, a.tag).enable = a.enabled

    def do_SetDiscoveryAuth(self, a: P.SetDiscoveryAuth) -> None:
        userid, password, mutual_userid, mutual_password = a.chap
        if not userid:
            self.fabric.clear_discovery_auth_settings()
            return
        self.fabric.discovery_userid = userid
        self.fabric.discovery_password = password
        self.fabric.discovery_mutual_userid = mutual_userid
        self.fabric.discovery_mutual_password = mutual_password
        self.fabric.discovery_enable_auth = True
