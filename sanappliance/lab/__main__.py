"""`python -m sanappliance.lab`: boot appliance nodes, run commands in them, attach to a console, measure boots.

  up [--nodes N] [--iso] [--uefi]   boot N nodes (1: the single-node embedded default) and keep them until Ctrl-C
  exec NODE -- COMMAND...           run a command in a node of the running lab (exit code and output passed back)
  console NODE                      the node's serial console (Ctrl-] leaves)
  bench --out FILE                  boot-to-ready and memory of one node and of two nodes, as JSON
  bench-storage --out FILE          the storage core with 1000 LUNs against targetctl/targetcli, as JSON
  bench-api --out FILE              the targetd API: round trips, export_list with 1000 exports, as JSON
  bench-failover --out FILE         power-off failovers of a replicated pool: the appliance's target agent with
                                    1/64/256 LUNs against the stock iSCSITarget + iSCSILogicalUnit with 1/16/64
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import sys
import termios
import time
import tty
from pathlib import Path

from sanappliance.errors import SanError

from .channels import GuestAgent
from .lab import Lab
from .spec import Boot, Disk, Firmware, Forward, Images, LabSpec, NodeSpec, default_networks

# Guest ports the appliance serves: iSCSI, the targetd API, the web page.
APPLIANCE_PORTS = (3260, 18700, 443)


def lab_spec(nodes: int, *, iso: bool = False, uefi: bool = False) -> LabSpec:
    """The standard lab: N nodes, a cluster and a replication network, a shared disk when N > 1, a data disk each."""
    boot = Boot.ISO if iso else Boot.LAB
    firmware = Firmware.UEFI if uefi else Firmware.BIOS
    networks = default_networks("cluster", "repl") if nodes > 1 else ()
    specs = tuple(
        NodeSpec(f"node{i}", disks=(Disk("data1", "2G"),), networks=tuple(n.name for n in networks),
                 forwards=tuple(Forward(p) for p in APPLIANCE_PORTS), boot=boot, firmware=firmware)
        for i in range(1, nodes + 1))
    shared = (Disk("shared0", "256M"),) if nodes > 1 else ()
    return LabSpec(nodes=specs, networks=networks, shared_disks=shared)


def cmd_up(args: argparse.Namespace) -> int:
    workdir = args.workdir
    lab = Lab(lab_spec(args.nodes, iso=args.iso, uefi=args.uefi), Images.from_build_dir(args.build_dir), workdir)
    print(f"booting {args.nodes} appliance node(s) under qemu; console logs in {workdir.resolve()}/NODE/", flush=True)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        lab.start()
        for node in lab.nodes.values():
            node.agent.close()  # qemu serves one agent client at a time: leave it to `exec`
        print(f"ready in {lab.boot_seconds:.0f} s\n")
        for name, node in lab.nodes.items():
            print(f"{name}:")
            for host, guest in node.wiring.forwards:
                print(f"  guest port {guest:<5} -> 127.0.0.1:{host}")
            for net, _tap in node.wiring.taps:
                print(f"  {net} network address {lab.address(name, net)}")
            where = f"{sys.executable} -m sanappliance.lab --workdir {workdir}"
            print(f"  shell:   {where} console {name}     (Ctrl-] leaves)")
            print(f"  command: {where} exec {name} -- sanctl --version")
        print("\nCtrl-C stops the lab.", flush=True)
        while not stop["now"] and all(n.alive() for n in lab.nodes.values()):
            time.sleep(1)
        dead = [n for n, node in lab.nodes.items() if not node.alive()]
        if dead:
            print(f"node(s) {', '.join(dead)} powered off")
    except KeyboardInterrupt:
        pass
    except SanError as exc:
        print(f"lab failed: {exc}", file=sys.stderr)
        lab.close(keep=True)
        return 1
    print("stopping the lab ...", flush=True)
    for node in lab.nodes.values():
        node.power_off(timeout=30)
    lab.close()
    return 0


def _state(workdir: Path) -> dict:
    try:
        return json.loads((workdir / "lab.json").read_text())
    except OSError as exc:
        raise SanError("no running lab (start one with `make lab`)", field="lab", value=str(workdir)) from exc


def _node_state(workdir: Path, node: str) -> dict:
    state = _state(workdir)
    if node not in state["nodes"]:
        raise SanError("no such node in the running lab", field="node", value=node)
    return state["nodes"][node]


def cmd_exec(args: argparse.Namespace) -> int:
    agent = GuestAgent(Path(_node_state(args.workdir, args.node)["agent"]))
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        raise SanError("no command given", field="command")
    if not argv[0].startswith("/"):
        argv = ["/usr/bin/env", *argv]
    result = agent.exec(argv, timeout=args.timeout)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


def cmd_console(args: argparse.Namespace) -> int:
    path = _node_state(args.workdir, args.node)["console"]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    print(f"connected to {args.node}'s console; Ctrl-] leaves", flush=True)
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd) if os.isatty(fd) else None
    try:
        if saved is not None:
            tty.setraw(fd)
        sock.sendall(b"\r")
        while True:
            ready, _, _ = select.select([fd, sock], [], [])
            if sock in ready:
                data = sock.recv(4096)
                if not data:
                    break
                os.write(sys.stdout.fileno(), data)
            if fd in ready:
                data = os.read(fd, 1024)
                if not data or b"\x1d" in data:
                    break
                sock.sendall(data)
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sock.close()
    print()
    return 0


def _report(path: Path, results: dict[str, object]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Boot-to-ready time and memory of one node, then of two nodes at once (TCG timings on this host)."""
    images = Images.from_build_dir(args.build_dir)
    results: dict[str, object] = {"host_cores": os.cpu_count()}
    for count in (1, 2):
        lab = Lab(lab_spec(count), images, args.build_dir / "runs" / f"bench-{count}")
        try:
            lab.start()
            nodes = {}
            for name, node in lab.nodes.items():
                used = node.sh("free -m | awk '/^Mem:/ {print $3}'").stdout.strip()
                nodes[name] = {"ready_seconds": round(node.ready_seconds or 0, 1), "guest_used_mib": int(used),
                               "guest_memory_mib": node.spec.memory_mib, "vcpus": node.wiring.vcpus,
                               "host_rss_mib": round(node.rss_bytes() / 2**20)}
            results[f"{count}_node"] = {"all_ready_seconds": round(lab.boot_seconds or 0, 1),
                                        "accel": next(iter(lab.nodes.values())).wiring.accel, "nodes": nodes}
        finally:
            lab.destroy()
    return _report(args.out, results)


