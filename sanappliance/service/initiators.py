"""Ready-to-use settings for the initiators of a clustered pool (sanappliance.initiator), derived from this
cluster's own failover timers: Linux (iscsid.conf lines, multipath.conf device section, iface binding with one
interface per portal), VMware ESXi and Windows MPIO. The front ends (sanctl, API) print the text as it is."""

from __future__ import annotations

from sanappliance.errors import INVALID, NOT_FOUND, SanError
from sanappliance.initiator import render, settings

from . import cluster
from .env import Env

SYSTEMS = ("linux", "esxi", "windows")


def for_pool(env: Env, host: object, pool: str, system: str = "linux", nics: list[str] | None = None) -> str:
    """The text for `system`; for Linux with `nics` (one initiator interface per portal) the iface binding too."""
    if system not in SYSTEMS:
        raise SanError(f"one of {', '.join(SYSTEMS)}", field="os", value=system, kind=INVALID)
    config = env.store.load()
    found = config.pool(pool)
    if not found.clustered:
        raise SanError("initiator settings are derived from the cluster's failover: the pool is local",
                       field="pool", value=pool, kind=INVALID)
    spec = cluster.spec(host)
    if spec is None:
        raise SanError("no cluster: its failover timers are what the settings derive from", field="cluster",
                       kind=NOT_FOUND)
    derived = settings.derive(spec.timing())
    if system == "esxi":
        return render.render_esxi(derived)
    if system == "windows":
        return render.render_windows(derived)
    parts = ["# /etc/iscsi/iscsid.conf", render.render_iscsid_conf(derived),
             "# /etc/multipath.conf", render.render_multipath_device(derived)]
    if nics:
        parts += ["# the binding (run once)", render.render_iface_binding(config, found, nics)]
    return "\n".join(parts)


__all__ = ["SYSTEMS", "for_pool"]
