"""The model rendered as the LIO state it asks for (pure)."""

from __future__ import annotations

from sanappliance.model import settings
from sanappliance.model.config import Chap, Config, Volume, VolumeKind
from sanappliance.model.config import Tpg as TpgModel

from .state import NO_CHAP, Acl, LioState, MappedLun, StorageObject, Target, Tpg
from .state import Chap as ChapTuple

PLUGINS = {VolumeKind.LV: "block", VolumeKind.FILEIO: "fileio", VolumeKind.RAMDISK: "rd_mcp"}
# Device attributes a plugin cannot take (rd_mcp has no UNMAP support in the kernel).
UNSUPPORTED = {"rd_mcp": {"emulate_tpu", "emulate_tpws", "max_unmap_lba_count"}}


def chap_tuple(chap: Chap | None) -> ChapTuple:
    if chap is None:
        return NO_CHAP
    return (chap.userid, chap.password, chap.mutual_userid, chap.mutual_password)


def lv_path(vg: str, lv: str) -> str:
    return f"/dev/{vg}/{lv}"


def storage_object(config: Config, volume: Volume) -> StorageObject:
    plugin = PLUGINS[volume.kind]
    table = settings.DEVICE_ATTRIBUTES
    attributes = settings.effective(table, settings.parse_settings(table, volume.attributes, "attributes"))
    for name in UNSUPPORTED.get(plugin, ()):
        attributes.pop(name, None)
    if volume.kind is VolumeKind.LV:
        dev, size = lv_path(config.pool(volume.pool).vg, volume.name), 0
    elif volume.kind is VolumeKind.FILEIO:
        dev, size = volume.file_path, volume.size
    else:
        dev, size = "", volume.size
    return StorageObject(volume.name, plugin, dev, size, volume.wwn, {k: int(v) for k, v in attributes.items()})


def tpg(config: Config, model: TpgModel, keys: dict[str, str]) -> Tpg:
    acls: dict[str, Acl] = {}
    for acl in model.acls:
        mapped = tuple(sorted((MappedLun(m.mapped_lun, m.tpg_lun, m.write_protect) for m in acl.mapped_luns),
                              key=lambda m: m.mapped_lun))
        acls[acl.initiator] = Acl(acl.initiator, "", mapped, chap_tuple(acl.chap))
    for group in model.groups:
        mapped = tuple(sorted((MappedLun(m.mapped_lun, m.tpg_lun, m.write_protect) for m in group.mapped_luns),
                              key=lambda m: m.mapped_lun))
        for initiator in group.initiators:
            wwn = initiator.lower()
            acls[wwn] = Acl(wwn, group.name, mapped, chap_tuple(group.chap))
    attributes = settings.effective(settings.TPG_ATTRIBUTES,
                                    settings.parse_settings(settings.TPG_ATTRIBUTES, model.attributes, "attributes"))
    attributes["authentication"] = int(any(a.chap != NO_CHAP for a in acls.values()) or model.chap is not None)
    if int(attributes.get("generate_node_acls", 0)):
        attributes["cache_dynamic_acls"] = 1  # the kernel turns it on with demo mode and refuses to turn it off
    parameters = settings.effective(settings.TPG_PARAMETERS,
                                    settings.parse_settings(settings.TPG_PARAMETERS, model.parameters, "parameters"))
    parameters["AuthMethod"] = "CHAP" if attributes["authentication"] else "CHAP,None"
    return Tpg(tag=model.tag, enabled=model.enabled,
               portals=tuple(sorted((p.address, p.port) for p in model.portals)),
               luns={lun.lun: keys[lun.volume] for lun in model.luns}, acls=acls,
               attributes={k: int(v) for k, v in attributes.items()},
               parameters={k: str(v) for k, v in parameters.items()}, chap=chap_tuple(model.chap))


def render(config: Config) -> LioState:
    """The LIO state the config asks for. The config must be valid (model.validate)."""
    storage = {so.key: so for so in (storage_object(config, v) for v in config.volumes)}
    keys = {v.name: f"{PLUGINS[v.kind]}/{v.name}" for v in config.volumes}
    targets = {t.iqn: Target(t.iqn, {g.tag: tpg(config, g, keys) for g in t.tpgs}) for t in config.targets}
    return LioState(storage=storage, targets=targets, discovery=chap_tuple(config.discovery.chap))
