"""Service commands of the HA cluster: form it on this node (init), see its state. Joining further nodes builds on
these (the spec gains a node, its files are rendered again, the authkey is handed over the authenticated API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sanappliance.cluster import cib, render
from sanappliance.cluster import validate as cluster_validate
from sanappliance.cluster.model import ClusterSpec, Link, Node, SbdSpec
from sanappliance.cluster.status import ClusterStatus, parse
from sanappliance.errors import CONFLICT, INVALID, SanError

from .env import Env


class ClusterHost(Protocol):
    def read_spec(self) -> ClusterSpec | None: ...
    def hostname(self) -> str: ...
    def write_files(self, spec: ClusterSpec, authkey: bytes | None) -> None: ...
    def init_sbd(self, spec: ClusterSpec) -> str: ...
    def sbd_dump(self, spec: ClusterSpec) -> str: ...
    def start_stack(self) -> None: ...
    def wait_settled(self, node: str, timeout: float = ...) -> None: ...
    def query_cib(self, timeout: float = ...) -> str: ...
    def push_cib(self, text: str) -> None: ...
    def status_xml(self) -> str: ...


def live_host() -> ClusterHost:
    from sanappliance.apply.cluster import ClusterHost as Live

    return Live()


@dataclass(frozen=True)
class InitResult:
    spec: ClusterSpec
    sbd_dump: str
    plan: tuple[str, ...]
    dry_run: bool


def _check_sbd_disks(env: Env, devices: tuple[str, ...]) -> None:
    """Each SBD disk exists on this node and holds nothing of ours or anybody's (it is overwritten)."""
    config = env.store.load()
    found = {d.path: d for d in env.system.disks(config)}
    for i, device in enumerate(devices):
        field = f"sbd.devices[{i}]"
        if device not in found:
            raise SanError("no such disk on this node (give a /dev/disk/by-id/ name of a shared disk)", field=field,
                           value=device, kind=INVALID)
        pool = next((p.name for p in config.pools if device in p.disks), "")
        in_use = f"pool {pool}" if pool else found[device].in_use
        if in_use:
            raise SanError(f"the disk is in use ({in_use}): SBD would overwrite it", field=field, value=device,
                           kind=INVALID)


def init(env: Env, host: ClusterHost, name: str, sbd_devices: list[str], addresses: list[str], *,
         profile: str = "production") -> InitResult:
    """Form a one-node cluster here: corosync (knet, encrypted) on the given link addresses, SBD on the shared
    disks, Pacemaker with the appliance's properties and the fence_sbd device, in one validated CIB push."""
    links = tuple(Link(priority=len(addresses) - i) for i in range(len(addresses))) or (Link(),)
    spec = ClusterSpec(name, nodes=(Node(host.hostname(), 1, tuple(addresses)),), links=links, profile=profile,
                       sbd=SbdSpec(devices=tuple(sbd_devices)))
    current = host.read_spec()
    resume = current is not None and current == spec  # an interrupted init is finished by running it again
    if current is not None and not resume:
        raise SanError("this node is in a cluster already", field="name", value=name, kind=CONFLICT)
    cluster_validate.check(spec)
    if not resume:
        _check_sbd_disks(env, spec.sbd.devices)
    plan = (f"write {render.COROSYNC_CONF}, {render.AUTHKEY} (new key), {render.SBD_CONFIG}",
            " ".join(render.sbd_create_argv(spec)),
            "enable sbd, corosync, pacemaker; start corosync and pacemaker",
            "push the CIB: cluster properties, resource defaults, fence_sbd (after crm_verify)")
    if env.dry_run:
        return InitResult(spec, "", plan, True)
    if resume:  # the key and the SBD disks of the first attempt stay
        host.write_files(spec, None)
        dump = host.sbd_dump(spec)
    else:
        host.write_files(spec, render.new_authkey())
        dump = host.init_sbd(spec)
    host.start_stack()
    host.wait_settled(spec.nodes[0].name)
    host.push_cib(cib.merge_cib(host.query_cib(), spec))
    return InitResult(spec, dump, plan, False)


def spec(host: ClusterHost) -> ClusterSpec | None:
    return host.read_spec()


def status(host: ClusterHost) -> ClusterStatus | None:
    """None when this node is in no cluster."""
    if host.read_spec() is None:
        return None
    return parse(host.status_xml())


def summary(host: ClusterHost) -> str:
    current = host.read_spec()
    if current is None:
        return "single node, no cluster"
    try:
        return f"cluster {current.name}: {parse(host.status_xml()).summary()}"
    except SanError as exc:
        return f"cluster {current.name}: status unavailable ({exc.message})"


def describe(result: InitResult) -> list[str]:
    lines: list[Any] = [f"cluster {result.spec.name} with node {result.spec.nodes[0].name}"]
    t = result.spec.timing()
    lines.append(f"timeouts ({t.profile}): token {t.effective_token_ms} ms, watchdog {t.watchdog_timeout} s, "
                 f"msgwait {t.msgwait} s, stonith-timeout {t.stonith_timeout} s")
    return lines
