"""Cluster timing: named profiles and the timeouts derived from them (pure). Derived, never guessed:

    msgwait                = 2 x watchdog timeout              (sbd's own rule: a node that stops feeding its
                                                                watchdog is reset within the watchdog timeout, so the
                                                                poison pill is known to have worked after twice that)
    stonith-timeout        = max(1.2 x msgwait, msgwait + 10s) (fence_sbd writes the pill, then waits msgwait)
    priority-fencing-delay = 2 x pcmk_delay_max                (two nodes only; Pacemaker's advice: "safely twice")
    SBD_DELAY_START        = token + consensus + fence delays + msgwait  (profiles for fast-rebooting VMs only)
    stonith-watchdog-timeout = 0                               (it is for diskless SBD; ours is disk-based)

Pacemaker's fencer adds pcmk_delay_max and the requested priority delay to its own timeouts, so stonith-timeout only
has to cover the fence agent's work (fenced_remote.c: get_device_timeout, get_op_total_timeout).

Fencing delay in a two-node cluster (why two mechanisms): when the link between the nodes breaks, both lose the
other at the same moment and both would fire at once. One `fence_sbd` device serves both nodes, so a static per-node
`pcmk_delay_base` would always sacrifice the same node, whichever one serves the storage. Instead:
  - `priority-fencing-delay` (cluster property) delays fencing of the node that runs the higher total resource
    priority (every resource has priority 1 from rsc_defaults, a promoted DRBD instance one more, the fence device
    0: where it runs says nothing), so the node serving the targets survives a split and initiators keep their paths;
  - `pcmk_delay_max` on the fence device adds a random delay of up to that many seconds, the tie-break Pacemaker applies
    when both nodes have equal priority (nothing running, or a fence for a reason other than node loss).
With three or more nodes only the partition with quorum fences, so both delays are 0: they would only slow recovery.
The price in a two-node cluster: when the node with the storage really dies, its fencing waits up to
priority-fencing-delay + pcmk_delay_max before failover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sanappliance.errors import INVALID, SanError

TOKEN_COEFFICIENT_MS = 650  # corosync adds this to the token per node beyond two (corosync.conf(5))
SYSTEMD_START_TIMEOUT = 90  # DefaultTimeoutStartSec: sbd.service sets none


@dataclass(frozen=True)
class Profile:
    name: str
    token_ms: int  # corosync totem token: how long until a silent node counts as lost
    consensus_factor: float  # consensus = factor x token (corosync's own default factor is 1.2)
    watchdog_timeout: int  # seconds: SBD_WATCHDOG_TIMEOUT and the watchdog timeout written to the SBD disks
    fence_delay_max: int  # seconds: pcmk_delay_max of the fence device in a two-node cluster
    delay_start: bool  # SBD_DELAY_START: hold sbd (and so the cluster stack) back after a fast reboot
    description: str


PROFILES: dict[str, Profile] = {
    "production": Profile(
        "production", token_ms=3000, consensus_factor=1.2, watchdog_timeout=5, fence_delay_max=5, delay_start=False,
        description="hardware: corosync's default token (3 s) and sbd's default watchdog (5 s); servers take "
                    "longer to reboot than a fence takes to complete, so sbd starts without delay"),
    "lab": Profile(
        "lab", token_ms=10000, consensus_factor=1.2, watchdog_timeout=15, fence_delay_max=10, delay_start=True,
        description="TCG-emulated VMs (several times slower than hardware): a larger token and watchdog so a busy "
                    "host does not look like a failed node; VMs reboot fast, so sbd waits before it starts"),
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise SanError(f"unknown timing profile (known: {', '.join(PROFILES)})", field="profile", value=name,
                       kind=INVALID) from None


@dataclass(frozen=True)
class Timing:
    """Every timeout of one cluster, in the units of the file it lands in."""

    profile: str
    token_ms: int  # as written to corosync.conf (corosync adds TOKEN_COEFFICIENT_MS per node beyond two)
    effective_token_ms: int  # what corosync runs with for this node count
    consensus_ms: int
    watchdog_timeout: int  # s
    msgwait: int  # s
    stonith_timeout: int  # s
    pcmk_delay_max: int  # s, 0: none (more than two nodes)
    priority_fencing_delay: int  # s, 0: off
    sbd_delay_start: int  # s, 0: "no"
    sbd_start_timeout: int  # s, TimeoutStartSec for sbd.service when it waits at start; 0: the unit's default


def msgwait_for(watchdog_timeout: int) -> int:
    return 2 * watchdog_timeout


def stonith_timeout_for(msgwait: int) -> int:
    return math.ceil(max(msgwait * 1.2, msgwait + 10))


def effective_token_ms(token_ms: int, nodes: int) -> int:
    return token_ms + max(0, nodes - 2) * TOKEN_COEFFICIENT_MS


def derive(profile_name: str, nodes: int, *, watchdog_timeout: int | None = None,
           fence_delay_max: int | None = None) -> Timing:
    """The timing of a cluster of `nodes` nodes; `watchdog_timeout` and `fence_delay_max` override the profile's."""
    prof = profile(profile_name)
    watchdog = prof.watchdog_timeout if watchdog_timeout is None else watchdog_timeout
    msgwait = msgwait_for(watchdog)
    token = effective_token_ms(prof.token_ms, nodes)
    consensus = math.ceil(prof.consensus_factor * token)
    delay_max = (prof.fence_delay_max if fence_delay_max is None else fence_delay_max) if nodes == 2 else 0
    priority_delay = 2 * delay_max
    delay_start = 0
    if prof.delay_start:
        delay_start = math.ceil((token + consensus) / 1000) + delay_max + priority_delay + msgwait
        delay_start = max(delay_start, 2)  # SBD_DELAY_START=1 would mean "yes" (msgwait), not one second
    start_timeout = math.ceil(delay_start * 1.2) + 10 if delay_start else 0
    return Timing(profile=prof.name, token_ms=prof.token_ms, effective_token_ms=token, consensus_ms=consensus,
                  watchdog_timeout=watchdog, msgwait=msgwait, stonith_timeout=stonith_timeout_for(msgwait),
                  pcmk_delay_max=delay_max, priority_fencing_delay=priority_delay, sbd_delay_start=delay_start,
                  sbd_start_timeout=max(start_timeout, SYSTEMD_START_TIMEOUT) if delay_start else 0)
