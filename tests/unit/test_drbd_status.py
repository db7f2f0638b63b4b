"""Parsers of DRBD 8.4's /proc/drbd and `drbdadm get-gi`, and the diagnosis from both nodes' data generations."""

from __future__ import annotations

import pytest

from sanappliance.drbd.status import Health, Relation, compare, diagnose, parse_gi, parse_proc_drbd
from sanappliance.errors import SanError

HEAD = """version: 8.4.11 (api:1/proto:86-101)
srcversion: 2A29C3B7D3B1D9E4A1C2F3D
"""
SYNCING = HEAD + """ 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:123904 nr:0 dw:0 dr:124832 al:8 bm:0 lo:0 pe:2 ua:0 ap:0 ep:1 wo:f oos:400384
\t[===>................] sync'ed: 23.8% (400384/524288)K
\tfinish: 0:00:29 speed: 13,756 (13,756) K/sec
 1: cs:Connected ro:Secondary/Primary ds:UpToDate/UpToDate C r-----
    ns:0 nr:1048576 dw:1048576 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
 2: cs:Unconfigured
"""
TARGET = HEAD + """ 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----
    ns:0 nr:8192 dw:8192 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:3145728
\t[>....................] sync'ed:  0.4% (3072/3084)M
\tfinish: 0:03:59 speed: 13,120 (13,120) want: 102,400 K/sec
"""
STANDALONE = HEAD + """ 0: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   r-----
    ns:0 nr:0 dw:4096 dr:2048 al:1 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:4096
"""
WAITING = HEAD + """ 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----
    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
"""
VERIFY = HEAD + """ 0: cs:VerifyS ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
\t[=====>..............] verified: 31.0% (361728/524288)K
\tfinish: 0:00:20 speed: 17,000 (17,000) K/sec
"""


def test_sync_source_with_progress():
    proc = parse_proc_drbd(SYNCING)
    assert proc.version == "8.4.11" and sorted(proc.devices) == [0, 1, 2]
    dev = proc.device(0)
    assert (dev.cstate, dev.role, dev.peer_role, dev.disk, dev.peer_disk, dev.protocol) == (
        "SyncSource", "Primary", "Secondary", "UpToDate", "Inconsistent", "C")
    assert dev.out_of_sync_kib == 400384 and dev.connected
    assert dev.sync.percent == 23.8 and dev.sync.left_kib == 400384 and dev.sync.total_kib == 524288
    assert dev.sync.finish_seconds == 29 and dev.sync.speed_kib == 13756 and not dev.sync.verify
    assert diagnose(dev).health is Health.SYNCING
    assert proc.device(1).healthy and diagnose(proc.device(1)).health is Health.OK
    assert not proc.device(2).configured and diagnose(proc.device(2)).health is Health.DOWN
    assert proc.device(7).cstate == "Unconfigured"  # not listed: down


def test_sync_target_in_mebibytes():
    dev = parse_proc_drbd(TARGET).device(0)
    assert dev.disk == "Inconsistent" and dev.sync.percent == 0.4
    assert dev.sync.left_kib == 3072 * 1024 and dev.sync.total_kib == 3084 * 1024
    assert dev.sync.finish_seconds == 239 and dev.sync.speed_kib == 13120


def test_standalone_waiting_and_verify():
    alone = parse_proc_drbd(STANDALONE).device(0)
    assert alone.standalone and not alone.connected and alone.protocol == "" and alone.peer_disk == "DUnknown"
    assert diagnose(alone).health is Health.DISCONNECTED  # without the peer's generations: not known as split brain
    waiting = parse_proc_drbd(WAITING).device(0)
    assert not waiting.connected and diagnose(waiting).health is Health.DEGRADED
    verify = parse_proc_drbd(VERIFY).device(0)
    assert verify.sync.verify and verify.sync.percent == 31.0 and diagnose(verify).health is Health.SYNCING


def test_other_versions_and_garbage_are_refused():
    with pytest.raises(SanError) as err:
        parse_proc_drbd("version: 9.2.12 (api:2/proto:86-122)\n")
    assert err.value.value == "9.2.12"
    with pytest.raises(SanError) as err:
        parse_proc_drbd("hello\n")
    assert err.value.field == "/proc/drbd"


GI_A = "D2C6E4B37A4B2B4D:0000000000000000:BA3AAB0D4A6AD1B6:BA39AB0D4A6AD1B7:1:1:1:1:0:0:0\n"


def test_get_gi():
    gi = parse_gi(GI_A)
    assert gi.current == 0xD2C6E4B37A4B2B4C  # the primary bit is cleared
    assert gi.bitmap == 0 and gi.history == (0xBA3AAB0D4A6AD1B6, 0xBA39AB0D4A6AD1B6)
    assert gi.flags == {"consistent": True, "was_up_to_date": True, "primary": True, "connected": True,
                        "full_sync": False, "peer_out_dated": False, "crashed_primary": False}
    assert gi.text().startswith("D2C6E4B37A4B2B4C:0000000000000000:")
    with pytest.raises(SanError):
        parse_gi("no such resource\n")
    with pytest.raises(SanError):
        parse_gi(GI_A + GI_A)


def gi(current: int, bitmap: int = 0, h1: int = 0, h2: int = 0) -> str:
    return f"{current:016X}:{bitmap:016X}:{h1:016X}:{h2:016X}:1:1:0:0:0:0:0\n"


X, Y, A, B, Z = 0x1000, 0x2000, 0x3000, 0x4000, 0x9000  # generations (even: the primary bit is separate)


@pytest.mark.parametrize("local, peer, relation", [
    (gi(A, 0, X), gi(A + 1, 0, X), Relation.SAME),  # connected, in sync (the primary bit differs)
    (gi(A, X, Y), gi(X, 0, Y), Relation.NEWER),  # we were primary alone since X; the peer stayed at X
    (gi(X, 0, Y), gi(A, X, Y), Relation.OLDER),
    (gi(A, X, Y), gi(B, X, Y), Relation.SPLIT_BRAIN),  # both started a generation from X
    (gi(A, 0, X, Y), gi(X, 0, Y), Relation.NEWER),  # resync bitmap already rotated into the history
    (gi(X, 0, Y), gi(A, 0, X, Y), Relation.OLDER),
    (gi(A, 0, X), gi(Z, 0, Y), Relation.UNRELATED),
])
def test_compare_generations(local, peer, relation):
    assert compare(parse_gi(local), parse_gi(peer)) is relation


def test_split_brain_is_shown_with_both_generations():
    alone = parse_proc_drbd(STANDALONE).device(0)
    mine, theirs = parse_gi(gi(A, X, Y)), parse_gi(gi(B, X, Y))
    found = diagnose(alone, mine, theirs)
    assert found.health is Health.SPLIT_BRAIN and found.relation is Relation.SPLIT_BRAIN
    assert (found.local, found.peer) == (mine, theirs)
    behind = diagnose(alone, parse_gi(gi(A, X, Y)), parse_gi(gi(X, 0, Y)))
    assert behind.health is Health.DISCONNECTED and behind.relation is Relation.NEWER
