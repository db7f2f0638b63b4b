"""Service commands of the HA cluster: form it on this node (init), see its state. Joining further nodes builds on
these (the spec gains a node, its files are rendered again, the authkey is handed over the authenticated API)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Protocol

from sanappliance.cluster import cib, render
from sanappliance.cluster import logs as cluster_logs
from sanappliance.cluster import validate as cluster_validate
from sanappliance.cluster.model import ClusterSpec, Link, Node, SbdSpec, with_node, without_node
from sanappliance.cluster.status import ClusterStatus, parse
from sanappliance.errors import CONFLICT, IN_USE, INVALID, SanError
from sanappliance.model import values
from sanappliance.model.apiconfig import generate_password, hash_password, verify_password

from . import cluster_ops
from .env import Env
from .system import relisten


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
    def join_hash(self) -> str: ...
    def set_join_hash(self, value: str) -> None: ...
    def api_fingerprint(self) -> str: ...
    def call_peer(self, address: str, pinned: str, user: str, secret: str, method: str, params: dict) -> Any: ...
    def sbd_uuid(self, spec: ClusterSpec) -> str: ...
    def restart_stack(self) -> None: ...
    def write_authkey(self, key: bytes) -> None: ...
    def authkey(self) -> bytes: ...
    def sbd_slots(self, spec: ClusterSpec) -> dict[str, dict[str, str]]: ...
    def resolve(self, name: str) -> str: ...
    def stop_stack(self) -> None: ...
    def forget_node(self, name: str) -> None: ...
    def remove_files(self) -> None: ...
    def journal(self, argv: list[str]) -> str: ...
    def reload_corosync(self) -> None: ...
    def wait_no_resources(self, node: str, timeout: float = ...) -> None: ...


def live_host() -> ClusterHost:
    from sanappliance.apply.cluster import ClusterHost as Live

    return Live()


HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                         r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
JOIN_USER = "cluster-join"  # the API user a joining node authenticates as, with the join secret
PEER_USER = "cluster-peer"  # another node of the same cluster (peer_secret), for the san_peer_ methods only
PIN_CHARS = 16  # hex digits of the API certificate's sha256 carried in the join secret


@dataclass(frozen=True)
class InitResult:
    spec: ClusterSpec
    sbd_dump: str
    plan: tuple[str, ...]
    dry_run: bool
    join_secret: str = ""  # shown once: `sanctl /cluster join ADDRESS secret=...` on the next node


def new_join_secret(host: ClusterHost) -> str:
    """A new join secret (the old one stops working): random, plus the pin of this node's API certificate, so the
    joining node knows it talks to this appliance. Only its hash is kept."""
    secret = generate_password()
    host.set_join_hash(hash_password(secret))
    return f"{secret}.{host.api_fingerprint()[:PIN_CHARS]}"


def peer_secret(authkey: bytes) -> str:
    """The password nodes of one cluster use with each other's API (user PEER_USER): derived from the corosync
    authkey they share (0400, root), so it needs no distribution of its own and changes with the key."""
    return hmac.new(authkey, b"sanappliance cluster peer v1", hashlib.sha256).hexdigest()


def check_peer_secret(host: ClusterHost, secret: str) -> bool:
    if host.read_spec() is None:
        return False
    try:
        key = host.authkey()
    except OSError:
        return False
    return bool(key) and hmac.compare_digest(peer_secret(key), secret)


def call_node(host: ClusterHost, node: str, method: str, params: dict[str, Any]) -> Any:
    """Call another cluster node's API as PEER_USER, its certificate pinned by the spec."""
    target = _current(host).node(node)
    if not target.api_pin or not target.addresses:
        raise SanError("the cluster spec has no API certificate pin for this node (it joined before pins were "
                       "kept): run `sanctl /cluster remove` and join it again", field="node", value=node,
                       kind=INVALID)
    address = str(ipaddress.ip_interface(target.addresses[0]).ip)
    return host.call_peer(address, target.api_pin, PEER_USER, peer_secret(host.authkey()), method, params)


