"""The DRBD commands the apply layer runs for a replicated pool (pure): argv lists, never shell strings.

They call drbd-utils' 8.4 front end directly (/usr/lib/drbd/drbdadm-84): the plain `drbdadm` picks its 8.4 or 9
personality from the loaded module, and before `modprobe drbd` it assumes DRBD 9 and refuses the 8.4 files.
Each takes the DRBD resource name (render.resource_name(pool)); `config` names another drbd.conf (tests, dry runs).

Creating a replicated pool, in order (both nodes hold the same .res file first):
    both nodes:  modprobe_argv(), create_md_argv(res), up_argv(res)
    one node:    primary_force_argv(res)    # the initial full sync starts from this node's (empty) disk
    that node:   pvcreate / vgcreate on /dev/drbdN (the VG), then the CIB push hands the pool to Pacemaker
"""

from __future__ import annotations

from sanappliance.errors import INVALID, SanError

DRBDADM = "/usr/lib/drbd/drbdadm-84"
MODPROBE = "/usr/sbin/modprobe"
PROC_DRBD = "/proc/drbd"
DRBD_CONF = "/etc/drbd.conf"


def _drbdadm(command: list[str], res: str, config: str | None, dry_run: bool = False) -> list[str]:
    argv = [DRBDADM]
    if dry_run:
        argv.append("--dry-run")
    if config is not None:
        argv += ["-c", config]
    return [*argv, *command, res]


def modprobe_argv() -> list[str]:
    return [MODPROBE, "drbd"]


def create_md_argv(res: str, config: str | None = None) -> list[str]:
    """Write DRBD's internal meta data at the end of the backing disk (--force: no question on a terminal; the
    service checks first that the disk is the one the admin chose and holds nothing)."""
    return _drbdadm(["create-md", "--force"], res, config)


def up_argv(res: str, config: str | None = None) -> list[str]:
    """Attach the backing disk and connect to the peer (the resource comes up Secondary)."""
    return _drbdadm(["up"], res, config)


def adjust_argv(res: str, config: str | None = None) -> list[str]:
    """Bring the running resource in line with its file (changed options, a reconnect): idempotent."""
    return _drbdadm(["adjust"], res, config)


def down_argv(res: str, config: str | None = None) -> list[str]:
    return _drbdadm(["down"], res, config)


def primary_force_argv(res: str, config: str | None = None) -> list[str]:
    """Make this node Primary although neither disk is UpToDate yet: only for the initial sync of a new pool."""
    return _drbdadm(["primary", "--force"], res, config)


def secondary_argv(res: str, config: str | None = None) -> list[str]:
    return _drbdadm(["secondary"], res, config)


def get_gi_argv(res: str, config: str | None = None) -> list[str]:
    """This node's data generations (status.parse_gi); run it on both nodes to compare them."""
    return _drbdadm(["get-gi"], res, config)


def connect_argv(res: str, config: str | None = None, *, discard_my_data: bool = False) -> list[str]:
    """Reconnect a StandAlone resource. With discard_my_data (split-brain recovery, on the victim only, after
    secondary_argv): its changes since the split are thrown away and it resyncs from the peer."""
    return _drbdadm(["connect", *(["--discard-my-data"] if discard_my_data else [])], res, config)


def disconnect_argv(res: str, config: str | None = None) -> list[str]:
    return _drbdadm(["disconnect"], res, config)


def dump_argv(res: str, config: str | None = None) -> list[str]:
    """Parse the configuration and print the resource as drbdadm understands it (a check of the file)."""
    return _drbdadm(["dump"], res, config)


def dry_run_argv(argv: list[str]) -> list[str]:
    """The same drbdadm command with --dry-run: it prints the drbdsetup/drbdmeta calls instead of making them."""
    if not argv or argv[0] != DRBDADM:
        raise SanError("not a drbdadm command", field="argv", value=" ".join(argv), kind=INVALID)
    return [DRBDADM, "--dry-run", *argv[1:]]


def split_brain_recovery(res: str, config: str | None = None) -> dict[str, list[list[str]]]:
    """DRBD's manual split-brain recovery: on the victim (its changes since the split are lost) become Secondary,
    then connect discarding its data; on the survivor connect (a no-op if it reconnects by itself)."""
    return {"victim": [secondary_argv(res, config), connect_argv(res, config, discard_my_data=True)],
            "survivor": [connect_argv(res, config)]}


__all__ = ["DRBDADM", "DRBD_CONF", "PROC_DRBD", "adjust_argv", "connect_argv", "create_md_argv", "disconnect_argv",
           "down_argv", "dry_run_argv", "dump_argv", "get_gi_argv", "modprobe_argv", "primary_force_argv",
           "secondary_argv", "split_brain_recovery", "up_argv"]
