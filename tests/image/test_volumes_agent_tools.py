"""ocf:sanappliance:volumes in the built image root, by chroot (no VM): installed where Pacemaker looks for it,
mode 0755, its meta-data valid for resource-agents' own check (xmllint --valid against ra-api-1.dtd, as
ocf-tester does) also as user nobody, read by Pacemaker 3.0 (crm_resource --show-metadata) with the reloadable
volumes, validate-all with the image's own lvm (0, and 6 naming the field), a probe on a clean node 7, and
crm_verify of pacemaker 3.0 on the CIB with the pool's volumes primitive (and refusing a broken one)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sanappliance.cluster import cib as ccib
from sanappliance.drbd import cib
from tests.image.test_cluster_tools import crm_verify
from tests.unit.cluster_samples import two_nodes
from tests.unit.drbd_samples import config

pytestmark = pytest.mark.image

AGENT = "/usr/lib/ocf/resource.d/sanappliance/volumes"
VOLUMES = '[{"name":"vol1","size":1073741824},{"name":"vol2","size":4194304}]'


def env(volumes: str = VOLUMES, vg: str = "san-p1") -> dict[str, str]:
    return {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "san-p1-volumes", "OCF_RESKEY_vg": vg,
            "OCF_RESKEY_volumes": volumes}


def test_the_agent_is_installed_executable(image_root):
    path = image_root.root / AGENT.lstrip("/")
    assert path.is_file(), f"{image_root.root} has no {AGENT}: a root built before the agent? (make image)"
    assert path.stat().st_mode & 0o777 == 0o755


def test_meta_data_passes_ocf_testers_dtd_check_as_nobody(image_root):
    lint = ("cd /usr/share/resource-agents && su nobody -s /bin/sh -c '" + AGENT + " meta-data' "
            "| xmllint --noout --valid -")
    result = image_root.run(["/bin/sh", "-c", lint])
    assert result.returncode == 0 and result.stderr == "", result.output


def test_the_dtd_check_can_fail(image_root):
    broken = f"{AGENT} meta-data | sed 's/<!ATTLIST parameter reloadable (1|0) \"0\">//' | xmllint --noout --valid -"
    result = image_root.run(["/bin/sh", "-c", "cd /usr/share/resource-agents && " + broken])
    assert result.returncode != 0 and "reloadable" in result.output, result.output


def test_pacemaker_reads_the_meta_data(image_root):
    result = image_root.run(["/usr/sbin/crm_resource", "--show-metadata", "ocf:sanappliance:volumes",
                             "--output-as=xml"])
    assert result.returncode == 0, result.output
    agent = ET.fromstring(ET.fromstring(result.stdout).findtext("metadata"))  # the agent's text, as Pacemaker got it
    assert agent.get("name") == "volumes" and agent.findtext("version") == "1.1"
    params = {p.get("name"): p.get("reloadable", "0") for p in agent.iter("parameter")}  # DTD defaults applied
    assert params == {"vg": "0", "volumes": "1"}
    assert "reload-agent" in {a.get("name") for a in agent.iter("action")}


def test_validate_all_with_the_images_lvm(image_root):
    result = image_root.run([AGENT, "validate-all"], env=env())
    assert result.returncode == 0 and result.stderr == "", result.output
    bad = image_root.run([AGENT, "validate-all"], env=env(VOLUMES.replace("4194304", "4194305")))
    assert bad.returncode == 6 and "ocf-exit-reason:volumes[1].size:" in bad.stderr, bad.output


def test_a_probe_on_a_clean_node_finds_nothing(image_root):
    result = image_root.run([AGENT, "monitor"], env=env())
    assert result.returncode == 7, result.output


def merged() -> str:
    return cib.merge_pools(ccib.render_cib(two_nodes()), two_nodes(), config())


def test_crm_verify_accepts_the_cib_with_the_volumes_primitive(image_root):
    xml = merged()
    group = ET.fromstring(xml).find(".//group[@id='san-p1']")
    assert [p.get("id") for p in group][:2] == ["san-p1-vg", "san-p1-volumes"]
    assert group[1].get("type") == "volumes" and group[1].get("provider") == "sanappliance"
    result = crm_verify(image_root, xml)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.output


@pytest.mark.parametrize("breakage", [
    lambda xml: xml.replace('provider="sanappliance" type="volumes"', 'type="volumes"'),
    lambda xml: xml.replace('<primitive id="san-p1-volumes"', '<primitive id="san-p1-vg"'),
], ids=["ocf-without-provider", "id-of-the-vg"])
def test_crm_verify_refuses_a_broken_volumes_primitive(image_root, breakage):
    """(crm_verify does not look for the agent itself: an unknown type passes; Pacemaker reading the meta-data,
    above, is that check.)"""
    good = merged()
    bad = breakage(good)
    assert bad != good
    result = crm_verify(image_root, bad)
    assert result.returncode != 0 and "schema validation" in result.output, result.output


VOLUMES_RULES = "/usr/lib/udev/rules.d/57-sanappliance-volumes.rules"


def test_udev_takes_the_rule_that_keeps_it_out_of_the_pools_lvs(image_root):
    """systemd's udevadm verify on the image's rule (no probe of the initiators' data in the LVs), and on a broken
    copy of it, which it must refuse."""
    ok = image_root.run(["/usr/bin/udevadm", "verify", "--no-summary", VOLUMES_RULES])
    assert ok.returncode == 0 and "57-sanappliance-volumes.rules" not in ok.stderr, ok.output
    text = image_root.run(["/usr/bin/cat", VOLUMES_RULES]).stdout
    assert 'ENV{DM_VG_NAME}=="san-*"' in text and "DM_UDEV_DISABLE_DISK_RULES_FLAG" in text
    broken = image_root.run(["/usr/bin/udevadm", "verify", "--no-summary", "/tmp/57-broken.rules"],
                            {"57-broken.rules": text.replace('ENV{DM_VG_NAME}=="san-*"', 'ENV{DM_VG_NAME}="=san-*"')
                             .replace("OPTIONS+=", "OPTONS+=")})
    assert broken.returncode != 0, broken.output