def check_join_secret(host: ClusterHost, secret: str) -> bool:
    stored = host.join_hash()
    return bool(stored) and verify_password(secret, stored)


NO_SUCH_DISK = "no such disk on this node (give a /dev/disk/by-id/ name of a shared disk)"


def _check_sbd_disks(env: Env, devices: tuple[str, ...], missing: str = NO_SUCH_DISK) -> None:
    """Each SBD disk exists on this node and holds nothing of ours or anybody's (it is overwritten)."""
    config = env.store.load()
    found = {d.path: d for d in env.system.disks(config)}
    for i, device in enumerate(devices):
        field = f"sbd.devices[{i}]"
        if device not in found:
            raise SanError(missing, field=field, value=device, kind=INVALID)
        pool = next((p.name for p in config.pools if device in p.disks), "")
        in_use = f"pool {pool}" if pool else found[device].in_use
        if in_use:
            raise SanError(f"the disk is in use on this node ({in_use}): SBD would overwrite it", field=field,
                           value=device, kind=INVALID)


def init(env: Env, host: ClusterHost, name: str, sbd_devices: list[str], addresses: list[str], *,
         profile: str = "production") -> InitResult:
    """Form a one-node cluster here: corosync (knet, encrypted) on the given link addresses, SBD on the shared
    disks, Pacemaker with the appliance's properties and the fence_sbd device, in one validated CIB push."""
    links = tuple(Link(priority=len(addresses) - i) for i in range(len(addresses))) or (Link(),)
    spec = ClusterSpec(name, nodes=(Node(host.hostname(), 1, tuple(addresses), host.api_fingerprint()),),
                       links=links, profile=profile,
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
    return InitResult(spec, dump, plan + relisten(env), False, new_join_secret(host))


def info(host: ClusterHost) -> dict[str, Any]:
    """What a joining node needs to check before it asks (the SBD disks it must see, the header it must read)."""
    current = host.read_spec()
    if current is None:
        raise SanError("this node is in no cluster", field="peer", kind=INVALID)
    return {"name": current.name, "nodes": [n.name for n in current.nodes], "links": len(current.links),
            "sbd_devices": list(current.sbd.devices), "sbd_uuid": host.sbd_uuid(current)}


def accept_join(host: ClusterHost, name: str, addresses: list[str], sbd_uuid: str, api_pin: str = "") -> dict[str, Any]:
    """On a cluster node, for a node that gave the right join secret: add it to the spec, restart this node's stack
    with the new corosync.conf (two_node cannot be switched on at runtime) and hand back the spec and the authkey
    (over the API's TLS). The joining node pushes the CIB for the new node count once it is in. The secret is used
    up."""
    current = host.read_spec()
    if current is None:
        raise SanError("this node is in no cluster", field="peer", kind=INVALID)
    if any(n.name == name for n in current.nodes):
        raise SanError("a node with this name is in the cluster already", field="name", value=name, kind=CONFLICT)
    if sbd_uuid != host.sbd_uuid(current):
        raise SanError("the joining node reads another SBD disk header: the disk is not shared between the nodes",
                       field="sbd.devices[0]", value=current.sbd.devices[0], kind=INVALID)
    new = with_node(current, name, tuple(addresses), api_pin)
    cluster_validate.check(new)
    host.set_join_hash("")
    host.write_files(new, None)
    host.restart_stack()  # waits for all nodes (two_node implies wait_for_all): the joining node pushes the CIB
    return {"spec": new.to_dict(), "authkey": base64.b64encode(host.authkey()).decode()}


def _peer_address(host: ClusterHost, peer: str) -> str:
    """The peer as an address: given as one, or a host name that resolves (else a clear error, nothing done)."""
    try:
        return values.check_address(peer, "peer")
    except SanError:
        pass
    if not HOSTNAME_RE.match(peer):
        raise SanError("give the address or host name of a cluster node", field="peer", value=peer, kind=INVALID)
    address = host.resolve(peer)
    if not address:
        raise SanError("the host name does not resolve (give the node's address, or add it to DNS or /etc/hosts)",
                       field="peer", value=peer, kind=INVALID)
    return address


def join(env: Env, host: ClusterHost, peer: str, secret: str, addresses: list[str]) -> InitResult:
    """On a new node: check the join secret's form, that this node is in no cluster and sees the cluster's SBD
    disks (the same header: really shared), then ask the peer, write what it hands back and start the stack."""
    if host.read_spec() is not None:
        raise SanError("this node is in a cluster already", field="peer", value=peer, kind=CONFLICT)
    token, _, pin = secret.rpartition(".")
    if not token or len(pin) != PIN_CHARS or any(c not in "0123456789abcdef" for c in pin):
        raise SanError("not a join secret (copy it whole from the output of init)", field="secret", kind=INVALID)
    peer = _peer_address(host, peer)
    theirs = host.call_peer(peer, pin, JOIN_USER, token, "san_cluster_info", {})
    devices = tuple(theirs["sbd_devices"])
    _check_sbd_disks(env, devices, "this node does not see the cluster's SBD disk: it must be shared by all nodes")
    probe = ClusterSpec(str(theirs["name"]), sbd=SbdSpec(devices=devices))
    if host.sbd_uuid(probe) != theirs["sbd_uuid"]:
        raise SanError("this node reads another SBD disk header than the cluster: the disk is not shared",
                       field="sbd.devices[0]", value=devices[0], kind=INVALID)
    if len(addresses) != int(theirs["links"]):
        raise SanError(f"give one address per cluster link ({theirs['links']})", field="addresses",
                       value=len(addresses), kind=INVALID)
    for i, address in enumerate(addresses):
        values.check_address(address, f"addresses[{i}]")
    planned = with_node(ClusterSpec(str(theirs["name"])), host.hostname(), tuple(addresses))
    plan = (f"ask {peer} to add {host.hostname()} (it restarts its cluster stack)",
            f"write {render.COROSYNC_CONF}, {render.AUTHKEY} (the cluster's), {render.SBD_CONFIG}",
            "enable sbd, corosync, pacemaker; start corosync and pacemaker")
    if env.dry_run:
        return InitResult(planned, "", plan, True)
    answer = host.call_peer(peer, pin, JOIN_USER, token, "san_cluster_join",
                            {"name": host.hostname(), "addresses": list(addresses), "sbd_uuid": theirs["sbd_uuid"],
                             "api_pin": host.api_fingerprint()})
    new = ClusterSpec.from_dict(answer["spec"])
    host.write_authkey(base64.b64decode(answer["authkey"]))
    host.write_files(new, None)
    host.start_stack()
    host.wait_settled(host.hostname())  # both nodes in: the CIB is checked against a cluster with no unclean node
    host.push_cib(cib.merge_cib(host.query_cib(), new))
    return InitResult(new, "", plan + relisten(env), False)


def sbd_text(host: ClusterHost, what: str) -> str:
    """`dump`: the SBD disks' headers (timeouts, slots); `list`: every node's message slot on each disk."""
    current = host.read_spec()
    if current is None or not current.sbd.devices:
        raise SanError("no SBD disks: this node is in no cluster, or fencing was forced off", field="sbd",
                       kind=INVALID)
    if what == "dump":
        return host.sbd_dump(current).rstrip()
    return "\n".join(f"{device}: " + ", ".join(f"{node} {message}" for node, message in slots.items())
                     for device, slots in host.sbd_slots(current).items())


def _current(host: ClusterHost) -> ClusterSpec:
    current = host.read_spec()
    if current is None:
        raise SanError("this node is in no cluster", field="cluster", kind=INVALID)
    return current


def remove(env: Env, host: ClusterHost, name: str) -> InitResult:
    """Remove a node that is down (powered off, or it ran `leave`) from the cluster: corosync.conf and Pacemaker
    forget it and the fencing settings follow the new node count. Going from two nodes to one restarts this node's
    stack (votequorum's two_node cannot change at runtime): its resources stop and start again."""
    current = _current(host)
    current.node(name)
    if name == host.hostname():
        raise SanError("a node cannot remove itself: run `leave` on it, then `remove` on another node",
                       field="node", value=name, kind=INVALID)
    state = parse(host.status_xml())
    if any(n.name == name and n.online for n in state.nodes):
        raise SanError("the node is online: run `sanctl /cluster leave` on it first, or power it off", field="node",
                       value=name, kind=INVALID)
    new = without_node(current, name)
    cluster_validate.check(new)
    restart = current.two_node != new.two_node
    plan = (f"write {render.COROSYNC_CONF} without {name}",
            "restart corosync and pacemaker here (two_node changes: resources stop and start again)" if restart
            else "reload corosync's configuration",
            f"crm_node --force --remove {name}",
            "push the CIB for the new node count (after crm_verify)")
    if env.dry_run:
        return InitResult(new, "", plan, True)
    host.write_files(new, None)
    if restart:
        host.restart_stack()
    else:
        host.reload_corosync()
    host.wait_settled(host.hostname())
    host.forget_node(name)
    host.push_cib(cib.merge_cib(host.query_cib(), new))
    return InitResult(new, "", plan, False)


def leave(env: Env, host: ClusterHost, force: bool = False) -> InitResult:
    """Take this node out of its cluster: standby first (its resources move to the other nodes, when they are
    reachable), then stop and disable the stack and remove the cluster's files here. Then run `remove NODE` on a
    node that stays. While replicated pools exist it is refused unless `force`: a pool loses its replica (its data
    stays on the other node), or, on the last node, its configuration (the data stays on the backing disk)."""
    current = _current(host)
    me = host.hostname()
    pools = [p.name for p in env.store.load().pools if p.clustered]
    if pools and not force:
        last = len(current.nodes) == 1
        raise SanError(f"clustered pools {', '.join(pools)} would lose " + (
            "their configuration (this is the last node; their data stays on its backing disks)" if last else
            f"their replica on {me}") + ": delete them first, or give force=yes", field="force", value=force,
            kind=IN_USE)
    plan = (f"standby {me} and wait until no resource runs here (when the cluster is quorate)",
            "stop and disable pacemaker, corosync and sbd",
            f"remove {render.COROSYNC_CONF}, {render.AUTHKEY}, {render.SBD_CONFIG} and the cluster spec",
            f"then, on a node that stays: sanctl /cluster remove {me}" if len(current.nodes) > 1
            else "this is the cluster's last node: no other node has to forget it")
    if env.dry_run:
        return InitResult(current, "", plan, True)
    try:
        state = parse(host.status_xml())
    except SanError:
        state = None
    if state is not None and state.quorate and any(n.online and n.name != me for n in state.nodes):
        cluster_ops.standby(env, host, me, True)  # type: ignore[arg-type]  # the push `standby NODE` makes
        host.wait_no_resources(me)
    host.stop_stack()
    host.remove_files()
    return InitResult(current, "", plan + relisten(env), False)


def logs(host: ClusterHost, node: str = "", since: str = "", until: str = "", lines: int | str = 200) -> str:
    """The cluster daemons' log lines of this node between since and until (the newest `lines`)."""
    current = _current(host)
    count = cluster_logs.check_lines(lines)
    since = cluster_logs.check_time(since, "since") if since else ""
    until = cluster_logs.check_time(until, "until") if until else ""
    if node and node != host.hostname():
        current.node(node)
        return str(call_node(host, node, "san_peer_logs", {"since": since, "until": until, "lines": count}))
    return host.journal(cluster_logs.journal_argv(since, until, count))


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
    lines = [f"cluster {result.spec.name} with node {result.spec.nodes[0].name}"]
    t = result.spec.timing()
    lines.append(f"timeouts ({t.profile}): token {t.effective_token_ms} ms, watchdog {t.watchdog_timeout} s, "
                 f"msgwait {t.msgwait} s, stonith-timeout {t.stonith_timeout} s")
    return lines
