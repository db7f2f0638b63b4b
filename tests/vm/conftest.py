"""Fixtures for tests that boot appliance VMs. Labs are module-scoped (the cluster package's one lab is
package-scoped). `make test` runs the single-node modules two at a time (a worker each: one vCPU per lab, two host
cores), and the two-node cluster package alone after them. Each lab has its own network namespace, taps and host
ports, so two never meet. When any test of a module fails, the nodes' console, qemu log and journal land in
build/test-logs/<module>/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sanappliance.lab import Images, Lab, LabSpec

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SANAPPLIANCE_BUILD", ROOT / "build"))
RUNS = BUILD / "test-runs"
LOGS = BUILD / "test-logs"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.vm)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.failed:
        item.module.__dict__["_lab_failed"] = True
        lab = item.funcargs.get("lab") if call.when == "call" else None
        if isinstance(lab, Lab):  # CI shows the test output only: the failure carries what the nodes logged
            try:
                report.sections.append(("lab digest", lab.digest(call.duration + 60)))
            except Exception as e:  # noqa: BLE001 - the report itself must not fail
                report.sections.append(("lab digest", f"(none: {e!r})"))


@pytest.fixture(scope="session")
def images() -> Images:
    if os.geteuid() != 0:
        pytest.skip("VM tests need root (qemu taps, network namespaces)")
    found = Images.from_build_dir(BUILD)
    for path in (found.kernel, found.initrd, found.root, found.iso):
        if not path.is_file():
            pytest.fail(f"{path} missing: run `make iso` (make test does) before the VM tests")
    return found


def start_lab(request, images: Images, spec: LabSpec, name: str | None = None):
    """Start a lab for the requesting module; yields it; collects logs if a test of the module failed."""
    name = name or request.module.__name__.rsplit(".", 1)[-1]
    workdir = RUNS / name
    shutil.rmtree(workdir, ignore_errors=True)
    lab = Lab(spec, images, workdir)
    try:
        lab.start()
    except Exception:
        lab.collect_logs(LOGS / name)
        raise
    return lab


def stop_lab(request, lab: Lab, *, failed: bool | None = None) -> None:
    """`failed`: whether to keep the logs (default: a test of the requesting module failed)."""
    name = lab.workdir.name
    if failed if failed is not None else request.module.__dict__.get("_lab_failed"):
        dest = lab.collect_logs(LOGS / name)
        print(f"\nlogs of the failed lab in {dest}")
    lab.close()
    shutil.rmtree(lab.workdir, ignore_errors=True)
