"""Backup of the whole cluster configuration to one file, and restore from it: the CIB's configuration section
(what Pacemaker runs, where and how), the cluster spec (nodes, links, SBD, timing) and the appliance's own saved
configuration (pools, volumes, targets, CHAP secrets: the file is written 0600). A restore checks the whole file
first (format, the same cluster, the CIB through crm_verify, the appliance configuration through its validation),
then pushes the CIB's configuration in one replace and the appliance configuration as one change."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sanappliance.cluster import edits
from sanappliance.cluster.model import ClusterSpec
from sanappliance.errors import INVALID, SanError
from sanappliance.model.config import Config

from .cluster_ops import OpsHost, _spec, change_cib
from .commit import change
from .env import Env

FORMAT = "sanappliance-cluster-backup"
VERSION = 1


class BackupHost(OpsHost, Protocol):
    def write_private(self, path: Path, text: str) -> None: ...  # atomic, mode 0600
    def read_text(self, path: Path) -> str: ...


@dataclass(frozen=True)
class Backup:
    cluster: ClusterSpec
    cib: str
    appliance: Config
    created: str = ""
    node: str = ""


@dataclass(frozen=True)
class BackupResult:
    path: str
    plan: tuple[str, ...]
    dry_run: bool


def backup(env: Env, host: BackupHost, path: str) -> BackupResult:
    spec = _spec(host)
    if not path:
        raise SanError("give the file to write", field="file", kind=INVALID)
    plan = (f"write the CIB configuration, the cluster spec and the appliance configuration to {path} (0600)",)
    if env.dry_run:
        return BackupResult(path, plan, True)
    data = {"format": FORMAT, "version": VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "node": host.hostname(), "cluster": spec.to_dict(), "cib": host.query_cib(),
            "appliance": json.loads(env.store.load().to_json(pretty=True))}
    host.write_private(Path(path), json.dumps(data, indent=1) + "\n")
    return BackupResult(path, plan, False)


def parse_backup(text: str, source: str) -> Backup:
    """Everything in the file checked, each problem naming its field; nothing is changed by reading."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SanError(f"not valid JSON: {exc.msg} at line {exc.lineno}", field="file", value=source,
                       kind=INVALID) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SanError(f"not a cluster backup (expected \"format\": \"{FORMAT}\")", field="format",
                       value=data.get("format") if isinstance(data, dict) else type(data).__name__, kind=INVALID)
    if data.get("version") != VERSION:
        raise SanError(f"backup version {data.get('version')!r} is not one this appliance reads ({VERSION})",
                       field="version", value=data.get("version"), kind=INVALID)
    for key in ("cluster", "cib", "appliance"):
        if key not in data:
            raise SanError("missing from the backup", field=key, kind=INVALID)
    cluster = ClusterSpec.from_dict(data["cluster"])
    if not isinstance(data["cib"], str):
        raise SanError("expected the CIB as XML text", field="cib", kind=INVALID)
    edits.configuration(data["cib"])  # well-formed, a <cib> with a configuration section
    appliance = Config.from_json(json.dumps(data["appliance"]), "appliance")
    return Backup(cluster, data["cib"], appliance, str(data.get("created", "")), str(data.get("node", "")))


def restore(env: Env, host: BackupHost, path: str) -> BackupResult:
    """Only into the cluster the backup was taken of (same name and nodes); the CIB goes first (crm_verify before
    the push), then the appliance configuration (validated as a whole, then applied)."""
    spec = _spec(host)
    saved = parse_backup(host.read_text(Path(path)), path)
    if saved.cluster.name != spec.name:
        raise SanError(f"the backup is of cluster {saved.cluster.name}, this node is in {spec.name}",
                       field="cluster.name", value=saved.cluster.name, kind=INVALID)
    if {n.name for n in saved.cluster.nodes} != {n.name for n in spec.nodes}:
        raise SanError("the backup's nodes are not this cluster's: "
                       f"{', '.join(sorted(n.name for n in saved.cluster.nodes))}", field="cluster.nodes",
                       value=",".join(n.name for n in spec.nodes), kind=INVALID)
    restored = edits.replace_configuration(saved.cib)
    edits.apply(host.query_cib(), restored)  # ids unique, the live CIB takes it
    plan = (f"replace the CIB configuration with the backup's (taken {saved.created or '?'} on "
            f"{saved.node or '?'}), after crm_verify",
            "replace the appliance configuration with the backup's (validated, then applied)")
    if env.dry_run:
        return BackupResult(path, plan, True)
    change_cib(host, restored)
    change(env, lambda current: Config(**{**saved.appliance.__dict__, "generation": current.generation}))
    return BackupResult(path, plan, False)
