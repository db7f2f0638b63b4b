"""The order in which the executor takes a live TPG apart (against a recording stand-in for rtslib: the real LIO
proof is tests/vm/test_target_agent.py's stop under I/O). A TPG is disabled, which ends its sessions, before its
first ACL goes: rtslib deletes an ACL's mapped LUNs first, and a session still there would send its commands to
LIO's virtual LUN 0 (writes refused, reads zeros)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sanappliance.apply.lio import Executor
from sanappliance.lio import plan as P

IQN = "iqn.2026-12.org.example:t1"


class Tpg:
    def __init__(self, events: list[str], tag: int, acls: int) -> None:
        self.events, self.tag, self._enable = events, tag, True
        self.node_acls = [SimpleNamespace(delete=lambda n=n: events.append(f"tpg{tag}: acl {n} deleted"))
                          for n in range(acls)]

    @property
    def enable(self) -> bool:
        return self._enable

    @enable.setter
    def enable(self, value: bool) -> None:
        self.events.append(f"tpg{self.tag}: enable={int(value)}")
        self._enable = value

    def delete(self) -> None:
        self.events.append(f"tpg{self.tag}: deleted")


def rtslib(events: list[str], tpgs: int = 2, acls: int = 2) -> SimpleNamespace:
    made = [Tpg(events, tag, acls) for tag in range(1, tpgs + 1)]
    target = SimpleNamespace(tpgs=made, delete=lambda: events.append("target deleted"))
    return SimpleNamespace(RTSRoot=lambda: SimpleNamespace(path="/sys/kernel/config/target"),
                           FabricModule=lambda name: SimpleNamespace(name=name),
                           Target=lambda fabric, wwn, mode: target,
                           TPG=lambda target, tag, mode: made[tag - 1])


@pytest.mark.parametrize("action", [P.DeleteTarget(IQN), P.DeleteTpg(IQN, 1)], ids=["target", "tpg"])
def test_every_tpg_is_disabled_before_its_first_acl_goes(action):
    events: list[str] = []
    Executor(rtslib(events)).run([action])
    tpgs = ["tpg1", "tpg2"] if isinstance(action, P.DeleteTarget) else ["tpg1"]
    for tpg in tpgs:
        mine = [e for e in events if e.startswith(tpg)]
        assert mine[0] == f"{tpg}: enable=0", events
        assert [e for e in mine if "acl" in e] == [f"{tpg}: acl 0 deleted", f"{tpg}: acl 1 deleted"], events
    first_acl = next(i for i, e in enumerate(events) if "acl" in e)
    assert all(events.index(f"{tpg}: enable=0") < first_acl for tpg in tpgs), events
