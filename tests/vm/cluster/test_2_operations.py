"""The book's daily operations on the formed two-node cluster, all through sanctl: standby/online, move/clear,
maintenance mode, a failure and its cleanup, backup -> wipe -> restore."""

import re
import time
import xml.etree.ElementTree as ET

from .helpers import (
    mon,
    sanctl,
    wait_where,
    where,
)


def test_standby_online_move_clear(lab):
    node1 = lab.node("node1")
    here = where(node1)[0]
    other = "node2" if here == "node1" else "node1"
    assert sanctl(node1, "/cluster", "standby", here).returncode == 0
    wait_where(lab, node1, [other])
    assert "standby" in sanctl(node1, "/cluster", "status", check=True).stdout
    assert sanctl(node1, "/cluster", "online", here).returncode == 0
    time.sleep(10)
    assert where(node1) == [other]  # stickiness: no move back by itself
    assert sanctl(node1, "/cluster", "move", "san-dummy", here).returncode == 0
    wait_where(lab, node1, [here])
    assert "cli-prefer-san-dummy" in node1.sh("cibadmin --query --scope constraints").stdout
    assert sanctl(node1, "/cluster", "clear", "san-dummy").returncode == 0
    assert "cli-prefer-san-dummy" not in node1.sh("cibadmin --query --scope constraints").stdout
    time.sleep(5)
    assert where(node1) == [here]
    bad = sanctl(node1, "/cluster", "standby", "node9")
    assert bad.returncode != 0 and "node: " in bad.stderr, bad.stderr


def test_maintenance_mode_leaves_resources_alone_until_it_is_off(lab):
    node1 = lab.node("node1")
    here = where(node1)
    assert sanctl(node1, "/cluster", "maintenance", "on").returncode == 0
    assert sanctl(node1, "/cluster", "stop", "san-dummy").returncode == 0
    time.sleep(15)
    assert where(node1) == here  # unmanaged: the stop waits
    rsc = mon(node1).find(".//resource[@id='san-dummy']")
    assert rsc.get("managed") == "false", ET.tostring(rsc)
    assert sanctl(node1, "/cluster", "maintenance", "off").returncode == 0
    wait_where(lab, node1, [])
    assert sanctl(node1, "/cluster", "start", "san-dummy").returncode == 0
    wait_where(lab, node1, here)


def test_a_failure_shows_with_its_fail_count_and_cleanup_clears_it(lab):
    node1 = lab.node("node1")
    here = where(node1)[0]
    node1.sh(f"crm_resource --fail --resource san-dummy --node {here}")
    lab.wait_until(lambda: "failed" in sanctl(node1, "/cluster", "status").stdout, 120, "the failure in status", 3)
    status = sanctl(node1, "/cluster", "status", check=True).stdout
    assert "of san-dummy on" in status and "fail count" in status, status
    assert sanctl(node1, "/cluster", "cleanup", "san-dummy").returncode == 0
    lab.wait_until(lambda: "failed" not in sanctl(node1, "/cluster", "status").stdout, 120, "no failure", 3)
    wait_where(lab, node1, [here])


def sections(node) -> dict[str, str]:
    return {s: node.sh(f"cibadmin --query --scope {s}").stdout for s in ("resources", "constraints", "nodes",
                                                                        "rsc_defaults")}


def test_backup_wipe_restore_gives_back_the_same_configuration(lab):
    node1 = lab.node("node1")
    sanctl(node1, "/volumes", "create", "keep1", "16M", "kind=fileio", check=True)
    assert sanctl(node1, "/cluster", "backup", "/root/cluster.json").returncode == 0
    assert node1.sh("stat -c %a /root/cluster.json").stdout.strip() == "600"
    wanted, listing = sections(node1), sanctl(node1, "ls", check=True).stdout
    sanctl(node1, "/volumes", "delete", "keep1", check=True)
    node1.sh("cibadmin --erase --force")
    assert "san-dummy" not in node1.sh("cibadmin --query --scope resources").stdout
    bad = sanctl(node1, "/cluster", "restore", "/root/nope.json")
    assert bad.returncode != 0 and "file" in bad.stderr
    result = sanctl(node1, "/cluster", "restore", "/root/cluster.json")
    assert result.returncode == 0, result.stderr
    got = sections(node1)
    strip = lambda text: re.sub(r'\s+', " ", text).strip()  # noqa: E731
    assert {k: strip(v) for k, v in got.items()} == {k: strip(v) for k, v in wanted.items()}
    generation = lambda text: re.sub(r"\[generation \d+\]", "", text)  # noqa: E731 - each change counts one up
    assert generation(sanctl(node1, "ls", check=True).stdout) == generation(listing)
    assert "keep1" in listing
    lab.wait_until(lambda: len(where(node1)) == 1, 180, "san-dummy running again", 3)
    lab.wait_until(lambda: where(node1, "fence-sbd") != [], 180, "fence-sbd running again", 3)
