"""The two-node lab itself, before any cluster is formed on it: both nodes see the shared disk by the same name, reach
each other on every private network, the host's traffic stays in the lab's namespace, and a cut link is down for the
guest and only that link. (A node's hard power-off and its boot again are the cluster tests' fences and rejoins.)"""

from sanappliance.lab.qemu import mac

from .helpers import SBD as SHARED

SECTOR = 100_000  # 51 MB into the 64 MB disk: far past the SBD header and slots that init writes later


def pings(lab, src, dst, network, count=1):
    return lab.node(src).run(["/usr/bin/ping", "-c", str(count), "-W", "2", lab.address(dst, network)]).ok


def operstate(lab, node, network):
    wiring = lab.node(node).wiring
    nic = [net for net, _tap in wiring.taps].index(network) + 1
    script = f"for i in /sys/class/net/*; do [ $(cat $i/address) = {mac(wiring.index, nic)} ] && cat $i/operstate; done"
    return lab.node(node).sh(script, check=False).stdout.strip()


def test_both_see_the_shared_disk_by_the_same_name(lab):
    dd = f"dd bs=512 seek={SECTOR} oflag=direct conv=sync,notrunc status=none of={SHARED}"
    lab.node("node1").sh(f"printf 'written-by-node1' | {dd}")
    try:
        read = lab.node("node2").sh(f"dd if={SHARED} bs=512 skip={SECTOR} count=1 iflag=direct status=none"
                                    " | tr -d '\\0'")
        assert read.stdout == "written-by-node1"
    finally:
        lab.node("node1").sh(f"head -c 512 /dev/zero | {dd}")


def test_nodes_reach_each_other_on_every_network(lab):
    for network in ("cluster", "repl"):
        lab.wait_until(lambda n=network: pings(lab, "node1", "node2", n), 30, f"node1 reaching node2 on {network}")
        assert pings(lab, "node2", "node1", network), network


def test_host_side_traffic_stays_in_the_lab_namespace(lab):
    result = lab.netns.exec(["/usr/bin/ping", "-c", "1", "-W", "2", lab.address("node1", "cluster")], check=False)
    assert result.returncode == 0, result.stderr


def test_cut_and_restore_a_link(lab):
    lab.cut("node1", "cluster")
    try:
        assert operstate(lab, "node1", "cluster") == "down"  # the guest sees the cable pulled
        assert not pings(lab, "node2", "node1", "cluster")
        assert pings(lab, "node2", "node1", "repl")  # only that link is cut
    finally:
        lab.restore("node1", "cluster")
    lab.wait_until(lambda: pings(lab, "node2", "node1", "cluster"), 30, "the cluster link back")
    assert operstate(lab, "node1", "cluster") == "up"
