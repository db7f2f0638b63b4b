"""The DRBD 8.4 resource file (golden), global_common.conf, the LVM filter and the drbdadm argvs."""

from __future__ import annotations

import re

import pytest

from sanappliance.drbd import commands, lvm, render
from sanappliance.errors import SanError
from sanappliance.model.config import Config, Pool, ReplicaNode, Replication
from tests.unit.drbd_samples import LOCAL, R1, R2, config, replicated_pool, two_pools

GOLDEN_P1 = """\
# Written by sanappliance: changes here are overwritten. Change the pool with sanctl.
# pool p1: VG san-p1 on /dev/drbd0
resource san-p1 {
    net {
        protocol C;
        after-sb-0pri discard-zero-changes;
        after-sb-1pri consensus;
        after-sb-2pri disconnect;
        rr-conflict disconnect;
        verify-alg crc32c;
        csums-alg crc32c;
    }
    disk {
        fencing resource-only;
        on-io-error detach;
    }
    handlers {
        fence-peer "/usr/lib/drbd/crm-fence-peer.sh --role=Promoted --timeout=5";
        after-resync-target "/usr/lib/drbd/crm-unfence-peer.sh";
    }
    on node1 {
        device /dev/drbd0;
        disk /dev/disk/by-id/virtio-repl1;
        address 10.0.2.11:7789;
        meta-disk internal;
    }
    on node2 {
        device /dev/drbd0;
        disk /dev/disk/by-id/virtio-repl2;
        address 10.0.2.12:7789;
        meta-disk internal;
    }
}
"""


def test_resource_file_golden():
    assert render.render_resource(replicated_pool()) == GOLDEN_P1


def test_the_resource_has_the_safety_settings():
    text = render.render_resource(replicated_pool())
    assert "allow-two-primaries" not in text and "protocol C;" in text
    assert re.search(r"disk \{[^}]*fencing resource-only;", text)  # 8.4: a disk option (DRBD 9: net)
    assert "after-sb-2pri disconnect;" in text and "discard-secondary" not in text


def test_ipv6_addresses_and_other_numbers():
    pool = replicated_pool("p9", minor=7, port=7795, addresses=("fd00:2::11", "fd00:2::12"))
    text = render.render_resource(pool)
    assert "resource san-p9 {" in text and text.count("device /dev/drbd7;") == 2
    assert "address ipv6 [fd00:2::11]:7795;" in text and "address ipv6 [fd00:2::12]:7795;" in text


def test_global_common_and_the_file_set():
    assert "usage-count no;" in render.render_global_common()
    files = render.render_files(two_pools().pools)
    assert sorted(files) == ["/etc/drbd.d/global_common.conf", "/etc/drbd.d/san-p1.res", "/etc/drbd.d/san-p2.res"]
    assert render.resource_path("p1") == "/etc/drbd.d/san-p1.res" and render.resource_name("p1") == "san-p1"


def test_obsolete_resource_files():
    existing = ["/etc/drbd.d/global_common.conf", "/etc/drbd.d/san-p1.res", "/etc/drbd.d/san-old.res",
                "/etc/drbd.d/admin.res"]
    assert render.obsolete_files(existing, config().pools) == ["/etc/drbd.d/san-old.res"]


def test_a_local_pool_has_no_resource_file():
    with pytest.raises(SanError) as err:
        render.render_resource(Pool("local", (LOCAL,)))
    assert err.value.field == "pools[local].replication"


# --- LVM ---------------------------------------------------------------------------------------------------------

def test_lvm_filter_accepts_drbd_and_local_disks_and_rejects_backing_disks():
    assert lvm.global_filter(config()) == [
        f"r|^{R1.replace('.', '[.]')}$|", f"r|^{R2}$|", "a|^/dev/drbd[0-9]+$|", f"a|^{LOCAL}$|", "r|.*|"]
    assert lvm.global_filter(Config()) == ["a|^/dev/drbd[0-9]+$|", "r|.*|"]


