"""The /iscsi branch of the sanctl tree: targets, TPGs, LUNs, ACLs, initiator groups, portals, CHAP."""

from __future__ import annotations

from typing import Any

from configshell_fb import ExecutionError

from sanappliance.model import settings
from sanappliance.model.config import Acl, Chap, InitiatorGroup, MappedLun, Target, Tpg, tpg_of
from sanappliance.service import iscsi

from . import listing
from .base import SanNode, secret_state


def _auth_args(userid: str | None, password: str | None, mutual_userid: str | None,
               mutual_password: str | None) -> dict[str, str]:
    return {"userid": userid or "", "password": password or "", "mutual_userid": mutual_userid or "",
            "mutual_password": mutual_password or ""}


def _merged_auth(chap: Chap | None, name: str, value: str | None) -> dict[str, str]:
    """The CHAP settings with one field changed; an empty userid turns CHAP off."""
    if name == "userid" and not value:
        return _auth_args(None, None, None, None)
    current = _auth_args(chap.userid, chap.password, chap.mutual_userid, chap.mutual_password) if chap else \
        _auth_args(None, None, None, None)
    current[name] = value or ""
    return current


class UIIscsi(SanNode):
    """iSCSI targets (LIO). `set discovery_auth userid=U password=P` protects SendTargets discovery."""

    def __init__(self, parent: SanNode) -> None:
        super().__init__("iscsi", parent)
        self.define_config_group_param("discovery_auth", "userid", "string", "discovery CHAP user ('' turns it off)")
        self.define_config_group_param("discovery_auth", "password", "string", "discovery CHAP secret")
        self.define_config_group_param("discovery_auth", "mutual_userid", "string", "mutual CHAP user")
        self.define_config_group_param("discovery_auth", "mutual_password", "string", "mutual CHAP secret")

    def build(self) -> None:
        for t in self.config().targets:
            UITarget(t.iqn, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.iscsi(self.config())

    def ui_command_create(self, iqn: str | None = None) -> None:
        """create [IQN]: a target with TPG 1 on 0.0.0.0:3260; a name is generated when none is given."""
        before = {t.iqn for t in self.config().targets}
        outcome = self.call("", iscsi.create_target, iqn)
        if not outcome.dry_run:
            (new,) = {t.iqn for t in outcome.config.targets} - before
            self.ctx.write(f"Created target {new}.")

    def ui_command_delete(self, iqn: str) -> None:
        """delete IQN: remove a target with all its TPGs, LUNs and ACLs (the volumes stay)."""
        self.call(f"Deleted target {iqn}.", iscsi.delete_target, iqn)

    def ui_complete_delete(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        return [t.iqn for t in self.config().targets if t.iqn.startswith(text)]

    def ui_getgroup_discovery_auth(self, name: str) -> str:
        chap = self.config().discovery.chap
        if chap is None:
            return ""
        return secret_state(getattr(chap, name)) if "password" in name else getattr(chap, name)

    def ui_setgroup_discovery_auth(self, name: str, value: str | None) -> None:
        self.call("Set discovery authentication.", iscsi.set_discovery_auth,
                  **_merged_auth(self.config().discovery.chap, name, value))


class UITarget(SanNode):
    def __init__(self, iqn: str, parent: SanNode) -> None:
        super().__init__(iqn, parent)

    def target(self) -> Target:
        return self.config().target(self.name)

    def build(self) -> None:
        for g in self.target().tpgs:
            UITpg(g.tag, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.target(self.target())

    def ui_command_create(self, tag: str | None = None) -> None:
        """create [TAG]: another TPG (for ALUA or more portals)."""
        self.call("Created TPG.", iscsi.create_tpg, self.name, self.parse_int(tag, "tag") if tag else None)

    def ui_command_delete(self, tag: str) -> None:
        """delete TAG: remove a TPG with its LUNs, ACLs and portals."""
        self.call(f"Deleted tpg{tag}.", iscsi.delete_tpg, self.name, self.parse_int(tag, "tag"))


class UITpg(SanNode):
    """A target portal group. `set attribute NAME=VALUE`, `set parameter NAME=VALUE`, enable, disable."""

    def __init__(self, tag: int, parent: UITarget) -> None:
        super().__init__(f"tpg{tag}", parent)
        self.iqn, self.tag = parent.name, tag
        self.define_settings("attribute", settings.TPG_ATTRIBUTES)
        self.define_settings("parameter", settings.TPG_PARAMETERS)
        for name in ("userid", "password", "mutual_userid", "mutual_password"):
            self.define_config_group_param("auth", name, "string", f"TPG-wide CHAP {name.replace('_', ' ')}")

    def tpg(self) -> Tpg:
        return tpg_of(self.config().target(self.iqn), self.tag)

    def build(self) -> None:
        UILuns(self)
        UIAcls(self)
        UIGroups(self)
        UIPortals(self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.tpg(self.tpg())

    def ui_command_enable(self) -> None:
        """enable: let initiators log in to this TPG."""
        self.call("Enabled.", iscsi.set_tpg_enabled, self.iqn, True, self.tag)

    def ui_command_disable(self) -> None:
        """disable: refuse new logins to this TPG."""
        self.call("Disabled.", iscsi.set_tpg_enabled, self.iqn, False, self.tag)

    def ui_getgroup_attribute(self, name: str) -> Any:
        return settings.effective(settings.TPG_ATTRIBUTES, self.tpg().attributes).get(name, "(kernel default)")

    def ui_setgroup_attribute(self, name: str, value: Any) -> None:
        self.call(f"Set {name}.", iscsi.set_tpg_setting, self.iqn, name, value, self.tag)

    def ui_command_auth(self, userid: str = "", password: str = "", mutual_userid: str = "",
                        mutual_password: str = "") -> None:
        """auth userid=U password=P [mutual_userid=U mutual_password=P]: TPG-wide CHAP for initiators without an
        ACL (demo mode); `auth` with no userid removes it. `set auth NAME=VALUE` changes one field."""
        self.call("Set TPG CHAP.", iscsi.set_tpg_auth, self.iqn, userid, password, mutual_userid, mutual_password,
                  self.tag)

    def ui_getgroup_auth(self, name: str) -> str:
        chap = self.tpg().chap
        if chap is None:
            return ""
        return secret_state(getattr(chap, name)) if "password" in name else getattr(chap, name)

    def ui_setgroup_auth(self, name: str, value: str | None) -> None:
        self.call("Set TPG CHAP.", iscsi.set_tpg_auth, self.iqn, tag=self.tag,
                  **_merged_auth(self.tpg().chap, name, value))

    def ui_getgroup_parameter(self, name: str) -> Any:
        return settings.effective(settings.TPG_PARAMETERS, self.tpg().parameters).get(name, "(kernel default)")

    def ui_setgroup_parameter(self, name: str, value: Any) -> None:
        self.call(f"Set {name}.", iscsi.set_tpg_setting, self.iqn, name, value, self.tag)


class _TpgChild(SanNode):
    def __init__(self, name: str, parent: UITpg) -> None:
        super().__init__(name, parent)
        self.iqn, self.tag = parent.iqn, parent.tag

    def tpg(self) -> Tpg:
        return tpg_of(self.config().target(self.iqn), self.tag)


class UILuns(_TpgChild):
    """The TPG's LUNs, each a volume."""

    def __init__(self, parent: UITpg) -> None:
        super().__init__("luns", parent)

    def build(self) -> None:
        for lun in self.tpg().luns:
            UILun(lun.lun, lun.volume, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.luns(self.tpg())

    def ui_command_create(self, volume: str, lun: str | None = None, add_mapped_luns: str = "true") -> None:
        """create VOLUME [LUN] [add_mapped_luns=true|false]: export a volume (lowest free LUN number unless given);
        it is mapped to every ACL under the same number unless add_mapped_luns=false."""
        number = self.parse_int(lun, "lun") if lun is not None else None
        self.call(f"Created LUN for {volume}.", iscsi.create_lun, self.iqn, volume, number, self.tag,
                  self.parse_bool(add_mapped_luns, "add_mapped_luns"))

    def ui_complete_create(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        if current_param == "volume":
            return [v.name for v in self.config().volumes if v.name.startswith(text)]
        return []

    def ui_command_delete(self, lun: str) -> None:
        """delete LUN: stop exporting (the volume stays); its mappings go too."""
        self.call(f"Deleted LUN {lun}.", iscsi.delete_lun, self.iqn, self.parse_int(lun, "lun"), self.tag)


class UILun(SanNode):
    def __init__(self, lun: int, volume: str, parent: SanNode) -> None:
        super().__init__(f"lun{lun}", parent)
        self.volume = volume

    def summary(self) -> tuple[str, bool | None]:
        return listing.lun(self.config(), self.volume)


class UIAcls(_TpgChild):
    """Initiators allowed in, each with its mapped LUNs and CHAP."""

    def __init__(self, parent: UITpg) -> None:
        super().__init__("acls", parent)

    def build(self) -> None:
        for a in self.tpg().acls:
            UIAcl(a.initiator, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.acls(self.tpg())

    def ui_command_create(self, wwn: str, add_mapped_luns: str = "true", userid: str | None = None,
                          password: str | None = None, mutual_userid: str | None = None,
                          mutual_password: str | None = None) -> None:
        """create WWN [add_mapped_luns=true|false] [userid=U password=P [mutual_userid=U mutual_password=P]]:
        let an initiator in (IQN, EUI or NAA name), with CHAP when a userid is given."""
        self.call(f"Created ACL {wwn}.", iscsi.create_acl, self.iqn, wwn, self.tag,
                  self.parse_bool(add_mapped_luns, "add_mapped_luns"),
                  **_auth_args(userid, password, mutual_userid, mutual_password))

    def ui_command_delete(self, wwn: str) -> None:
        """delete WWN: the initiator loses access."""
        self.call(f"Deleted ACL {wwn}.", iscsi.delete_acl, self.iqn, wwn, self.tag)

    def ui_complete_delete(self, parameters: dict[str, Any], text: str, current_param: str) -> list[str]:
        return [a.initiator for a in self.tpg().acls if a.initiator.startswith(text)]


class UIAcl(SanNode):
    """An initiator's access. `set auth userid=U password=P` sets CHAP (secrets are never shown)."""

    def __init__(self, wwn: str, parent: UIAcls) -> None:
        super().__init__(wwn, parent)
        self.iqn, self.tag = parent.iqn, parent.tag
        for name in ("userid", "password", "mutual_userid", "mutual_password"):
            self.define_config_group_param("auth", name, "string", f"CHAP {name.replace('_', ' ')}")

    def acl(self) -> Acl:
        tpg = tpg_of(self.config().target(self.iqn), self.tag)
        return next(a for a in tpg.acls if a.initiator == self.name)

    def build(self) -> None:
        for m in self.acl().mapped_luns:
            UIMappedLun(m, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.acl(self.acl())

    def ui_command_create(self, mapped_lun: str, tpg_lun: str, write_protect: str = "false") -> None:
        """create MAPPED_LUN TPG_LUN [write_protect=true|false]: show the TPG's LUN to this initiator as MAPPED_LUN."""
        self.call(f"Mapped LUN {tpg_lun} as {mapped_lun}.", iscsi.map_lun, self.iqn, self.name,
                  self.parse_int(tpg_lun, "tpg_lun"), self.parse_int(mapped_lun, "mapped_lun"),
                  self.parse_bool(write_protect, "write_protect"), self.tag)

    def ui_command_delete(self, mapped_lun: str) -> None:
        """delete MAPPED_LUN: hide that LUN from this initiator."""
        self.call(f"Unmapped LUN {mapped_lun}.", iscsi.unmap_lun, self.iqn, self.name,
                  self.parse_int(mapped_lun, "mapped_lun"), self.tag)

    def ui_command_auth(self, userid: str = "", password: str = "", mutual_userid: str = "",
                        mutual_password: str = "") -> None:
        """auth userid=U password=P [mutual_userid=U mutual_password=P]: this initiator's CHAP; `auth` with no userid
        removes it. `set auth NAME=VALUE` changes one field."""
        self.call("Set CHAP.", iscsi.set_acl_auth, self.iqn, self.name, userid, password, mutual_userid,
                  mutual_password, self.tag)

    def ui_getgroup_auth(self, name: str) -> str:
        chap = self.acl().chap
        if chap is None:
            return ""
        return secret_state(getattr(chap, name)) if "password" in name else getattr(chap, name)

    def ui_setgroup_auth(self, name: str, value: str | None) -> None:
        self.call("Set CHAP.", iscsi.set_acl_auth, self.iqn, self.name, tag=self.tag,
                  **_merged_auth(self.acl().chap, name, value))

    def ui_command_info(self) -> None:
        """info: the ACL's settings (secrets are not shown)."""
        acl = self.acl()
        self.ctx.write(f"initiator: {acl.initiator}")
        if acl.chap:
            self.ctx.write(f"chap userid: {acl.chap.userid}, password: (set)")
            if acl.chap.mutual_userid:
                self.ctx.write(f"mutual chap userid: {acl.chap.mutual_userid}, password: (set)")
        for m in acl.mapped_luns:
            mode = " (read-only)" if m.write_protect else ""
            self.ctx.write(f"mapped lun {m.mapped_lun} -> tpg lun {m.tpg_lun}{mode}")


class UIMappedLun(SanNode):
    def __init__(self, mapped: MappedLun, parent: SanNode) -> None:
        super().__init__(f"mapped_lun{mapped.mapped_lun}", parent)
        self.mapped = mapped

    def summary(self) -> tuple[str, bool | None]:
        return listing.mapped_lun(self.mapped)


class UIGroups(_TpgChild):
    """Initiator groups: a named set of initiators sharing one LUN mapping (and CHAP)."""

    def __init__(self, parent: UITpg) -> None:
        super().__init__("groups", parent)

    def build(self) -> None:
        for g in self.tpg().groups:
            UIGroup(g.name, self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.groups(self.tpg())

    def ui_command_create(self, name: str, *initiators: str, **auth: str) -> None:
        """create NAME [WWN...] [userid=U password=P [mutual_userid=U mutual_password=P]]: an initiator group."""
        unknown = sorted(set(auth) - {"userid", "password", "mutual_userid", "mutual_password"})
        if unknown:
            raise ExecutionError(f"unknown parameter(s): {', '.join(unknown)}")
        self.call(f"Created group {name}.", iscsi.create_group, self.iqn, name, list(initiators), self.tag,
                  **_auth_args(*(auth.get(k) for k in ("userid", "password", "mutual_userid", "mutual_password"))))

    def ui_command_delete(self, name: str) -> None:
        """delete NAME: its initiators lose access."""
        self.call(f"Deleted group {name}.", iscsi.delete_group, self.iqn, name, self.tag)


class UIGroup(SanNode):
    def __init__(self, name: str, parent: UIGroups) -> None:
        super().__init__(name, parent)
        self.iqn, self.tag = parent.iqn, parent.tag

    def group(self) -> InitiatorGroup:
        tpg = tpg_of(self.config().target(self.iqn), self.tag)
        return next(g for g in tpg.groups if g.name == self.name)

    def summary(self) -> tuple[str, bool | None]:
        return listing.group(self.group())

    def ui_command_add(self, wwn: str) -> None:
        """add WWN: put an initiator in the group."""
        members = [*self.group().initiators, wwn]
        self.call(f"Added {wwn}.", iscsi.edit_group, self.iqn, self.name, self.tag, initiators=members)

    def ui_command_remove(self, wwn: str) -> None:
        """remove WWN: take an initiator out of the group."""
        members = [i for i in self.group().initiators if i != wwn.lower()]
        self.call(f"Removed {wwn}.", iscsi.edit_group, self.iqn, self.name, self.tag, initiators=members)

    def ui_command_map(self, mapped_lun: str, tpg_lun: str, write_protect: str = "false") -> None:
        """map MAPPED_LUN TPG_LUN [write_protect=true|false]: show a LUN to every member."""
        mapped = [(m.mapped_lun, m.tpg_lun, m.write_protect) for m in self.group().mapped_luns]
        mapped.append((self.parse_int(mapped_lun, "mapped_lun"), self.parse_int(tpg_lun, "tpg_lun"),
                       self.parse_bool(write_protect, "write_protect")))
        self.call(f"Mapped LUN {tpg_lun} as {mapped_lun}.", iscsi.edit_group, self.iqn, self.name, self.tag,
                  mapped_luns=mapped)

    def ui_command_unmap(self, mapped_lun: str) -> None:
        """unmap MAPPED_LUN: hide a LUN from the members."""
        number = self.parse_int(mapped_lun, "mapped_lun")
        mapped = [(m.mapped_lun, m.tpg_lun, m.write_protect) for m in self.group().mapped_luns
                  if m.mapped_lun != number]
        self.call(f"Unmapped LUN {mapped_lun}.", iscsi.edit_group, self.iqn, self.name, self.tag, mapped_luns=mapped)

    def ui_command_auth(self, userid: str = "", password: str = "", mutual_userid: str = "",
                        mutual_password: str = "") -> None:
        """auth userid=U password=P [mutual_userid=U mutual_password=P]: CHAP for every member ('' clears)."""
        chap = (userid, password, mutual_userid, mutual_password) if userid else None
        self.call("Set group CHAP.", iscsi.edit_group, self.iqn, self.name, self.tag, chap=chap)


class UIPortals(_TpgChild):
    """Addresses the TPG listens on (0.0.0.0 for all)."""

    def __init__(self, parent: UITpg) -> None:
        super().__init__("portals", parent)

    def build(self) -> None:
        for p in self.tpg().portals:
            UIPortal(str(p), self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.portals(self.tpg())

    def ui_command_create(self, ip_address: str, ip_port: str = "3260") -> None:
        """create IP_ADDRESS [IP_PORT]: listen there too."""
        self.call(f"Created portal {ip_address}:{ip_port}.", iscsi.create_portal, self.iqn, ip_address,
                  self.parse_int(ip_port, "ip_port"), self.tag)

    def ui_command_delete(self, ip_address: str, ip_port: str = "3260") -> None:
        """delete IP_ADDRESS [IP_PORT]: stop listening there."""
        self.call(f"Deleted portal {ip_address}:{ip_port}.", iscsi.delete_portal, self.iqn, ip_address,
                  self.parse_int(ip_port, "ip_port"), self.tag)


class UIPortal(SanNode):
    def __init__(self, name: str, parent: SanNode) -> None:
        super().__init__(name, parent)

    def summary(self) -> tuple[str, bool | None]:
        return "", True


__all__ = ["ExecutionError", "UIIscsi"]
