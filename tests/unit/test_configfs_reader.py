"""The direct configfs reader's parsing, on a directory tree laid out as LIO's configfs (the VM test compares it with
rtslib-fb on the real kernel)."""

import os

from sanappliance.apply.configfs import read_state
from sanappliance.lio.state import MappedLun, Scope


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def make_tree(root):
    so = root / "core" / "fileio_1" / "v1"
    write(so / "info", "Status: ACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 16384\n"
                       "        TCM FILEIO ID: 0        File: /var/lib/sanappliance/fileio/v1.img  Size: 33554432  "
                       "Mode: Buffered-WCE Async: 0")
    write(so / "wwn" / "vpd_unit_serial", "T10 VPD Unit Serial Number: 0f2b8a1e-1111-4222-8333-444455556666")
    write(so / "attrib" / "emulate_tpu", "1")
    rd = root / "core" / "rd_mcp_2" / "r1"
    write(rd / "info", "Status: ACTIVATED  Max Queue Depth: 0  SectorSize: 512  HwMaxSectors: 1024\n"
                       "        TCM RamDisk ID: 0  RamDisk Makeup: rd_mcp\n"
                       "        PAGES/PAGE_SIZE: 1024*4096  SG_table_count: 1  nullio: 0")
    write(rd / "wwn" / "vpd_unit_serial", "T10 VPD Unit Serial Number: abc")
    tpg = root / "iscsi" / "iqn.2026-11.org.sanappliance:t1" / "tpgt_1"
    write(tpg / "enable", "1")
    write(tpg / "attrib" / "authentication", "1")
    write(tpg / "param" / "AuthMethod", "CHAP")
    write(tpg / "auth" / "userid", "NULL")
    (tpg / "np" / "0.0.0.0:3260").mkdir(parents=True)
    (tpg / "lun" / "lun_0").mkdir(parents=True)
    os.symlink("../../../../../../target/core/fileio_1/v1", tpg / "lun" / "lun_0" / "5a3e1c")
    acl = tpg / "acls" / "iqn.1994-05.com.redhat:client1"
    write(acl / "auth" / "userid", "user1")
    write(acl / "auth" / "password", "secret-secret-1")
    write(acl / "auth" / "userid_mutual", "NULL")
    write(acl / "tag", "g1")
    write(acl / "lun_3" / "write_protect", "1")
    os.symlink("../../../../../../target/iscsi/iqn.2026-11.org.sanappliance:t1/tpgt_1/lun/lun_0",
               acl / "lun_3" / "77aa01")
    write(root / "iscsi" / "discovery_auth" / "enforce_discovery_auth", "0")


def test_reads_the_layout(tmp_path):
    make_tree(tmp_path)
    state = read_state(tmp_path)
    so = state.storage["fileio/v1"]
    assert (so.dev, so.size, so.wwn, so.attributes) == ("/var/lib/sanappliance/fileio/v1.img", 33554432,
                                                         "0f2b8a1e-1111-4222-8333-444455556666", {"emulate_tpu": 1})
    assert state.storage["rd_mcp/r1"].size == 1024 * 4096
    tpg = state.targets["iqn.2026-11.org.sanappliance:t1"].tpgs[1]
    assert tpg.enabled and tpg.portals == (("0.0.0.0", 3260),) and tpg.luns == {0: "fileio/v1"}
    assert tpg.attributes == {"authentication": 1} and tpg.parameters == {"AuthMethod": "CHAP"}
    assert tpg.chap == ("", "", "", "")
    acl = tpg.acls["iqn.1994-05.com.redhat:client1"]
    assert acl.tag == "g1" and acl.chap == ("user1", "secret-secret-1", "", "")
    assert acl.mapped == (MappedLun(3, 0, True),)
    assert state.discovery == ("", "", "", "")


def test_scope_limits_what_is_read(tmp_path):
    make_tree(tmp_path)
    state = read_state(tmp_path, Scope(frozenset({"rd_mcp/r1", "fileio/none"}), frozenset()))
    assert set(state.storage) == {"rd_mcp/r1"} and state.targets == {}
