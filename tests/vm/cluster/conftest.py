"""One two-node lab for the whole cluster package (its modules run in file order on it): formation, operations,
fencing, replicated pools, shared-disk pools, power-off and removal. Forming a cluster under TCG takes minutes;
forming it once keeps `make test` within CI's time. The lab has a cluster and a replication network, a data disk per
node (DRBD's backing disks), the shared SBD disk, and a shelf's disk (SHELF) that both nodes see over two SCSI paths
each (the shared-disk pools' disk; multipath leaves it alone until a shared pool takes it). When any test of the
package fails, the nodes' logs are collected."""

from __future__ import annotations

import pytest

from sanappliance.lab import Disk, Forward, LabSpec, NodeSpec, default_networks
from sanappliance.lab.spec import SanDisk

from ..conftest import start_lab, stop_lab

FAILED: list[str] = []
SHELF = SanDisk("shelf0", "5000c50015ea71ac", "256M", paths=2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.failed:
        FAILED.append(item.nodeid)


@pytest.fixture(scope="package")
def lab(request, images):
    nodes = tuple(NodeSpec(name, networks=("cluster", "repl"), disks=(Disk(f"data{i}", "256M"),),
                           forwards=(Forward(443),) if name == "node1" else ())  # node1's web page
                  for i, name in enumerate(("node1", "node2"), start=1))
    spec = LabSpec(nodes=nodes, networks=default_networks("cluster", "repl"), shared_disks=(Disk("sbd0", "64M"),),
                   san_disks=(SHELF,))
    lab = start_lab(request, images, spec, name="cluster")
    yield lab
    stop_lab(request, lab, failed=bool(FAILED))
