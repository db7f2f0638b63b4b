"""Forming the HA cluster with `sanctl /cluster init` on node1 and `sanctl /cluster join` on node2: the real corosync
(knet, encrypted), sbd on a shared disk with the i6300esb watchdog, Pacemaker with the appliance's properties and
fence_sbd; node2 joins over node1's API with the join secret (its certificate pinned), no SSH trust; then the logs of
each node and the fencing self-test."""

import re
import time

from .helpers import (
    DUMMY,
    SBD,
    SECRETS,
    record,
    sanctl,
    untouched,
    where,
)


def test_bad_input_changes_nothing(lab):
    node = lab.node("node1")
    before = untouched(node)
    address = lab.address("node1", "cluster")
    for args, expected in (
        (("c1", "sbd=/dev/disk/by-id/virtio-nope", f"address={address}"), "sbd.devices[0]"),
        (("c1", "sbd=/dev/disk/by-id/virtio-sanroot", f"address={address}"), "in use"),
        (("Bad_Name!", f"sbd={SBD}", f"address={address}"), "name"),
        (("c1", f"sbd={SBD}", "address=300.1.2.3"), "addresses"),
        (("c1", f"sbd={SBD}", f"address={address}", "profile=fast"), "profile"),
    ):
        result = sanctl(node, "/cluster", "init", *args)
        assert result.returncode != 0 and expected in result.stderr, (args, result.stderr)
    assert untouched(node) == before
    assert "No such file" in before


def test_init_forms_a_quorate_cluster_with_sbd_fencing(lab):
    node = lab.node("node1")
    address = lab.address("node1", "cluster")
    started = time.monotonic()
    result = sanctl(node, "/cluster", "init", "lab1", f"sbd={SBD}", f"address={address}", "profile=lab")
    assert result.returncode == 0, result.stderr
    assert "Cluster lab1 formed." in result.stdout
    SECRETS.append(re.search(r"secret=(\S+)", result.stdout).group(1))
    node.wait_for("crm_mon -1 --output-as=xml | grep -q 'resource id=\"fence-sbd\".*role=\"Started\"'", timeout=300)
    record("init to fence_sbd started", time.monotonic() - started)
    status = sanctl(node, "/cluster", "status", check=True).stdout
    assert "1/1 nodes online, quorate, DC node1" in status, status
    assert "resource fence-sbd (stonith:fence_sbd): Started on node1" in status, status
    assert "cluster lab1: 1/1 nodes online" in sanctl(node, "ls", check=True).stdout


def test_what_init_set_up(lab):
    node = lab.node("node1")
    conf = node.sh("cat /etc/corosync/corosync.conf").stdout
    assert "transport: knet" in conf and "crypto_cipher: aes256" in conf and "cluster_name: lab1" in conf
    assert node.sh("stat -c %a /etc/corosync/authkey").stdout.strip() == "400"
    dump = node.sh(f"sbd -d {SBD} dump").stdout
    assert "Timeout (watchdog) : 15" in dump and "Timeout (msgwait)  : 30" in dump, dump
    assert "node1" in node.sh(f"sbd -d {SBD} list").stdout
    props = node.sh("crm_attribute --type crm_config --name stonith-enabled --query").stdout
    assert "value=true" in props
    assert node.sh("crm_verify --live-check --verbose", check=False).returncode == 0
    assert node.sh("systemctl is-active sbd corosync pacemaker").stdout.split() == ["active"] * 3
    again = sanctl(node, "/cluster", "init", "lab2", f"sbd={SBD}", f"address={lab.address('node1', 'cluster')}")
    assert again.returncode != 0 and "in a cluster already" in again.stderr


