"""Where a replicated pool's traffic goes (pure): the replication address each node offers, and checks of a pool
against the nodes' network specs (sanappliance.network): DRBD on the replication link when the node has one (off
the corosync link, whose latency decides membership), floating portal addresses inside a storage link's subnet.
"""

from __future__ import annotations

import ipaddress

from sanappliance.errors import NOT_FOUND, SanError
from sanappliance.model.config import Pool
from sanappliance.network.model import NetworkSpec, Role, addresses_for


def replication_address(spec: NetworkSpec) -> str:
    """The address DRBD should use on this node: its first replication address, else its first cluster one."""
    for role in (Role.REPLICATION, Role.CLUSTER):
        found = addresses_for(spec, role)
        if found:
            return found[0].ip
    raise SanError("the node has no static replication or cluster address", field="network.links",
                   value=spec.hostname, kind=NOT_FOUND)


def check_pool_networks(pool: Pool, specs: dict[str, NetworkSpec]) -> list[SanError]:
    """Problems of a replicated pool against the network specs of its nodes (by node name; a node without a spec
    is not checked)."""
    problems: list[SanError] = []
    if pool.replication is None:
        return problems
    where = f"pools[{pool.name}]"
    for node in pool.replication.nodes:
        spec = specs.get(node.name)
        if spec is None:
            continue
        at = f"{where}.replication.nodes[{node.name}].address"
        replication = [a.ip for a in addresses_for(spec, Role.REPLICATION)]
        cluster = [a.ip for a in addresses_for(spec, Role.CLUSTER)]
        if replication and node.address not in replication:
            problems.append(SanError(f"the node has a replication link ({', '.join(replication)}): DRBD goes "
                                     "there, off the cluster link", field=at, value=node.address))
        elif not replication and node.address not in cluster:
            problems.append(SanError("not one of the node's replication or cluster addresses", field=at,
                                     value=node.address))
        storage = [ipaddress.ip_interface(a.address) for a in addresses_for(spec, Role.STORAGE)]
        links = {a.link for a in addresses_for(spec, Role.STORAGE)}
        for i, fip in enumerate(pool.floating_ips):
            ip = ipaddress.ip_interface(fip.address)
            if not any(ip.ip in own.network for own in storage):
                problems.append(SanError(f"not in the subnet of a storage link of {node.name}",
                                         field=f"{where}.floating_ips[{i}].address", value=fip.address))
            elif fip.link and fip.link not in links:
                problems.append(SanError(f"{node.name} has no storage link of this name",
                                         field=f"{where}.floating_ips[{i}].link", value=fip.link))
    return problems


__all__ = ["check_pool_networks", "replication_address"]
