"""ocf:sanappliance:volumes's meta-data (OCF 1.1), kept apart so `meta-data` imports nothing else (the DTD head
and the actions' lines are the target agent's: meta.py explains the internal subset)."""

from __future__ import annotations

from sanappliance import __version__

from .meta import HEAD, actions_xml

# (action, timeout, interval): the CIB's ops (drbd/cib.py VOLUMES_OPS) match these
ACTIONS = (("start", "120s", ""), ("stop", "60s", ""), ("monitor", "60s", "30s"), ("reload-agent", "120s", ""),
           ("validate-all", "30s", ""), ("meta-data", "5s", ""))

META_DATA = HEAD + f"""<resource-agent name="volumes" version="{__version__}">
<version>1.1</version>
<longdesc lang="en">
The logical volumes of one replicated pool of the sanappliance, made on the node where the pool is Promoted (after
LVM-activate has activated its volume group): a missing volume is created, a smaller one extended (never shrunk),
a volume the appliance made that is no longer wanted and not open is removed, every wanted volume is activated.
A change of the volumes alone is applied by reload-agent.
</longdesc>
<shortdesc lang="en">sanappliance pool volumes (LVM)</shortdesc>
<parameters>
<parameter name="vg" unique="1" required="1">
<longdesc lang="en">The pool's volume group (san-POOL) on its DRBD device.</longdesc>
<shortdesc lang="en">Volume group</shortdesc>
<content type="string"/>
</parameter>
<parameter name="volumes" required="1" reloadable="1">
<longdesc lang="en">
The pool's volumes as a compact JSON list of {{"name": NAME, "size": BYTES}} (generated; sizes are multiples of
4 MiB, names 1-63 characters of A-Z a-z 0-9 _ -).
</longdesc>
<shortdesc lang="en">Volumes (JSON)</shortdesc>
<content type="string"/>
</parameter>
</parameters>
<actions>
{actions_xml(ACTIONS)}
</actions>
</resource-agent>
"""
