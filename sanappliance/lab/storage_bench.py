"""The storage core's benchmark, run inside one appliance VM: 10 targets x 100 fileio LUNs, 2 ACLs per target.

Measured in the same run against the stock tools on the same node: cold apply from the saved configuration versus
`targetctl restore` of the equivalent saveconfig.json; adding one LUN (volume + LUN + ACL mappings) with `sanctl`
one-shot versus `targetcli` one-shot; `sanctl ls` of the whole tree; saving the configuration; removing one 100-LUN
target with `sanctl` versus `targetcli`. GUEST_SCRIPT runs in the guest and prints one JSON object.
"""

from __future__ import annotations

GUEST_SCRIPT = r'''
import json, subprocess, time, uuid
from sanappliance.apply.store import ConfigStore
from sanappliance.model.config import Acl, Config, Lun, MappedLun, Target, Tpg, Volume, VolumeKind

TARGETS, LUNS = 10, 100
QUICK = False  # True: only sanctl's own numbers, no stock-tool baselines
results = {"targets": TARGETS, "luns_per_target": LUNS}

def timed(name, argv):
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True)
    results[name] = round(time.monotonic() - started, 2)
    if done.returncode != 0:
        raise SystemExit(f"{name}: {argv} failed: {done.stderr[-500:]}")
    return done.stdout

volumes, targets = [], []
for t in range(TARGETS):
    luns = []
    for n in range(LUNS):
        name = f"t{t}v{n}"
        volumes.append(Volume(name, VolumeKind.FILEIO, 2**20, wwn=str(uuid.uuid4())))
        luns.append(Lun(n, name))
    mapped = tuple(MappedLun(n, n) for n in range(LUNS))
    acls = tuple(Acl(f"iqn.1994-05.com.example:t{t}-host{h}", mapped) for h in range(2))
    targets.append(Target(f"iqn.2026-11.org.sanappliance:bench{t}", (Tpg(luns=tuple(luns), acls=acls),)))
store = ConfigStore()
config = Config(volumes=tuple(volumes), targets=tuple(targets))
saved = store.save(config, store.load().generation)

timed("sanctl_cold_apply_s", ["/usr/bin/sanctl", "system", "restore"])
timed("sanctl_ls_s", ["/usr/bin/sanctl", "ls"])
timed("sanctl_ls_without_server_s", ["/usr/bin/env", "SANCTL_NO_SERVER=1", "/usr/bin/sanctl", "ls"])
started = time.monotonic()
saved = store.save(saved, saved.generation)
results["save_config_s"] = round(time.monotonic() - started, 3)
timed("sanctl_converged_restore_s", ["/usr/bin/sanctl", "system", "restore"])

if not QUICK:
    timed("targetctl_save_s", ["/usr/bin/targetctl", "save", "/root/bench-saveconfig.json"])
    timed("targetctl_clear_s", ["/usr/bin/targetctl", "clear"])
    timed("targetctl_restore_s", ["/usr/bin/targetctl", "restore", "/root/bench-saveconfig.json"])
    timed("targetctl_clear_again_s", ["/usr/bin/targetctl", "clear"])
    timed("sanctl_cold_apply_again_s", ["/usr/bin/sanctl", "system", "restore"])

t0 = "iqn.2026-11.org.sanappliance:bench0"
for key, prefix, name in (("sanctl_add_one_lun_s", [], "extra1"),
                          ("sanctl_add_one_lun_without_server_s", ["/usr/bin/env", "SANCTL_NO_SERVER=1"], "extra3")):
    started = time.monotonic()
    for argv in ([*prefix, "/usr/bin/sanctl", "/volumes", "create", name, "1M", "kind=fileio"],
                 [*prefix, "/usr/bin/sanctl", f"/iscsi/{t0}/tpg1/luns", "create", name]):
        subprocess.run(argv, check=True, capture_output=True)
    results[key] = round(time.monotonic() - started, 2)
timed("sanctl_delete_100_lun_target_s", ["/usr/bin/sanctl", "/iscsi", "delete", "iqn.2026-11.org.sanappliance:bench8"])
if QUICK:
    print(json.dumps(results))
    raise SystemExit(0)
started = time.monotonic()
for argv in (["/usr/bin/targetcli", "/backstores/fileio", "create", "name=extra2",
              "file_or_dev=/var/lib/sanappliance/fileio/extra2.img", "size=1M"],
             ["/usr/bin/targetcli", f"/iscsi/{t0}/tpg1/luns", "create", "/backstores/fileio/extra2"]):
    subprocess.run(argv, check=True, capture_output=True)
results["targetcli_add_one_lun_s"] = round(time.monotonic() - started, 2)
timed("targetcli_delete_100_lun_target_s", ["/usr/bin/targetcli", "/iscsi", "delete",
                                            "iqn.2026-11.org.sanappliance:bench9"])

results["cold_apply_speedup"] = round(results["targetctl_restore_s"] / results["sanctl_cold_apply_s"], 1)
results["add_one_lun_speedup"] = round(results["targetcli_add_one_lun_s"] / results["sanctl_add_one_lun_s"], 1)
results["add_one_lun_speedup_without_server"] = round(results["targetcli_add_one_lun_s"]
                                                      / results["sanctl_add_one_lun_without_server_s"], 1)
results["delete_target_speedup"] = round(results["targetcli_delete_100_lun_target_s"]
                                         / results["sanctl_delete_100_lun_target_s"], 1)
print(json.dumps(results))
'''
