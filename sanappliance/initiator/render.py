"""Ready-to-use initiator settings (pure text): open-iscsi's iscsid.conf lines and iface binding, the multipath.conf
device section for LIO, and what to set on VMware ESXi and Windows, all from `settings.derive`. docs/INITIATORS.md
explains each and shows the numbers for both timing profiles (`numbers_table`, checked against the doc by a test).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from sanappliance.errors import INVALID, SanError
from sanappliance.model.config import Config, Pool
from sanappliance.model.replication import targets_of_pool

from .settings import ISCSI_PORT, MARGIN, POLLING_INTERVAL, InitiatorSettings

LIO_VENDOR = "LIO-ORG"  # LIO's T10 vendor id in every LUN's INQUIRY data
LIO_PRODUCT = "IBLOCK"  # the product id of LIO's block backstore (the pools' LVs)
_IFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$")  # a Linux interface name (IFNAMSIZ 16)


def render_iscsid_conf(s: InitiatorSettings) -> str:
    """The lines to set in /etc/iscsi/iscsid.conf (before discovery: node records copy them), with dm-multipath."""
    return (f"# sanappliance (timing profile {s.profile}): with dm-multipath over the pool's portals; the longest\n"
            f"# failover is {s.failover.total} s, dm-multipath holds I/O {s.hold} s (multipath.conf no_path_retry)\n"
            "node.startup = automatic\n"
            f"node.session.timeo.replacement_timeout = {s.replacement_timeout}\n"
            f"node.conn[0].timeo.login_timeout = {s.login_timeout}\n"
            f"node.conn[0].timeo.noop_out_interval = {s.silence}\n"
            f"node.conn[0].timeo.noop_out_timeout = {s.silence}\n"
            f"# without dm-multipath (one session per target): node.session.timeo.replacement_timeout = "
            f"{s.single_path_replacement_timeout}\n")


def render_multipath_device(s: InitiatorSettings) -> str:
    """The `devices` section for an initiator's /etc/multipath.conf: every LUN of the appliance."""
    return ("devices {\n"
            "    device {\n"
            f'        vendor "{LIO_VENDOR}"\n'
            '        product ".*"\n'
            "        # both portals are on the node that serves the pool: one group, I/O over both networks\n"
            "        path_grouping_policy multibus\n"
            '        path_selector "service-time 0"\n'
            "        path_checker tur\n"
            "        failback immediate\n"
            f"        # {s.no_path_retry} x polling_interval {POLLING_INTERVAL} s = {s.hold} s of queueing with "
            f"every path down:\n"
            f"        # the longest failover ({s.failover.total} s) x {MARGIN}\n"
            f"        no_path_retry {s.no_path_retry}\n"
            "    }\n"
            "}\n")


def _portal(address: str) -> str:
    ip = address.split("/", 1)[0]
    return f"[{ip}]:{ISCSI_PORT}" if ipaddress.ip_address(ip).version == 6 else f"{ip}:{ISCSI_PORT}"


def render_iface_binding(config: Config, pool: Pool, nics: Sequence[str]) -> str:
    """iscsiadm commands that bind one initiator interface to each of the pool's portals (its floating addresses,
    one per storage network, in order) and log in to each of the pool's targets once per path."""
    if not pool.floating_ips:
        raise SanError("the pool has no floating addresses: initiators have no portal to bind to",
                       field=f"pools[{pool.name}].floating_ips", kind=INVALID)
    if len(nics) != len(pool.floating_ips):
        raise SanError(f"one initiator interface per portal: the pool has {len(pool.floating_ips)}", field="nics",
                       value=", ".join(nics), kind=INVALID)
    for i, nic in enumerate(nics):
        if not _IFACE.match(nic):
            raise SanError("not an interface name", field=f"nics[{i}]", value=nic, kind=INVALID)
    lines = [f"# pool {pool.name}: one iSCSI interface per storage network, one session per portal and target"]
    for i, (fip, nic) in enumerate(zip(pool.floating_ips, nics, strict=True)):
        iface = f"san{i}"
        lines += [f"iscsiadm -m iface -I {iface} -o new",
                  f"iscsiadm -m iface -I {iface} -o update -n iface.net_ifacename -v {nic}",
                  f"iscsiadm -m discovery -t sendtargets -p {_portal(fip.address)} -I {iface}"]
    for target in targets_of_pool(config, pool.name):
        for i, fip in enumerate(pool.floating_ips):
            lines.append(f"iscsiadm -m node -T {target.iqn} -p {_portal(fip.address)} -I san{i} --login")
    return "\n".join(lines) + "\n"


