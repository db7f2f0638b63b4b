"""What initiators must be told (pure): how long a failover of the appliance can take, derived from the cluster's own
timers (cluster/timeouts.py), and the initiator timeouts that follow from it.

A pool's target is served by one node at a time; its portals are the pool's floating addresses (one per storage
network), so an initiator's paths all lead to that node. A failover therefore takes **every** path away at once,
until the survivor has the chain up; a cut cable or switch takes one path. Two needs follow:

* one path lost: its I/O moves to the other path quickly. The path is declared dead after `silence` without an
  answer (iSCSI NOP-Out interval + timeout), and its commands are handed back to dm-multipath after
  `replacement_timeout` more; dm-multipath resends them on the other path.
* every path lost (a failover): nothing may reach the application as an error until the survivor serves again.
  dm-multipath queues I/O while no path is up, for `no_path_retry` x `polling_interval` seconds; that must exceed
  the longest failover the cluster can complete: `hold`.

The longest failover (two nodes, the serving node lost; `Failover`):

    detect      token + consensus                 corosync declares the node lost (effective token for the count)
    fence_delay priority-fencing-delay + pcmk_delay_max
                                                  the serving node has the higher priority, so its fencing waits
                                                  (after a split the node with the storage wins); plus the random
                                                  tie-break
    fence       stonith-timeout                   the longest a fence may take and still succeed (fence_sbd writes
                                                  the poison pill, waits msgwait = 2 x watchdog; plus its margin)
    promote     crm-fence-peer's --timeout        the most a DRBD promotion waits for its handler (drbd/render.py);
                                                  a shared pool's lock recovery in dlm starts once the fence is
                                                  confirmed and is covered by it
    start       the takeover allowance            VG, volumes, addresses, targets started on the survivor (TAKEOVER
                                                  per timing profile: hardware 30 s; TCG-emulated lab VMs 120 s,
                                                  where a push to the chain running took 24 s, docs/REPLICATION.md)

    hold = (detect + fence_delay + fence + promote + start) x MARGIN, rounded up to whole polling intervals
    no_path_retry = hold / POLLING_INTERVAL

The numbers for both timing profiles are in docs/INITIATORS.md (render.numbers_table; a unit test keeps the doc
and this derivation the same).

Why a number and not `queue` (queue_if_no_path for ever): with `queue` an initiator whose appliance is gone for
good hangs every process that touches the disk, shutdown included; a number just above the longest failover the
cluster can complete survives every failover and still ends in an error when the cluster cannot recover.
dm-multipath starts counting when the last path has failed, which is later than the failure itself (detection and
replacement_timeout first), so `hold` measured from the failure is on the safe side.

silence = max(5, token): the appliance's own cluster calls a node lost after one token without an answer; a path
is not called dead sooner (no flapping on a busy lab host), and never sooner than open-iscsi's default of 5 s.
replacement_timeout = 2 x silence: as long again for a quick reconnect (a switch port flap) before the path's I/O
moves. login_timeout = silence: a login attempt to an address not up yet ends in time for the next one, so the
initiator is back within one login after the survivor serves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sanappliance.cluster.timeouts import Timing
from sanappliance.drbd.render import FENCE_PEER_TIMEOUT
from sanappliance.errors import INVALID, SanError

POLLING_INTERVAL = 5  # s: multipathd's path checker interval (its default); no_path_retry counts these
MARGIN = 1.2
TAKEOVER = {"production": 30, "lab": 120}  # s: the chain's start on the survivor, per timing profile
MIN_SILENCE = 5  # s: open-iscsi's default NOP-Out interval and timeout
ISCSI_PORT = 3260
# the ranges ESXi's software iSCSI adapter accepts (esxcli iscsi adapter param)
ESXI_NOOP_TIMEOUT = (10, 30)
ESXI_NOOP_INTERVAL = (1, 60)
ESXI_RECOVERY_TIMEOUT = (1, 120)
ESXI_LOGIN_TIMEOUT = (1, 60)
ESXI_APD_DEFAULT = 140  # s: Misc.APDTimeout's default


@dataclass(frozen=True)
class Failover:
    """The longest failover the cluster can complete, in seconds, by phase."""

    detect: int
    fence_delay: int
    fence: int
    promote: int
    start: int

    @property
    def total(self) -> int:
        return self.detect + self.fence_delay + self.fence + self.promote + self.start


@dataclass(frozen=True)
class InitiatorSettings:
    profile: str
    failover: Failover
    hold: int  # s: how long initiators must keep I/O through all paths down
    silence: int  # s: NOP-Out interval and timeout: a path silent this long is dead
    replacement_timeout: int  # s: with dm-multipath: a dead path's commands go back to dm after this
    login_timeout: int  # s

    @property
    def no_path_retry(self) -> int:
        return self.hold // POLLING_INTERVAL

    @property
    def single_path_replacement_timeout(self) -> int:
        """Without dm-multipath (one session): the session itself must hold I/O through a failover."""
        return self.hold

    # --- VMware ESXi (software iSCSI adapter, NMP) ------------------------------------------------------------------
    @property
    def esxi(self) -> dict[str, int]:
        return {"NoopOutInterval": _clamp(self.silence, ESXI_NOOP_INTERVAL),
                "NoopOutTimeout": _clamp(self.silence, ESXI_NOOP_TIMEOUT),
                "RecoveryTimeout": _clamp(self.replacement_timeout, ESXI_RECOVERY_TIMEOUT),
                "LoginTimeout": _clamp(self.login_timeout, ESXI_LOGIN_TIMEOUT),
                "Misc.APDTimeout": max(ESXI_APD_DEFAULT, self.hold)}

    # --- Windows (Microsoft iSCSI initiator, MPIO with the Microsoft DSM) -------------------------------------------
    @property
    def windows(self) -> dict[str, int]:
        return {"PDORemovePeriod": self.hold, "LinkDownTime": self.replacement_timeout,
                "MaxRequestHoldTime": self.hold}


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))


def failover(timing: Timing, takeover: int | None = None) -> Failover:
    start = TAKEOVER.get(timing.profile, max(TAKEOVER.values())) if takeover is None else takeover
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise SanError("the takeover allowance is a whole number of seconds", field="takeover", value=takeover,
                       kind=INVALID)
    return Failover(detect=math.ceil((timing.effective_token_ms + timing.consensus_ms) / 1000),
                    fence_delay=timing.priority_fencing_delay + timing.pcmk_delay_max,
                    fence=timing.stonith_timeout, promote=FENCE_PEER_TIMEOUT, start=start)


def derive(timing: Timing, takeover: int | None = None) -> InitiatorSettings:
    """The initiator settings for a cluster with `timing` (ClusterSpec.timing())."""
    phases = failover(timing, takeover)
    hold = math.ceil(phases.total * MARGIN / POLLING_INTERVAL) * POLLING_INTERVAL
    silence = max(MIN_SILENCE, math.ceil(timing.effective_token_ms / 1000))
    return InitiatorSettings(profile=timing.profile, failover=phases, hold=hold, silence=silence,
                             replacement_timeout=2 * silence, login_timeout=silence)


__all__ = ["ISCSI_PORT", "MARGIN", "POLLING_INTERVAL", "TAKEOVER", "Failover", "InitiatorSettings", "derive",
           "failover"]
