"""ocf:sanappliance:target's meta-data (OCF 1.1), kept apart so `meta-data` imports nothing else; the head and
the actions' lines are shared with ocf:sanappliance:volumes (volumes_meta.py).

resource-agents' ocf-tester checks meta-data with `xmllint --valid` against ra-api-1.dtd, an OCF 1.0 DTD that
knows neither the `reloadable` parameter attribute nor the `reload-agent` action of OCF 1.1 (Pacemaker 3.0 needs
both, and `<version>1.1</version>`, to call reload-agent). The document's internal DTD subset declares the two OCF
1.1 additions; XML gives the internal subset precedence, so the rest is still checked against ra-api-1.dtd.
"""

from __future__ import annotations

from sanappliance import __version__

# (action, timeout, interval): start and stop take every LUN in one pass; the CIB's ops (drbd/cib.py) match these
ACTIONS = (("start", "120s", ""), ("stop", "120s", ""), ("monitor", "30s", "20s"), ("reload-agent", "120s", ""),
           ("validate-all", "30s", ""), ("meta-data", "5s", ""))

# The XML declaration and the DTD with the two OCF 1.1 additions declared in its internal subset (see above)
HEAD = """<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd" [
<!ATTLIST parameter reloadable (1|0) "0">
<!ATTLIST action name CDATA #REQUIRED>
]>
"""


def actions_xml(actions: tuple[tuple[str, str, str], ...]) -> str:
    """The <action> lines of (name, timeout, interval) triples (interval "" for none)."""
    return "\n".join(f'<action name="{n}" timeout="{t}"' + (f' interval="{i}"' if i else "") + " />"
                     for n, t, i in actions)


META_DATA = HEAD + f"""<resource-agent name="target" version="{__version__}">
<version>1.1</version>
<longdesc lang="en">
A whole iSCSI target of the sanappliance: its TPGs, portals, LUNs with their backstores, ACLs, mapped LUNs and
CHAP, brought up or down in one pass through rtslib-fb. Everything comes from the parameters: the config is the
part of the appliance configuration this target needs. A change of the config alone is applied by reload-agent:
only the difference is made (a LUN or an ACL added or removed), other LUNs and initiators' sessions stay.
</longdesc>
<shortdesc lang="en">sanappliance iSCSI target (LIO)</shortdesc>
<parameters>
<parameter name="iqn" unique="1" required="1">
<longdesc lang="en">The target's iSCSI qualified name.</longdesc>
<shortdesc lang="en">Target IQN</shortdesc>
<content type="string"/>
</parameter>
<parameter name="pool">
<longdesc lang="en">The pool whose volumes the target's LUNs serve (the replicated pool it moves with).</longdesc>
<shortdesc lang="en">Pool</shortdesc>
<content type="string" default=""/>
</parameter>
<parameter name="config" required="1" reloadable="1">
<longdesc lang="en">
The target, its volumes and their pool as compact JSON of the appliance configuration (generated; it holds CHAP
secrets, which the agent never prints).
</longdesc>
<shortdesc lang="en">Target configuration (JSON)</shortdesc>
<content type="string"/>
</parameter>
</parameters>
<actions>
{actions_xml(ACTIONS)}
</actions>
</resource-agent>
"""