def render_esxi(s: InitiatorSettings, adapter: str = "vmhba64") -> str:
    """esxcli commands for ESXi's software iSCSI adapter and NMP (round robin over both paths)."""
    lines = [f'esxcli storage nmp satp rule add --satp VMW_SATP_ALUA --vendor "{LIO_VENDOR}" --psp VMW_PSP_RR '
             '--psp-option "iops=1" --claim-option tpgs_on --description "sanappliance"']
    lines += [f"esxcli iscsi adapter param set --adapter {adapter} --key {key} --value {value}"
              for key, value in s.esxi.items() if not key.startswith("Misc.")]
    apd = s.esxi["Misc.APDTimeout"]
    lines.append(f"esxcli system settings advanced set --option /Misc/APDTimeout --int-value {apd}")
    return "\n".join(lines) + "\n"


def render_windows(s: InitiatorSettings) -> str:
    """PowerShell for Windows Server: MPIO with the Microsoft DSM claiming the appliance's LUNs, round robin, and
    the timeouts (LinkDownTime is the iSCSI initiator's, in its adapter's Parameters key)."""
    w = s.windows
    return ("Install-WindowsFeature -Name Multipath-IO\n"
            f'New-MSDSMSupportedHW -VendorId "{LIO_VENDOR}" -ProductId "{LIO_PRODUCT}"\n'
            "Enable-MSDSMAutomaticClaim -BusType iSCSI\n"
            "Set-MSDSMGlobalDefaultLoadBalancePolicy -Policy RR\n"
            f"Set-MPIOSetting -NewPDORemovePeriod {w['PDORemovePeriod']} -NewPathVerificationState Enabled\n"
            "$key = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Class\\{4D36E97B-E325-11CE-BFC1-08002BE10318}'\n"
            "Get-ChildItem $key -ErrorAction SilentlyContinue | Where-Object { (Get-ItemProperty $_.PSPath)."
            "DriverDesc -like '*iSCSI Initiator*' } | ForEach-Object {\n"
            f"    Set-ItemProperty -Path \"$($_.PSPath)\\Parameters\" -Name LinkDownTime -Value {w['LinkDownTime']}\n"
            f"    Set-ItemProperty -Path \"$($_.PSPath)\\Parameters\" -Name MaxRequestHoldTime -Value "
            f"{w['MaxRequestHoldTime']}\n"
            "}\n")


def numbers_table(profiles: Sequence[InitiatorSettings]) -> str:
    """The derived numbers per timing profile, as a Markdown table (docs/INITIATORS.md holds it)."""
    rows: list[tuple[str, ...]] = [
        ("failover: detect (token + consensus)", *(str(p.failover.detect) for p in profiles)),
        ("failover: fence delays (priority-fencing-delay + pcmk_delay_max)",
         *(str(p.failover.fence_delay) for p in profiles)),
        ("failover: fence (stonith-timeout)", *(str(p.failover.fence) for p in profiles)),
        ("failover: promotion (crm-fence-peer --timeout)", *(str(p.failover.promote) for p in profiles)),
        ("failover: takeover allowance (chain start)", *(str(p.failover.start) for p in profiles)),
        ("failover: total", *(str(p.failover.total) for p in profiles)),
        (f"hold (total x {MARGIN}, whole {POLLING_INTERVAL} s intervals)", *(str(p.hold) for p in profiles)),
        ("Linux multipath no_path_retry", *(str(p.no_path_retry) for p in profiles)),
        ("Linux replacement_timeout (dm-multipath)", *(str(p.replacement_timeout) for p in profiles)),
        ("Linux replacement_timeout (one session, no multipath)",
         *(str(p.single_path_replacement_timeout) for p in profiles)),
        ("Linux noop_out_interval / noop_out_timeout", *(f"{p.silence} / {p.silence}" for p in profiles)),
        ("Linux login_timeout", *(str(p.login_timeout) for p in profiles)),
    ]
    rows += [(f"ESXi {key}", *(str(p.esxi[key]) for p in profiles)) for key in profiles[0].esxi]
    rows += [(f"Windows {key}", *(str(p.windows[key]) for p in profiles)) for key in profiles[0].windows]
    head = "| seconds | " + " | ".join(p.profile for p in profiles) + " |"
    rule = "|---|" + "---:|" * len(profiles)
    return "\n".join([head, rule, *("| " + " | ".join(row) + " |" for row in rows)]) + "\n"


__all__ = ["LIO_PRODUCT", "LIO_VENDOR", "numbers_table", "render_esxi", "render_iface_binding", "render_iscsid_conf",
           "render_multipath_device", "render_windows"]
