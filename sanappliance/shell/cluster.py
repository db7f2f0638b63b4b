"""The /cluster node of the sanctl tree: form, join and watch the HA cluster, and its daily operations."""

from __future__ import annotations

from configshell_fb import ExecutionError

from sanappliance.errors import SanError
from sanappliance.service import cluster

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
