"""The targetd API's benchmark: a client on the host, through the loopback forward to the appliance's daemon (HTTPS).

Round trips of vol_create + export_create + export_destroy + vol_destroy (each call one validated change of LVM and
LIO), and the latency of export_list with 1000 exports (50 volumes, each exported to 20 initiators; set up in one
apply from a saved configuration, since a thousand API calls would take most of an hour under emulation).
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import statistics
import time
from typing import Any

from .lab import Lab

PASSWORD = "bench-api-password-1"
MiB = 2**20

SETUP_1000 = r'''
import json, subprocess, uuid
from dataclasses import replace
from sanappliance.apply.store import ConfigStore
from sanappliance.model.config import Acl, Lun, MappedLun, Target, Tpg, Volume, VolumeKind
store = ConfigStore()
config = store.load()
volumes = tuple(Volume(f"lv{n}", VolumeKind.LV, 4 * 2**20, pool="p1", wwn=str(uuid.uuid4())) for n in range(50))
mapped = tuple(MappedLun(n, n) for n in range(50))
acls = tuple(Acl(f"iqn.1994-05.com.example:bench-host{h}", mapped) for h in range(20))
tpg = Tpg(luns=tuple(Lun(n, f"lv{n}") for n in range(50)), acls=acls)
others = tuple(t for t in config.targets if t.iqn != TARGET)
store.save(replace(config, volumes=config.volumes + volumes, targets=others + (Target(TARGET, (tpg,)),)),
           config.generation)
subprocess.run(["/usr/bin/sanctl", "system", "restore"], check=True, capture_output=True)
print("ok")
'''


class ApiClient:
    def __init__(self, port: int, tls: ssl.SSLContext) -> None:
        self.port, self.tls, self.ids = port, tls, 0
        self.auth = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()

    def call(self, method: str, **params: Any) -> Any:
        self.ids += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params})
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=600)
        try:
            conn.request("POST", "/targetrpc", body, {"Content-Type": "application/json", "Authorization": self.auth})
            reply = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]


def connect(lab: Lab, node: str, cert_file: Any) -> ApiClient:
    n = lab.node(node)
    n.wait_for("systemctl is-active sanappliance-targetd.service", timeout=120)
    n.run(["/usr/bin/python3", "-m", "sanappliance.targetd", "set-password"], input=PASSWORD + "\n", check=True)
    n.run(["/usr/bin/systemctl", "restart", "sanappliance-targetd.service"], check=True)
    cert_file.write_text(n.run(["/bin/cat", "/etc/sanappliance/tls/targetd.crt"], check=True).stdout)
    tls = ssl.create_default_context(cafile=str(cert_file))
    tls.check_hostname = False  # the certificate names the node, the forward is 127.0.0.1; the chain is verified
    client = ApiClient(lab.forward(node, 18700), tls)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.call("pool_list")
            return client
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def run(lab: Lab, node: str, cert_file: Any, cycles: int = 10) -> dict[str, Any]:
    client = connect(lab, node, cert_file)
    n = lab.node(node)
    n.run(["/usr/bin/sanctl", "/pools", "create", "p1", "/dev/disk/by-id/virtio-data1"], check=True, timeout=300)
    results: dict[str, Any] = {"cycles": cycles}
    per_call: dict[str, list[float]] = {m: [] for m in ("vol_create", "export_create", "export_destroy", "vol_destroy")}
    started = time.monotonic()
    for i in range(cycles):
        for method, params in (("vol_create", {"pool": "p1", "name": f"rt{i}", "size": 4 * MiB}),
                               ("export_create", {"pool": "p1", "vol": f"rt{i}", "lun": 0,
                                                  "initiator_wwn": "iqn.1994-05.com.example:rt"}),
                               ("export_destroy", {"pool": "p1", "vol": f"rt{i}",
                                                   "initiator_wwn": "iqn.1994-05.com.example:rt"}),
                               ("vol_destroy", {"pool": "p1", "name": f"rt{i}"})):
            t0 = time.monotonic()
            client.call(method, **params)
            per_call[method].append(time.monotonic() - t0)
    elapsed = time.monotonic() - started
    results["round_trips_per_second"] = round(cycles / elapsed, 3)
    results["round_trip_seconds_mean"] = round(elapsed / cycles, 2)
    results["call_seconds_median"] = {m: round(statistics.median(v), 2) for m, v in per_call.items()}

    target = client.call("san_status")["target_name"]
    t0 = time.monotonic()
    n.run(["/usr/bin/python3", "-"], input=f"TARGET = {target!r}\n" + SETUP_1000, check=True, timeout=3600)
    results["setup_1000_exports_seconds"] = round(time.monotonic() - t0, 1)
    latencies = []
    for _ in range(10):
        t0 = time.monotonic()
        listed = client.call("export_list")
        latencies.append(time.monotonic() - t0)
    results["export_list_count"] = len(listed)
    results["export_list_seconds_median"] = round(statistics.median(latencies), 3)
    results["export_list_seconds_max"] = round(max(latencies), 3)
    return results
