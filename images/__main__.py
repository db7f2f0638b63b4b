"""`python -m sanappliance.images build [--iso] [--no-lab]`: build the appliance lab image and/or live ISO."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sanappliance.errors import SanError

from .build import BuildConfig, build, host_mirror


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sanappliance.images", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the lab image (default) and/or the ISO")
    b.add_argument("--build-dir", type=Path, default=Path("build"))
    b.add_argument("--source-dir", type=Path, default=Path("."))
    b.add_argument("--iso", action="store_true", help="also build the live ISO")
    b.add_argument("--no-lab", action="store_true", help="skip the lab image")
    b.add_argument("--mirror", help="Debian archive URI (default: the host's apt configuration)")
    b.add_argument("--report", type=Path, help="write timings and output paths as JSON here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        cfg = BuildConfig(source_dir=args.source_dir.resolve(), build_dir=args.build_dir.resolve(),
                          mirror=(args.mirror or host_mirror()).rstrip("/"))
        result = build(cfg, iso=args.iso, lab=not args.no_lab)
    except SanError as exc:
        print(f"image build failed: {exc}", file=sys.stderr)
        return 1
    result["total_seconds"] = round(time.monotonic() - started, 1)
    if "iso" in result:
        result["iso_bytes"] = Path(str(result["iso"])).stat().st_size
    print(f"image build finished in {result['total_seconds']} s")
    for name in ("lab", "iso"):
        if name in result:
            print(f"  {name}: {result[name]}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
