"""The LIO state: what configfs holds, as plain values. The apply layer reads the live one; render.py makes the
desired one from the model; plan.py diffs the two."""

from __future__ import annotations

from dataclasses import dataclass, field

Chap = tuple[str, str, str, str]  # userid, password, mutual userid, mutual password ("" when unset)
NO_CHAP: Chap = ("", "", "", "")


@dataclass(frozen=True)
class StorageObject:
    name: str
    plugin: str  # "block", "fileio" or "rd_mcp" (rtslib's plugin names)
    dev: str = ""  # block: device path; fileio: file path
    size: int = 0  # fileio and rd_mcp; block devices report their own
    wwn: str = ""  # unit serial
    attributes: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.plugin}/{self.name}"

    def identity(self) -> tuple[str, str, int, str]:
        """What cannot change in place: a storage object that differs here is recreated."""
        return (self.plugin, self.dev, self.size, self.wwn)


@dataclass(frozen=True)
class MappedLun:
    mapped_lun: int
    tpg_lun: int
    write_protect: bool = False


@dataclass(frozen=True)
class Acl:
    wwn: str
    tag: str = ""  # the initiator group it belongs to
    mapped: tuple[MappedLun, ...] = ()  # sorted by mapped_lun
    chap: Chap = NO_CHAP


@dataclass(frozen=True)
class Tpg:
    tag: int
    enabled: bool = True
    portals: tuple[tuple[str, int], ...] = ()  # sorted
    luns: dict[int, str] = field(default_factory=dict)  # lun -> storage object key
    acls: dict[str, Acl] = field(default_factory=dict)
    attributes: dict[str, int] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    chap: Chap = NO_CHAP  # TPG-wide CHAP (demo mode)


@dataclass(frozen=True)
class Target:
    wwn: str
    tpgs: dict[int, Tpg] = field(default_factory=dict)


@dataclass(frozen=True)
class LioState:
    storage: dict[str, StorageObject] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    discovery: Chap = NO_CHAP  # discovery auth is on when a userid is set

    def restrict(self, scope: Scope | None) -> LioState:
        if scope is None:
            return self
        return LioState({k: v for k, v in self.storage.items() if k in scope.storage},
                        {k: v for k, v in self.targets.items() if k in scope.targets}, self.discovery)


@dataclass(frozen=True)
class Scope:
    """The storage objects and targets a change touches: a command reads and plans only these (the rest of LIO is
    left as it is; `sanctl system restore` looks at everything)."""

    storage: frozenset[str] = frozenset()
    targets: frozenset[str] = frozenset()


def changed(before: LioState, after: LioState) -> Scope:
    """What differs between two desired states, plus every target with a LUN on a storage object that differs (such
    a LUN goes and comes back with its storage object)."""
    storage = {k for k in before.storage.keys() | after.storage.keys()
               if before.storage.get(k) != after.storage.get(k)}
    targets = {w for w in before.targets.keys() | after.targets.keys()
               if before.targets.get(w) != after.targets.get(w)}
    for state in (before, after):
        for wwn, target in state.targets.items():
            if any(key in storage for tpg in target.tpgs.values() for key in tpg.luns.values()):
                targets.add(wwn)
    return Scope(frozenset(storage), frozenset(targets))
