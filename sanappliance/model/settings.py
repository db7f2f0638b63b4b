"""Typed settings tables for LIO: TPG attributes, iSCSI login parameters and backstore (device) attributes.

One declaration per setting (name, type, range, default, help). A default of None leaves the kernel's value; a default
that differs from LIO's stock value is the appliance's choice and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sanappliance.errors import INVALID, SanError


class Kind(Enum):
    INT = "int"
    BOOL = "bool"  # 0/1 in configfs
    CHOICE = "choice"


@dataclass(frozen=True)
class Setting:
    name: str
    kind: Kind
    default: int | str | None
    help: str
    low: int = 0
    high: int = 2**32 - 1
    choices: tuple[str, ...] = ()

    def parse(self, value: object, field: str) -> int | str:
        """The value as configfs wants it: int for INT/BOOL, str for CHOICE. Raises naming the field."""
        if self.kind is Kind.BOOL:
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return 1
            if text in ("0", "false", "no", "off"):
                return 0
            raise SanError(f"{self.name} is a boolean (0/1, yes/no)", field=field, value=value, kind=INVALID)
        if self.kind is Kind.INT:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise SanError(f"{self.name} is a whole number", field=field, value=value, kind=INVALID) from None
            if not self.low <= number <= self.high:
                raise SanError(f"{self.name} must be {self.low}-{self.high}", field=field, value=value,
                               kind=INVALID)
            return number
        text = str(value).strip()
        if text not in self.choices:
            raise SanError(f"{self.name} is one of {', '.join(self.choices)}", field=field, value=value,
                           kind=INVALID)
        return text


def _b(name: str, default: int | None, help: str) -> Setting:
    return Setting(name, Kind.BOOL, default, help, 0, 1)


def _i(name: str, default: int | None, low: int, high: int, help: str) -> Setting:
    return Setting(name, Kind.INT, default, help, low, high)


def _c(name: str, default: str | None, choices: tuple[str, ...], help: str) -> Setting:
    return Setting(name, Kind.CHOICE, default, help, choices=choices)


TPG_ATTRIBUTES: dict[str, Setting] = {s.name: s for s in (
    _b("authentication", None, "require CHAP from every initiator (set from the ACLs' and the TPG's CHAP)"),
    _b("generate_node_acls", 0, "demo mode: any initiator may log in and sees every LUN (off: explicit ACLs only)"),
    _b("cache_dynamic_acls", 0, "keep ACLs generated in demo mode after logout"),
    _b("demo_mode_write_protect", 1, "LUNs are read-only to initiators in demo mode"),
    _b("prod_mode_write_protect", 0, "LUNs are read-only to initiators with explicit ACLs"),
    _b("demo_mode_discovery", 1, "initiators without an ACL may discover the target"),
    _i("default_cmdsn_depth", 64, 1, 512, "commands an initiator may have queued per session"),
    _i("login_timeout", 15, 2, 30, "seconds a login may take"),
    _b("tpg_enabled_sendtargets", 1, "SendTargets discovery lists only enabled TPGs"),
)}

TPG_PARAMETERS: dict[str, Setting] = {s.name: s for s in (
    _c("HeaderDigest", "CRC32C,None", ("CRC32C,None", "None,CRC32C", "CRC32C", "None"), "header digest offered"),
    _c("DataDigest", "CRC32C,None", ("CRC32C,None", "None,CRC32C", "CRC32C", "None"), "data digest offered"),
    _i("MaxRecvDataSegmentLength", 8192, 512, 16777215, "largest data segment the target receives"),
    _i("MaxXmitDataSegmentLength", 262144, 512, 16777215, "largest data segment the target sends"),
    _i("FirstBurstLength", 65536, 512, 16777215, "unsolicited data per command"),
    _i("MaxBurstLength", 262144, 512, 16777215, "solicited data per R2T sequence"),
    _c("ImmediateData", "Yes", ("Yes", "No"), "data may come with the command"),
    _c("InitialR2T", "Yes", ("Yes", "No"), "wait for R2T before sending data"),
    _i("MaxOutstandingR2T", 1, 1, 65535, "R2Ts outstanding per task"),
    _i("MaxConnections", 1, 1, 65535, "connections per session"),
    _i("DefaultTime2Wait", 2, 0, 3600, "seconds before a logout or reconnect"),
    _i("DefaultTime2Retain", 20, 0, 3600, "seconds a task is kept for recovery"),
    _i("ErrorRecoveryLevel", 0, 0, 2, "iSCSI error recovery level"),
)}

# Backstore attributes. Thin-provisioning emulation is on (UNMAP and WRITE SAME with UNMAP work through LIO to LVM
# and sparse files; stock LIO leaves it off and fails the SBC-3 unmap tests of iscsi-test-cu).
DEVICE_ATTRIBUTES: dict[str, Setting] = {s.name: s for s in (
    _b("emulate_tpu", 1, "thin provisioning: UNMAP (stock LIO: 0)"),
    _b("emulate_tpws", 1, "thin provisioning: WRITE SAME with UNMAP (stock LIO: 0)"),
    _i("max_unmap_lba_count", 1048576, 0, 2**32 - 1,
       "largest UNMAP in blocks; LIO would report the device's own limit, beyond what initiators expect (SBC-3)"),
    _b("emulate_caw", 1, "COMPARE AND WRITE (VMware ATS locking)"),
    _b("emulate_3pc", 1, "third-party copy: EXTENDED COPY (VMware XCOPY offload)"),
    _b("emulate_write_cache", None, "report a volatile write cache (WCE)"),
    _b("emulate_fua_write", 1, "honour FUA writes"),
    _b("emulate_tas", 1, "task aborted status"),
    _b("emulate_ua_intlck_ctrl", None, "unit attention interlock"),
    _b("is_nonrot", None, "report a non-rotational (solid state) device"),
    _i("block_size", None, 512, 4096, "logical block size (512 or 4096); set before the LUN is exported"),
    _i("queue_depth", None, 1, 1024, "commands queued to the device"),
)}


def parse_settings(table: dict[str, Setting], values: dict[str, object], field: str) -> dict[str, int | str]:
    out: dict[str, int | str] = {}
    for name, value in values.items():
        setting = table.get(name)
        if setting is None:
            raise SanError(f"unknown setting; known: {', '.join(sorted(table))}", field=f"{field}.{name}", value=name,
                           kind=INVALID)
        out[name] = setting.parse(value, f"{field}.{name}")
    return out


def effective(table: dict[str, Setting], overrides: dict[str, int | str]) -> dict[str, int | str]:
    """The appliance's defaults with the admin's overrides on top (settings with no default are left out)."""
    values: dict[str, int | str] = {n: s.default for n, s in table.items() if s.default is not None}
    values.update(overrides)
    return values