def lvm_accepts(entries: list[str], names: list[str]) -> bool:
    """LVM's rule: a device is accepted when any of its names meets an accept pattern before a reject one."""
    for name in names:
        for entry in entries:
            if re.search(entry[2:-1], name):
                if entry[0] == "a":
                    return True
                break
    return False


def test_lvm_filter_semantics_over_every_name_of_a_disk():
    entries = lvm.global_filter(config())
    assert not lvm_accepts(entries, [R1, "/dev/vdb", "/dev/disk/by-path/virtio-pci-0000:00:05.0", "/dev/block/252:16"])
    assert lvm_accepts(entries, ["/dev/drbd0", "/dev/drbd/by-res/san-p1/0"])
    assert lvm_accepts(entries, [LOCAL, "/dev/vdc"])
    assert not lvm_accepts(entries, ["/dev/drbd0p1", "/dev/sda"])
    naive = [f"r|^{R1}$|", "a|.*|"]  # the reject list that looks right and is not
    assert lvm_accepts(naive, [R1, "/dev/vdb"])


def test_lvm_literal_escapes_and_refuses():
    assert lvm.literal("/dev/disk/by-id/wwn-0x5000c5.00+a") == "^/dev/disk/by-id/wwn-0x5000c5[.]00[+]a$"
    assert re.fullmatch(lvm.literal("/dev/disk/by-id/a.b"), "/dev/disk/by-id/a.b")
    assert not re.fullmatch(lvm.literal("/dev/disk/by-id/a.b"), "/dev/disk/by-id/aXb")
    with pytest.raises(SanError) as err:
        lvm.literal('/dev/disk/by-id/a|b', "pools[x].disks")
    assert err.value.field == "pools[x].disks"


def test_lvm_conf_sets_the_system_id_only_with_a_replicated_pool():
    text = lvm.render_lvm_conf(config())
    assert 'system_id_source = "uname"' in text and "use_devicesfile = 0" in text and "global_filter = [" in text
    local = lvm.render_lvm_conf(Config(pools=(Pool("local", (LOCAL,)),)))
    assert "system_id_source" not in local and f'"a|^{LOCAL}$|"' in local


def test_lvm_filter_names_the_bad_backing_disk():
    rep = Replication((ReplicaNode("node1", '/dev/disk/by-id/x"y', "10.0.2.11"), ReplicaNode("node2", R2, "10.0.2.12")),
                      0, 7789)
    with pytest.raises(SanError) as err:
        lvm.global_filter(Config(pools=(Pool("p1", (), replication=rep),)))
    assert err.value.field == "pools[p1].replication.nodes[node1].disk"


# --- argvs -------------------------------------------------------------------------------------------------------

def test_argvs_are_lists_on_the_84_front_end():
    d = commands.DRBDADM
    assert d == "/usr/lib/drbd/drbdadm-84"
    assert commands.create_md_argv("san-p1") == [d, "create-md", "--force", "san-p1"]
    assert commands.up_argv("san-p1") == [d, "up", "san-p1"]
    assert commands.primary_force_argv("san-p1") == [d, "primary", "--force", "san-p1"]
    assert commands.get_gi_argv("san-p1", "/tmp/drbd.conf") == [d, "-c", "/tmp/drbd.conf", "get-gi", "san-p1"]
    assert commands.connect_argv("san-p1", discard_my_data=True) == [d, "connect", "--discard-my-data", "san-p1"]
    assert commands.dry_run_argv(commands.up_argv("san-p1")) == [d, "--dry-run", "up", "san-p1"]
    assert commands.modprobe_argv() == ["/usr/sbin/modprobe", "drbd"]
    with pytest.raises(SanError):
        commands.dry_run_argv(["/bin/true"])


def test_split_brain_recovery_discards_only_on_the_victim():
    steps = commands.split_brain_recovery("san-p1")
    assert steps["victim"] == [commands.secondary_argv("san-p1"),
                               commands.connect_argv("san-p1", discard_my_data=True)]
    assert steps["survivor"] == [commands.connect_argv("san-p1")]
    assert all("--discard-my-data" not in argv for argv in steps["survivor"])