def test_join_refused_with_a_wrong_secret_changes_nothing(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    conf = node1.sh("cat /etc/corosync/corosync.conf").stdout
    before = untouched(node2)
    token, _, pin = SECRETS[0].rpartition(".")
    peer = lab.address("node1", "cluster")
    for secret, expected, to in ((f"not-the-secret-at-all.{pin}", "refused the join secret", peer),
                                 (token, "not a join secret", peer),
                                 (f"{token}.{'0' * 16}", "certificate", peer),
                                 (SECRETS[0], "does not resolve", "nosuchnode.invalid")):
        result = sanctl(node2, "/cluster", "join", to, f"secret={secret}",
                        f"address={lab.address('node2', 'cluster')}")
        assert result.returncode != 0 and expected in result.stderr, (secret, result.stderr)
    assert untouched(node2) == before and "No such file" in before
    assert node1.sh("cat /etc/corosync/corosync.conf").stdout == conf


def test_join_makes_a_quorate_two_node_cluster(lab):
    node1, node2 = lab.node("node1"), lab.node("node2")
    started = time.monotonic()
    result = sanctl(node2, "/cluster", "join", lab.address("node1", "cluster"), f"secret={SECRETS[0]}",
                    f"address={lab.address('node2', 'cluster')}")
    assert result.returncode == 0, result.stderr
    node1.wait_for("crm_mon -1 --output-as=xml | grep -q 'node name=\"node2\".*online=\"true\"'", timeout=600)
    record("join to node2 online", time.monotonic() - started)
    # the new node count changes fence_sbd's parameters (pcmk_delay_max): Pacemaker restarts it
    node1.wait_for("crm_mon -1 --output-as=xml | grep -q 'resource id=\"fence-sbd\".*role=\"Started\"'", timeout=300)
    settled = "resource fence-sbd (stonith:fence_sbd): Started"  # it may restart once more for its parameters
    lab.wait_until(lambda: settled in sanctl(node1, "/cluster", "status").stdout, 300, "fence-sbd started", 3)
    status = sanctl(node1, "/cluster", "status", check=True).stdout
    assert "2/2 nodes online, quorate" in status, status
    quorum = node2.sh("corosync-quorumtool -s", check=False).stdout
    assert "2Node" in quorum and "Quorate:          Yes" in quorum, quorum
    assert node2.sh("cmp /etc/corosync/authkey /etc/corosync/authkey && stat -c %a /etc/corosync/authkey"
                    ).stdout.strip() == "400"
    assert node1.sh("md5sum < /etc/corosync/authkey").stdout == node2.sh("md5sum < /etc/corosync/authkey").stdout
    delay = node1.sh("crm_resource --resource fence-sbd --get-parameter pcmk_delay_max", check=False).stdout
    assert "10" in delay, delay


def hosts(log: str) -> set[str]:
    """The host names of journalctl's short-iso lines (TIME HOST UNIT[PID]: MESSAGE)."""
    return {line.split()[1] for line in log.splitlines() if len(line.split()) > 2 and line[:4].isdigit()}


def test_logs_of_each_node_filtered_by_time(lab):
    node1 = lab.node("node1")
    own = sanctl(node1, "/cluster", "logs", "since=-30min", "lines=50", check=True).stdout
    assert hosts(own) == {"node1"} and (" pacemaker" in own or " corosync" in own), own[-2000:]
    theirs = sanctl(node1, "/cluster", "logs", "node=node2", "since=-30min", "lines=50")
    assert theirs.returncode == 0, theirs.stderr
    assert hosts(theirs.stdout) == {"node2"}, theirs.stdout[-2000:]
    future = sanctl(node1, "/cluster", "logs", "since=2099-01-01", check=True).stdout
    assert hosts(future) == set(), future
    bad = sanctl(node1, "/cluster", "logs", "since=last tuesday")
    assert bad.returncode != 0 and "since" in bad.stderr


def test_fencing_self_test_gates_the_storage_resources(lab):
    node1 = lab.node("node1")
    node1.run(["/usr/sbin/cibadmin", "--create", "--scope", "resources", "--xml-text", DUMMY], check=True)
    time.sleep(15)
    assert where(node1) == [], "a san- resource ran before fencing was tested"
    before = sanctl(node1, "/cluster", "status", check=True).stdout
    assert "fencing NOT tested on node1, node2" in before, before
    dump = sanctl(node1, "/cluster", "fencing", "dump", check=True).stdout
    assert "Timeout (msgwait)  : 30" in dump, dump
    slots = sanctl(node1, "/cluster", "fencing", "list", check=True).stdout
    assert "node1 clear" in slots and "node2 clear" in slots, slots
    started = time.monotonic()
    result = sanctl(node1, "/cluster", "fencing", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    record("fencing self-test", time.monotonic() - started)
    assert "PASS can fence node2" in result.stdout and "PASS sbd on node2 answers" in result.stdout, result.stdout
    assert "Fencing self-test passed." in result.stdout
    lab.wait_until(lambda: len(where(node1)) == 1, 120, "san-dummy started once fencing was proven", 2)
    assert "fencing tested on node1, node2" in sanctl(node1, "/cluster", "status", check=True).stdout
