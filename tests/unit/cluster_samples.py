"""Sample cluster specs shared by the cluster's unit tests and the image tests."""

from __future__ import annotations

from sanappliance.cluster.model import ClusterSpec, Link, Node, SbdSpec

SBD0 = "/dev/disk/by-id/virtio-sbd0"
SBD1 = "/dev/disk/by-id/virtio-sbd1"


def two_nodes(**kw) -> ClusterSpec:
    """Two nodes, two links (the first preferred), two SBD disks."""
    nodes = (Node("node1", 1, ("10.0.0.1/24", "10.0.1.1/24")), Node("node2", 2, ("10.0.0.2/24", "10.0.1.2/24")))
    base = dict(name="san", links=(Link(2), Link(1)), nodes=nodes, sbd=SbdSpec((SBD0, SBD1)))
    return ClusterSpec(**{**base, **kw})


def n_nodes(count: int, **kw) -> ClusterSpec:
    """`count` nodes on one link, one SBD disk."""
    return ClusterSpec("san", nodes=tuple(Node(f"node{i}", i, (f"192.168.7.{i}",)) for i in range(1, count + 1)),
                       sbd=SbdSpec((SBD0,)), **kw)
