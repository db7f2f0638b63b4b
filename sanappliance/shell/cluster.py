"""The /cluster node of the sanctl tree: form, join and watch the HA cluster, and its daily operations."""

from __future__ import annotations

from configshell_fb import ExecutionError

from sanappliance.errors import SanError
from sanappliance.service import cluster, cluster_backup, cluster_ops

from . import listing
from .base import SanNode


class UICluster(SanNode):
    """The HA cluster (Corosync + Pacemaker + SBD). Without one this node runs alone (the embedded default);
    `init` forms a cluster here."""

    def __init__(self, parent: SanNode) -> None:
        super().__init__("cluster", parent)

    def summary(self) -> tuple[str, bool | None]:
        return listing.cluster(cluster.summary(cluster.live_host()))

    def ui_command_init(self, name: str, sbd: str, address: str, address2: str | None = None,
                        profile: str = "production") -> None:
        """init NAME sbd=DISK[,DISK...] address=ADDR [address2=ADDR] [profile=production|lab]: form a cluster on this
        node: corosync on the link address(es), SBD fencing on 1-3 shared disks (by /dev/disk/by-id/ name; they are
        overwritten), Pacemaker with safe properties and the fence_sbd device."""
        addresses = [address] + ([address2] if address2 else [])
        outcome = self.call(f"Cluster {name} formed.", cluster.init, cluster.live_host(), name,
                            [d for d in sbd.split(",") if d], addresses, profile=profile)
        if not outcome.dry_run:
            for line in cluster.describe(outcome):  # type: ignore[arg-type]
                self.ctx.write(line)
            self.ctx.write(f"Join another node with: sanctl /cluster join {address} "
                           f"secret={outcome.join_secret} address=ITS_ADDRESS  (the secret is shown once)")

    def ui_command_join(self, peer: str, secret: str, address: str, address2: str | None = None) -> None:
        """join PEER secret=SECRET address=ADDR [address2=ADDR]: join the cluster that node PEER is in, with the secret
        its `init` (or `secret`) printed; ADDR: this node's address on each cluster link. The cluster's SBD disks
        must be visible here too (shared)."""
        addresses = [address] + ([address2] if address2 else [])
        self.call(f"Joined the cluster of {peer}.", cluster.join, cluster.live_host(), peer, secret, addresses)

    def ui_command_secret(self) -> None:
        """secret: a new join secret for the next node (the previous one stops working). Shown once."""
        try:
            token = cluster.new_join_secret(cluster.live_host())
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        self.ctx.write(f"Join secret (shown once): {token}")

    def ui_command_status(self) -> None:
        """status: nodes, quorum, DC, resources with roles and locations, failed actions, fencing history."""
        try:
            state = cluster.status(cluster.live_host())
            untested = cluster_ops.untested_nodes(cluster.live_host()) if state is not None else []
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        if state is None:
            self.ctx.write("No cluster: this node runs alone. `init` forms one.")
            return
        self.ctx.write(state.summary())
        for node in state.nodes:
            self.ctx.write(f"node {node.name}: {node.state}" + (" (DC)" if node.is_dc else ""))
        for res in state.resources:
            where = ", ".join(res.nodes) or "-"
            self.ctx.write(f"resource {res.id} ({res.agent}): {res.role} on {where}" + (" FAILED" if res.failed
                                                                                       else ""))
        for fail in state.failures:
            self.ctx.write(f"failed {fail.task} of {fail.resource} on {fail.node}: {fail.status} "
                           f"(fail count {fail.fail_count})")
        for event in state.fencing:
            self.ctx.write(f"fencing: {event}")
        if untested:
            self.ctx.write(f"fencing NOT tested on {', '.join(untested)}: storage resources stay off "
                           "(`fencing test`)")
        else:
            self.ctx.write(f"fencing tested on {', '.join(n.name for n in state.nodes)}")

    # --- daily operations (service.cluster_ops): each checked first, each CIB change one validated push ---------------

    def _op(self, done: str, fn, *args) -> None:  # type: ignore[no-untyped-def]
        outcome = self.call(done, fn, cluster.live_host(), *args)
        for line in getattr(outcome, "lines", ()):
            self.ctx.write(line)

    def ui_command_standby(self, node: str) -> None:
        """standby NODE: NODE stays a member but runs no resources (they move to the other node)."""
        self._op(f"Node {node} is in standby.", cluster_ops.standby, node, True)

    def ui_command_online(self, node: str) -> None:
        """online NODE: NODE may run resources again (they do not move back by themselves: stickiness)."""
        self._op(f"Node {node} is online.", cluster_ops.standby, node, False)

    def ui_command_maintenance(self, state: str) -> None:
        """maintenance on|off: on: Pacemaker leaves every resource as it is (unmanaged, no monitors) while you work
        on the nodes; off: it probes them and brings everything back to the configuration."""
        on = self.parse_bool(state, "state")
        self._op(f"Maintenance mode {'on' if on else 'off'}.", cluster_ops.maintenance, on)

    def ui_command_start(self, resource: str) -> None:
        """start RESOURCE: let Pacemaker run the resource (its target role removed)."""
        self._op(f"Resource {resource} may run.", cluster_ops.set_running, resource, True)

    def ui_command_stop(self, resource: str) -> None:
        """stop RESOURCE: stop the resource everywhere (target role Stopped) until `start`."""
        self._op(f"Resource {resource} stopped.", cluster_ops.set_running, resource, False)

    def ui_command_move(self, resource: str, node: str) -> None:
        """move RESOURCE NODE: run the resource (a promotable clone's Promoted role) on NODE; the preference stays
        until `clear RESOURCE`."""
        self._op(f"Resource {resource} moves to {node}; `clear {resource}` once it is there.", cluster_ops.move,
                 resource, node)

    def ui_command_clear(self, resource: str) -> None:
        """clear RESOURCE: remove the constraint a `move` left (the resource stays where it is: stickiness)."""
        self._op(f"Move constraints of {resource} removed.", cluster_ops.clear, resource)

    def ui_command_cleanup(self, resource: str | None = None, node: str | None = None) -> None:
        """cleanup [RESOURCE] [node=NODE]: forget failed actions and fail counts so Pacemaker tries again."""
        self._op("Failures cleaned up.", cluster_ops.cleanup, resource, node)

    def ui_command_fence(self, node: str, action: str = "reboot") -> None:
        """fence NODE [action=reboot|off]: fence NODE now through SBD (its poison pill); waits for the answer."""
        self._op(f"Node {node} fenced.", cluster_ops.fence, node, action)

    def ui_command_fencing(self, action: str = "test") -> None:
        """fencing test|dump|list: test: the fencing self-test (stonith on, fence device able to fence each node,
        each node's sbd answering on every SBD disk); passing it lets storage resources run there. dump: the SBD
        disks' headers and timeouts. list: their message slots."""
        host = cluster.live_host()
        try:
            if action == "test":
                result = cluster_ops.fencing_test(self.ctx.env(), host)
            elif action in ("dump", "list"):
                self.ctx.write(cluster.sbd_text(host, action))
                return
            else:
                raise ExecutionError(f"action: test, dump or list, not {action!r}")
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        for line in result.plan if result.dry_run else result.lines:
            self.ctx.write(line)
        if not result.dry_run:
            if not result.passed:
                raise ExecutionError("fencing self-test FAILED: storage resources stay off the untested nodes")
            self.ctx.write("Fencing self-test passed.")

    def ui_command_backup(self, file: str) -> None:
        """backup FILE: the whole cluster configuration (CIB, cluster spec, appliance configuration with its CHAP
        secrets) to FILE, mode 0600."""
        self._op(f"Cluster configuration saved to {file}.", cluster_backup.backup, file)

    def ui_command_restore(self, file: str) -> None:
        """restore FILE: the configuration of a `backup` FILE back into this same cluster (all checked first)."""
        self._op(f"Cluster configuration restored from {file}.", cluster_backup.restore, file)

    def ui_command_leave(self, force: str = "no") -> None:
        """leave [force=yes]: take this node out of the cluster (standby first, so its resources move; then its stack
        stops and the cluster's files go). Then run `remove THIS_NODE` on a node that stays. Refused while replicated
        pools exist, unless force=yes."""
        outcome = self.call("This node left the cluster: it runs alone now.", cluster.leave, cluster.live_host(),
                            self.parse_bool(force, "force"))
        if not outcome.dry_run:
            self.ctx.write(outcome.plan[-1].replace("then, on", "Now, on").capitalize().rstrip(".") + ".")

    def ui_command_remove(self, node: str) -> None:
        """remove NODE: forget a node that is down or has left (corosync and Pacemaker; fencing settings follow
        the new node count). From two nodes to one this restarts the cluster stack here."""
        self.call(f"Node {node} removed from the cluster.", cluster.remove, cluster.live_host(), node)

    def ui_command_logs(self, node: str | None = None, since: str | None = None, until: str | None = None,
                        lines: str = "200") -> None:
        """logs [node=NODE] [since=TIME] [until=TIME] [lines=N]: the cluster daemons' log (corosync, pacemaker, sbd,
        dlm, lvmlockd). TIME: YYYY-MM-DD[ HH:MM[:SS]], HH:MM[:SS], -N(s|min|h|d), today, yesterday."""
        try:
            text = cluster.logs(cluster.live_host(), node or "", since or "", until or "", lines)
        except SanError as exc:
            raise ExecutionError(str(exc)) from None
        self.ctx.write(text.rstrip())
