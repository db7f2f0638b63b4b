"""DRBD 8.4 configuration of the replicated pools (pure): one resource file per pool and global_common.conf.

The image runs the in-kernel DRBD 8.4.11 module with drbd-utils 9.22, whose `drbdadm` hands 8.4 resources to
/usr/lib/drbd/drbdadm-84: the files use the 8.4 syntax (fencing is a disk option, the protocol a net option).
Both nodes get the same files (each finds its own `on NODE` section by its host name).

Choices (docs/REPLICATION.md explains them):
* protocol C: a write is complete when it is on both disks.
* fencing resource-only with the crm-fence-peer / crm-unfence-peer handlers: a primary that loses its peer places
  a Pacemaker constraint that keeps the peer from being promoted until it has resynced (and lifts it after).
* after split brain: resolve automatically only when no data is lost (the node without changes takes the other's),
  otherwise disconnect and let the admin choose the victim; never two primaries.
* on-io-error detach: a failing backing disk is dropped, the node serves from its peer's disk (diskless).
"""

from __future__ import annotations

from sanappliance.errors import INVALID, SanError
from sanappliance.model.config import Pool, Replication

DRBD_D = "/etc/drbd.d"
GLOBAL_COMMON = f"{DRBD_D}/global_common.conf"
FENCE_PEER = "/usr/lib/drbd/crm-fence-peer.sh"
UNFENCE_PEER = "/usr/lib/drbd/crm-unfence-peer.sh"
HEADER = "# Written by sanappliance: changes here are overwritten. Change the pool with sanctl.\n"

NET_OPTIONS = (
    ("protocol", "C"),
    ("after-sb-0pri", "discard-zero-changes"),  # neither primary: the node without changes becomes sync target
    ("after-sb-1pri", "consensus"),  # the secondary's changes go only where 0pri would discard them too
    ("after-sb-2pri", "disconnect"),  # both were primary: the admin decides (sanctl's split-brain recovery)
    ("rr-conflict", "disconnect"),  # resync would go against the roles: stop, never overwrite a primary
    ("verify-alg", "crc32c"),  # `drbdadm verify` compares both disks online
    ("csums-alg", "crc32c"),  # a resync sends only the blocks that differ
)
DISK_OPTIONS = (
    ("fencing", "resource-only"),
    ("on-io-error", "detach"),
)
# --role=Promoted: the handler's default rule role is "Master", which pacemaker 3.0's crm_verify flags as
# deprecated ("Configuration invalid (with warnings)"), and the appliance refuses to push a CIB that fails it.
# --timeout: drbd-utils 9.22's handler never recognises the peer's state under Pacemaker 3.0 (node_state's crmd and
# in_ccm hold timestamps there, and a fenced node is not "expected down"; fixed in drbd-utils 9.28), so it polls for
# its whole timeout (default 90 s) and then, on an UpToDate node, places the constraint anyway. Measured in the VM
# test: a promotion after a confirmed fence waited exactly that timeout. Waiting adds nothing here: the handler
# runs on a Primary that lost its peer (the constraint is the safe outcome, and is lifted after the resync) or on a
# node being promoted, which Pacemaker does only after the lost peer's fencing was confirmed. 5 s: two polls.
FENCE_PEER_TIMEOUT = 5
HANDLERS = (
    ("fence-peer", f"{FENCE_PEER} --role=Promoted --timeout={FENCE_PEER_TIMEOUT}"),
    ("after-resync-target", UNFENCE_PEER),
)


def resource_name(pool: Pool | str) -> str:
    """The DRBD resource of a pool: the same name as its VG (san-<pool>)."""
    return f"san-{pool.name if isinstance(pool, Pool) else pool}"


def resource_path(pool: Pool | str) -> str:
    return f"{DRBD_D}/{resource_name(pool)}.res"


def _replication(pool: Pool) -> Replication:
    if pool.replication is None:
        raise SanError("the pool is not replicated", field=f"pools[{pool.name}].replication", value=None,
                       kind=INVALID)
    return pool.replication


def _address(address: str, port: int) -> str:
    return f"ipv6 [{address}]:{port}" if ":" in address else f"{address}:{port}"


def _section(name: str, options: tuple[tuple[str, str], ...], indent: str = "    ") -> list[str]:
    lines = [f"{indent}{name} {{"]
    for key, value in options:
        shown = f'"{value}"' if value.startswith("/") else value
        lines.append(f"{indent}    {key} {shown};")
    return [*lines, f"{indent}}}"]


def render_resource(pool: Pool) -> str:
    """The pool's /etc/drbd.d/san-<pool>.res. Validate the config first (model.validate)."""
    rep = _replication(pool)
    net = tuple((k, rep.protocol if k == "protocol" else v) for k, v in NET_OPTIONS)
    lines = [HEADER.rstrip("\n"), f"# pool {pool.name}: VG {pool.vg} on {rep.device}",
             f"resource {resource_name(pool)} {{"]
    lines += _section("net", net)
    lines += _section("disk", DISK_OPTIONS)
    lines += _section("handlers", HANDLERS)
    for node in rep.nodes:
        lines += [f"    on {node.name} {{",
                  f"        device {rep.device};",
                  f"        disk {node.disk};",
                  f"        address {_address(node.address, rep.port)};",
                  "        meta-disk internal;",
                  "    }"]
    return "\n".join([*lines, "}"]) + "\n"


def render_global_common() -> str:
    """/etc/drbd.d/global_common.conf: no usage reporting to LINBIT; the per-resource files hold the rest."""
    return HEADER + "global {\n    usage-count no;\n}\ncommon {\n}\n"


def render_files(pools: tuple[Pool, ...]) -> dict[str, str]:
    """Every DRBD file the appliance writes, by path: global_common.conf and one .res per replicated pool."""
    files = {GLOBAL_COMMON: render_global_common()}
    for pool in pools:
        if pool.replication is not None:
            files[resource_path(pool)] = render_resource(pool)
    return files


def obsolete_files(existing: list[str], pools: tuple[Pool, ...]) -> list[str]:
    """The appliance's resource files in /etc/drbd.d (san-*.res) that no replicated pool renders any more: the
    apply layer removes them after `drbdadm down` of their resource."""
    wanted = set(render_files(pools))
    return sorted(path for path in existing if path.startswith(f"{DRBD_D}/san-") and path.endswith(".res")
                  and path not in wanted)


__all__ = ["DRBD_D", "GLOBAL_COMMON", "obsolete_files", "render_files", "render_global_common", "render_resource",
           "resource_name", "resource_path"]
