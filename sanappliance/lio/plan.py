"""The difference between the observed and the desired LIO state, as an ordered list of idempotent actions (pure).

Only what differs is touched: nothing is torn down to be rebuilt. Deletions come first, top-down (what LIO removes
with a parent is not deleted twice); then creations bottom-up; a new TPG is enabled last, once its LUNs and ACLs exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .state import NO_CHAP, Acl, LioState, MappedLun, StorageObject, Target, Tpg


@dataclass(frozen=True)
class Action:
    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class DeleteTarget(Action):
    target: str

    def describe(self) -> str:
        return f"delete target {self.target}"


@dataclass(frozen=True)
class DeleteTpg(Action):
    target: str
    tag: int

    def describe(self) -> str:
        return f"delete {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class DeleteAcl(Action):
    target: str
    tag: int
    wwn: str

    def describe(self) -> str:
        return f"delete ACL {self.wwn} from {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class DeleteMappedLun(Action):
    target: str
    tag: int
    wwn: str
    mapped_lun: int

    def describe(self) -> str:
        return f"unmap LUN {self.mapped_lun} from {self.wwn} on {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class DeleteLun(Action):
    target: str
    tag: int
    lun: int

    def describe(self) -> str:
        return f"delete LUN {self.lun} of {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class DeletePortal(Action):
    target: str
    tag: int
    address: str
    port: int

    def describe(self) -> str:
        return f"delete portal {self.address}:{self.port} of {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class DeleteStorage(Action):
    key: str

    def describe(self) -> str:
        return f"delete backstore {self.key}"


@dataclass(frozen=True)
class CreateStorage(Action):
    storage: StorageObject

    def describe(self) -> str:
        so = self.storage
        where = f" on {so.dev}" if so.dev else ""
        size = f" size {so.size}" if so.size else ""
        return f"create backstore {so.key}{where}{size} wwn {so.wwn or '(generated)'}"


@dataclass(frozen=True)
class SetStorageAttributes(Action):
    key: str
    attributes: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        return f"set {self.key} " + " ".join(f"{k}={v}" for k, v in sorted(self.attributes.items()))


@dataclass(frozen=True)
class CreateTarget(Action):
    target: str

    def describe(self) -> str:
        return f"create target {self.target}"


@dataclass(frozen=True)
class CreateTpg(Action):
    target: str
    tag: int

    def describe(self) -> str:
        return f"create {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class SetTpgSettings(Action):
    target: str
    tag: int
    attributes: dict[str, int] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        pairs = {**self.attributes, **self.parameters}
        return f"set {self.target} tpg{self.tag} " + " ".join(f"{k}={v}" for k, v in sorted(pairs.items()))


@dataclass(frozen=True)
class SetTpgAuth(Action):
    target: str
    tag: int
    chap: tuple[str, str, str, str]

    def describe(self) -> str:
        user = self.chap[0]
        what = f"TPG CHAP user {user}" if user else "no TPG CHAP"
        return f"set {what} on {self.target} tpg{self.tag} (secrets not shown)"


@dataclass(frozen=True)
class CreatePortal(Action):
    target: str
    tag: int
    address: str
    port: int

    def describe(self) -> str:
        return f"create portal {self.address}:{self.port} on {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class CreateLun(Action):
    target: str
    tag: int
    lun: int
    key: str

    def describe(self) -> str:
        return f"create LUN {self.lun} on {self.target} tpg{self.tag} for {self.key}"


@dataclass(frozen=True)
class CreateAcl(Action):
    target: str
    tag: int
    wwn: str
    group: str = ""

    def describe(self) -> str:
        return f"create ACL {self.wwn} on {self.target} tpg{self.tag}" + (f" (group {self.group})" if self.group
                                                                            else "")


@dataclass(frozen=True)
class SetAclTag(Action):
    target: str
    tag: int
    wwn: str
    group: str

    def describe(self) -> str:
        return f"set group of ACL {self.wwn} on {self.target} tpg{self.tag} to {self.group or '(none)'}"


@dataclass(frozen=True)
class SetAclAuth(Action):
    target: str
    tag: int
    wwn: str
    chap: tuple[str, str, str, str]

    def describe(self) -> str:
        user, _pw, mutual, _mpw = self.chap
        what = f"CHAP user {user}" + (f", mutual user {mutual}" if mutual else "") if user else "no CHAP"
        return f"set {what} for ACL {self.wwn} on {self.target} tpg{self.tag} (secrets not shown)"


@dataclass(frozen=True)
class CreateMappedLun(Action):
    target: str
    tag: int
    wwn: str
    mapped: MappedLun

    def describe(self) -> str:
        wp = " read-only" if self.mapped.write_protect else ""
        return (f"map LUN {self.mapped.tpg_lun} as {self.mapped.mapped_lun}{wp} for {self.wwn} on {self.target} "
                f"tpg{self.tag}")


@dataclass(frozen=True)
class SetTpgEnabled(Action):
    target: str
    tag: int
    enabled: bool

    def describe(self) -> str:
        return f"{'enable' if self.enabled else 'disable'} {self.target} tpg{self.tag}"


@dataclass(frozen=True)
class SetDiscoveryAuth(Action):
    chap: tuple[str, str, str, str]

    def describe(self) -> str:
        user = self.chap[0]
        return f"set discovery CHAP user {user} (secrets not shown)" if user else "turn discovery CHAP off"


# --- the diff --------------------------------------------------------------------------------------------------------

def _changed(desired: dict, observed: dict) -> dict:  # type: ignore[type-arg]
    return {k: v for k, v in desired.items() if str(observed.get(k)) != str(v)}


def plan(observed: LioState, desired: LioState) -> list[Action]:
    deletes: list[Action] = []
    creates: list[Action] = []
    gone_storage = {k for k, so in observed.storage.items()
                    if k not in desired.storage or so.identity() != desired.storage[k].identity()}
    left = {k: so for k, so in observed.storage.items() if k not in gone_storage}
    targets: dict[str, Target] = {}
    for wwn, target in observed.targets.items():
        if wwn not in desired.targets:
            deletes.append(DeleteTarget(wwn))
            continue
        tpgs = {}
        for tag, tpg in target.tpgs.items():
            if tag not in desired.targets[wwn].tpgs:
                deletes.append(DeleteTpg(wwn, tag))
                continue
            tpgs[tag] = _prune_tpg(wwn, tpg, desired.targets[wwn].tpgs[tag], gone_storage, deletes)
        targets[wwn] = Target(wwn, tpgs)
    deletes += [DeleteStorage(k) for k in sorted(gone_storage)]

    for key, so in desired.storage.items():
        if key not in left:
            creates.append(CreateStorage(replace(so, attributes={})))
        attributes = _changed(so.attributes, left[key].attributes if key in left else {})
        if attributes:
            creates.append(SetStorageAttributes(key, attributes))
    for wwn, target in desired.targets.items():
        have = targets.get(wwn)
        if have is None:
            creates.append(CreateTarget(wwn))
        for tag, tpg in target.tpgs.items():
            creates += _build_tpg(wwn, tpg, have.tpgs.get(tag) if have else None)
    if observed.discovery != desired.discovery:
        creates.append(SetDiscoveryAuth(desired.discovery))
    return deletes + creates


def _prune_tpg(wwn: str, tpg: Tpg, want: Tpg, gone_storage: set[str], out: list[Action]) -> Tpg:
    """Delete what the TPG has and should not; returns the TPG as it will be after those deletions."""
    tag = tpg.tag
    gone_luns = {n for n, key in tpg.luns.items() if want.luns.get(n) != key or key in gone_storage}
    acls = {}
    for initiator, acl in tpg.acls.items():
        if initiator not in want.acls:
            out.append(DeleteAcl(wwn, tag, initiator))
            continue
        desired = {m.mapped_lun: m for m in want.acls[initiator].mapped}
        kept = []
        for m in acl.mapped:
            if desired.get(m.mapped_lun) != m or m.tpg_lun in gone_luns:  # before its LUN: see the executor
                out.append(DeleteMappedLun(wwn, tag, initiator, m.mapped_lun))
                continue
            kept.append(m)
        acls[initiator] = replace(acl, mapped=tuple(kept))
    out += [DeleteLun(wwn, tag, n) for n in sorted(gone_luns)]
    out += [DeletePortal(wwn, tag, a, p) for a, p in tpg.portals if (a, p) not in want.portals]
    return replace(tpg, luns={n: k for n, k in tpg.luns.items() if n not in gone_luns}, acls=acls,
                   portals=tuple(x for x in tpg.portals if x in want.portals))


def _build_tpg(wwn: str, want: Tpg, have: Tpg | None) -> list[Action]:
    out: list[Action] = []
    tag = want.tag
    new = have is None
    if have is None:
        out.append(CreateTpg(wwn, tag))
        have = Tpg(tag, enabled=False)
    attributes = _changed(want.attributes, have.attributes)
    parameters = _changed(want.parameters, have.parameters)
    if want.chap != have.chap:
        out.append(SetTpgAuth(wwn, tag, want.chap))
    if attributes or parameters:
        out.append(SetTpgSettings(wwn, tag, attributes, parameters))
    out += [CreatePortal(wwn, tag, a, p) for a, p in want.portals if (a, p) not in have.portals]
    mapped: list[CreateMappedLun] = []
    for initiator, acl in want.acls.items():
        current = have.acls.get(initiator)
        if current is None:
            out.append(CreateAcl(wwn, tag, initiator, acl.tag))
            current = Acl(initiator, acl.tag)
        elif current.tag != acl.tag:
            out.append(SetAclTag(wwn, tag, initiator, acl.tag))
        if current.chap != acl.chap and not (current.chap == NO_CHAP and acl.chap == NO_CHAP):
            out.append(SetAclAuth(wwn, tag, initiator, acl.chap))
        have_mapped = {m.mapped_lun for m in current.mapped}
        mapped += [CreateMappedLun(wwn, tag, initiator, m) for m in acl.mapped if m.mapped_lun not in have_mapped]
    # Each new LUN is followed by the mapped LUNs that point to it: rtslib's MappedLUN looks its LUN up by going
    # through the TPG's LUNs, which configfs lists newest first, so a LUN just made is found at once (made all
    # LUNs first, the mapped LUNs cost a look at half the TPG's LUNs each: 256 LUNs took 112 s to start in the
    # failover benchmark, most of it there).
    by_lun: dict[int, list[CreateMappedLun]] = {}
    for m in mapped:
        by_lun.setdefault(m.mapped.tpg_lun, []).append(m)
    for n, key in sorted(want.luns.items()):
        if n not in have.luns:
            out.append(CreateLun(wwn, tag, n, key))
            out += by_lun.pop(n, [])
    out += [m for ms in by_lun.values() for m in ms]  # to LUNs that were there
    if new or have.enabled != want.enabled:
        if want.enabled or not new:
            out.append(SetTpgEnabled(wwn, tag, want.enabled))
    return out
