"""SCSI conformance: libiscsi's iscsi-test-cu (SCSI and iSCSI families) against a LUN made with the appliance's
defaults and, in the same run, a LUN with stock LIO device settings. The appliance must pass at least as many.
Counts and the failing tests go to build/reports/conformance.json."""

import json
import re

import pytest

from sanappliance.lab import Disk, LabSpec, NodeSpec, default_networks

from .conftest import BUILD, start_lab, stop_lab

TARGET = "iqn.2026-11.org.sanappliance:conformance"
# iscsi-test-cu's two default initiator names (the persistent reservation tests log in as both)
INITIATORS = ("iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test",
              "iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2")
# where the appliance's defaults differ from stock LIO (max_unmap_lba_count only matters with UNMAP on)
STOCK = {"emulate_tpu": 0, "emulate_tpws": 0}
SUMMARY = re.compile(r"^\s*tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", re.MULTILINE)
FAILED = re.compile(r"^Suite (.+?), Test (.+?) had failures:", re.MULTILINE)


@pytest.fixture(scope="module")
def lab(request, images):
    spec = LabSpec(nodes=(NodeSpec("node1", disks=(Disk("data1", "1G"),), networks=("storage",)),),
                   networks=default_networks("storage"))
    lab = start_lab(request, images, spec)
    node = lab.node("node1")
    tpg = f"/iscsi/{TARGET}/tpg1"
    commands = [("/pools", "create", "p1", "/dev/disk/by-id/virtio-data1"),
                ("/volumes", "create", "ours", "64M", "pool=p1"),
                ("/volumes", "create", "stock", "64M", "pool=p1"),
                *(("/volumes/stock", "set", "attribute", f"{k}={v}") for k, v in STOCK.items()),
                ("/iscsi", "create", TARGET),
                (f"{tpg}/luns", "create", "ours"),
                (f"{tpg}/luns", "create", "stock"),
                *((f"{tpg}/acls", "create", wwn) for wwn in INITIATORS)]
    for command in commands:
        node.run(["/usr/bin/sanctl", *command], check=True, timeout=300)
    yield lab
    stop_lab(request, lab)


def run_suite(lab, family: str, lun: int) -> dict:
    url = f"iscsi://{lab.address('node1', 'storage')}/{TARGET}/{lun}"
    result = lab.netns.exec(["/usr/bin/iscsi-test-cu", f"--test={family}", "--dataloss", "--normal",
                             "-i", INITIATORS[0], "-I", INITIATORS[1], url], check=False, timeout=3000)
    log = BUILD / "reports" / f"conformance-{family}-lun{lun}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(result.stdout + result.stderr)
    match = SUMMARY.search(result.stdout)
    assert match, result.stdout[-3000:] + result.stderr[-2000:]
    total, ran, passed, failed, inactive = map(int, match.groups())
    return {"total": total, "ran": ran, "passed": passed, "failed": failed, "inactive": inactive,
            "failed_tests": sorted({f"{suite}.{test}" for suite, test in FAILED.findall(result.stdout)})}


@pytest.mark.parametrize("family", ["SCSI", "iSCSI"])
def test_appliance_defaults_pass_at_least_as_many_as_stock(lab, family):
    ours, stock = run_suite(lab, family, 0), run_suite(lab, family, 1)
    report = BUILD / "reports" / "conformance.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(report.read_text()) if report.exists() else {}
    data[family] = {"appliance_defaults": ours, "stock_lio": stock}
    report.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\n{family}: appliance {ours['passed']}/{ours['total']}, stock {stock['passed']}/{stock['total']}; "
          f"still failing: {', '.join(ours['failed_tests']) or 'none'}")
    assert ours["passed"] >= stock["passed"]
    assert set(ours["failed_tests"]) <= set(stock["failed_tests"])  # no failure of the appliance's own making
    assert ours["total"] == stock["total"] and ours["total"] > 0
