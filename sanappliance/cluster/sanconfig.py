"""The clustered part of the appliance configuration in the CIB (pure): one nvpair `san-config` (compact JSON of
the clustered Config, with its own generation) in the cluster property set `san-appliance`. Pacemaker replicates
it to every node; nothing else copies it. Pacemaker ignores properties it does not know (crm_verify accepts it).

`with_clustered(cib, spec, clustered)` is the one push of a clustered change: san-config, every replicated pool's
chain (drbd.cib.merge_pools, each target's `config` parameter included) and the cluster's own part, epoch + 1.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sanappliance.errors import INVALID, SanError
from sanappliance.model.config import Config

from .cib import _nvset, _section, parse_cib
from .model import ClusterSpec

SET_ID = "san-appliance"
NAME = "san-config"


def _nvpair(config_section: ET.Element) -> ET.Element | None:
    crm_config = config_section.find("crm_config")
    if crm_config is None:
        return None
    for nvset in crm_config.findall("cluster_property_set"):
        if nvset.get("id") == SET_ID:
            for pair in nvset.findall("nvpair"):
                if pair.get("name") == NAME:
                    return pair
    return None


def read(cib_text: str) -> Config | None:
    """The clustered configuration the CIB holds (None: none yet)."""
    _, section = parse_cib(cib_text)
    pair = _nvpair(section)
    if pair is None or not pair.get("value", "").strip():
        return None
    try:
        return Config.from_json(pair.get("value", ""), "cib.san-config")
    except SanError as exc:
        raise SanError(f"the CIB's clustered appliance configuration is unreadable: {exc.message}",
                       field=exc.field or "cib.san-config", kind=INVALID) from None


def set_config(cib_text: str, clustered: Config) -> str:
    """`cib_text` with san-config holding `clustered` (no epoch change: the caller's merge ends in finish)."""
    root, section = parse_cib(cib_text)
    crm_config = _section(section, "crm_config")
    for nvset in [s for s in crm_config.findall("cluster_property_set") if s.get("id") == SET_ID]:
        crm_config.remove(nvset)
    crm_config.append(_nvset("cluster_property_set", SET_ID, [(NAME, clustered.to_json().strip())]))
    return ET.tostring(root, encoding="unicode")


def with_clustered(cib_text: str, spec: ClusterSpec, clustered: Config) -> str:
    """The CIB to push for a clustered change: san-config, the pools' chains, the cluster's part; epoch + 1."""
    from sanappliance.drbd.cib import merge_pools

    return merge_pools(set_config(cib_text, clustered), spec, clustered)


__all__ = ["NAME", "SET_ID", "read", "set_config", "with_clustered"]