def cmd_bench_storage(args: argparse.Namespace) -> int:
    """The storage core against targetctl/targetcli with 1000 LUNs, in one VM (see storage_bench.py)."""
    from .storage_bench import GUEST_SCRIPT

    spec = LabSpec(nodes=(NodeSpec("bench", memory_mib=1536),))
    lab = Lab(spec, Images.from_build_dir(args.build_dir), args.build_dir / "runs" / "bench-storage")
    try:
        lab.start()
        script = GUEST_SCRIPT.replace("QUICK = False", f"QUICK = {bool(args.quick)}")
        result = lab.node("bench").run(["/usr/bin/python3", "-"], input=script, timeout=5400, check=True)
        results = json.loads(result.stdout.strip().splitlines()[-1])
        results["accel"] = lab.node("bench").wiring.accel
    finally:
        lab.destroy()
    return _report(args.out, results)


def cmd_bench_api(args: argparse.Namespace) -> int:
    """The targetd API from the host through the loopback forward: round trips, export_list with 1000 exports."""
    from . import api_bench

    spec = LabSpec(nodes=(NodeSpec("bench", memory_mib=1536, disks=(Disk("data1", "4G"),),
                                   forwards=(Forward(18700),)),))
    workdir = args.build_dir / "runs" / "bench-api"
    lab = Lab(spec, Images.from_build_dir(args.build_dir), workdir)
    try:
        lab.start()
        results = api_bench.run(lab, "bench", workdir / "targetd.crt")
        results["accel"] = lab.node("bench").wiring.accel
    finally:
        lab.destroy()
    return _report(args.out, results)


def cmd_bench_failover(args: argparse.Namespace) -> int:
    """Failover times of a replicated pool, appliance agent against the stock agents (see failover_bench.py)."""
    from . import failover_bench

    def counts(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
        return default if text is None else tuple(int(n) for n in text.split(",") if n)

    appliance = counts(args.appliance, failover_bench.APPLIANCE_LUNS)
    stock = counts(args.stock, failover_bench.STOCK_LUNS)
    workdir = args.build_dir / "runs" / "bench-failover"
    results = failover_bench.run(Images.from_build_dir(args.build_dir), workdir, appliance=appliance, stock=stock)
    return _report(args.out, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sanappliance.lab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=Path("build"))
    parser.add_argument("--workdir", type=Path, help="the running lab's folder (default: BUILD_DIR/runs/current)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="boot the lab and keep it running until Ctrl-C")
    up.add_argument("--nodes", type=int, default=1, choices=range(1, 4))
    up.add_argument("--iso", action="store_true", help="boot the live ISO instead of the lab image")
    up.add_argument("--uefi", action="store_true", help="with --iso: UEFI firmware (OVMF)")
    up.set_defaults(fn=cmd_up)
    ex = sub.add_parser("exec", help="run a command inside a node of the running lab")
    ex.add_argument("node")
    ex.add_argument("--timeout", type=float, default=600)
    ex.add_argument("command", nargs=argparse.REMAINDER)
    ex.set_defaults(fn=cmd_exec)
    con = sub.add_parser("console", help="attach to a node's serial console")
    con.add_argument("node")
    con.set_defaults(fn=cmd_console)
    bench = sub.add_parser("bench", help="measure boot-to-ready time and memory")
    bench.add_argument("--out", type=Path, default=Path("bench-results/lab.json"))
    bench.set_defaults(fn=cmd_bench)
    bench_storage = sub.add_parser("bench-storage", help="the storage core against targetctl/targetcli, 1000 LUNs")
    bench_storage.add_argument("--out", type=Path, default=Path("bench-results/storage.json"))
    bench_storage.add_argument("--quick", action="store_true", help="sanctl only, without the stock-tool baselines")
    bench_api = sub.add_parser("bench-api", help="the targetd API: round trips and export_list with 1000 exports")
    bench_api.add_argument("--out", type=Path, default=Path("bench-results/api.json"))
    bench_api.set_defaults(fn=cmd_bench_api)
    bench_storage.set_defaults(fn=cmd_bench_storage)
    bench_failover = sub.add_parser("bench-failover", help="power-off failovers: appliance agent against stock agents")
    bench_failover.add_argument("--out", type=Path, default=Path("bench-results/failover.json"))
    bench_failover.add_argument("--appliance", help="LUN counts for the appliance's agent (default 1,64,256)")
    bench_failover.add_argument("--stock", help="LUN counts for the stock agents (default 1,16,64; '' for none)")
    bench_failover.set_defaults(fn=cmd_bench_failover)
    args = parser.parse_args(argv)
    args.workdir = (args.workdir or args.build_dir / "runs" / "current").resolve()
    try:
        return args.fn(args)
    except SanError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
