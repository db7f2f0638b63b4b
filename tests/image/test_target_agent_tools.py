"""ocf:sanappliance:target in the built image root, by chroot (no VM): installed where Pacemaker looks for it, mode
0755, its meta-data valid for resource-agents' own check (xmllint --valid against ra-api-1.dtd, as ocf-tester does)
also as user nobody, read by Pacemaker 3.0 (crm_resource --show-metadata) with the reloadable config, and without
configfs (no /sys in the chroot) validate-all answers OCF_ERR_INSTALLED."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sanappliance.lio.clustered import config_param
from tests.unit.test_target_agent import whole

pytestmark = pytest.mark.image

AGENT = "/usr/lib/ocf/resource.d/sanappliance/target"
IQN = whole().targets[0].iqn


def test_the_agent_is_installed_executable(image_root):
    path = image_root.root / AGENT.lstrip("/")
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o755


def test_meta_data_passes_ocf_testers_dtd_check_as_nobody(image_root):
    lint = ("cd /usr/share/resource-agents && su nobody -s /bin/sh -c '" + AGENT + " meta-data' "
            "| xmllint --noout --valid -")
    result = image_root.run(["/bin/sh", "-c", lint])
    assert result.returncode == 0 and result.stderr == "", result.output


def test_the_dtd_check_can_fail(image_root):
    broken = f"{AGENT} meta-data | sed 's/<!ATTLIST action name CDATA #REQUIRED>//' | xmllint --noout --valid -"
    result = image_root.run(["/bin/sh", "-c", "cd /usr/share/resource-agents && " + broken])
    assert result.returncode != 0 and "reload-agent" in result.output, result.output


def test_pacemaker_reads_the_meta_data(image_root):
    result = image_root.run(["/usr/sbin/crm_resource", "--show-metadata", "ocf:sanappliance:target",
                             "--output-as=xml"])
    assert result.returncode == 0, result.output
    agent = ET.fromstring(ET.fromstring(result.stdout).findtext("metadata"))  # the agent's text, as Pacemaker got it
    assert agent.findtext("version") == "1.1"
    params = {p.get("name"): p.get("reloadable", "0") for p in agent.iter("parameter")}  # DTD defaults applied
    assert params == {"iqn": "0", "pool": "0", "config": "1"}
    assert "reload-agent" in {a.get("name") for a in agent.iter("action")}


def test_validate_all_without_configfs_is_err_installed(image_root):
    env = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESKEY_iqn": IQN, "OCF_RESKEY_config": config_param(whole(), IQN)}
    result = image_root.run([AGENT, "validate-all"], env=env)
    assert result.returncode == 5 and "ocf-exit-reason:configfs is not mounted" in result.stderr, result.output
