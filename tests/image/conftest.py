"""Tests that run the appliance image's own tools (pacemaker 3.0, corosync 3.1, ...) on rendered files, by chroot
into the built root file system: no VM. Every test here is marked `image`; `make check` leaves them out.

Each run gets a private mount namespace: an overlay on the root (the cached root, an input of the image builds, is
never written, not even the tools' temporary files), the test's files bind-mounted on its /tmp, and its own hostname
(corosync -t matches the local host against the node list)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SANAPPLIANCE_BUILD", REPO / "build"))
ROOT_PATTERNS = ("app-*/root", "configure-*/root")  # the finished root, else the one before the app is installed


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.image)


def find_root(build: Path) -> Path | None:
    """The newest built root file system in build/cache (a complete one: it has /usr)."""
    for pattern in ROOT_PATTERNS:
        roots = [p for p in (build / "cache").glob(pattern) if (p / "usr").is_dir()]
        if roots:
            return max(roots, key=lambda p: p.stat().st_mtime)
    return None


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    files: dict[str, str] = field(default_factory=dict)  # the `keep` files of /tmp after the run

    @property
    def output(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"


class ImageRoot:
    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, argv: list[str], files: dict[str, str | bytes] | None = None, *, hostname: str = "node1",
            etc_corosync: dict[str, str | bytes] | None = None, env: dict[str, str] | None = None,
            keep: tuple[str, ...] = (), timeout: float = 30) -> Result:
        """Run argv in the root with `files` in its /tmp (and `etc_corosync` in /etc/corosync). Nothing stays
        behind: the overlay, the files and the namespace go when the command ends."""
        with tempfile.TemporaryDirectory(prefix="image-test-") as work:
            base = Path(work)
            for name in ("upper", "work", "merged", "tmp", "corosync"):
                (base / name).mkdir()
            for folder, content in (("tmp", files or {}), ("corosync", etc_corosync or {})):
                for name, data in content.items():
                    path = base / folder / name
                    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
            merged = base / "merged"
            q = shlex.quote
            script = [f"mount -t overlay overlay -o lowerdir={q(str(self.root))},upperdir={q(str(base / 'upper'))},"
                      f"workdir={q(str(base / 'work'))} {q(str(merged))}",
                      f"mount --bind {q(str(base / 'tmp'))} {q(str(merged / 'tmp'))}"]
            if etc_corosync is not None:
                script.append(f"mount --bind {q(str(base / 'corosync'))} {q(str(merged / 'etc/corosync'))}")
            script += [f"hostname {q(hostname)}", f'exec chroot {q(str(merged))} "$@"']
            envs = [f"{k}={v}" for k, v in (env or {}).items()]
            proc = subprocess.run(["unshare", "--mount", "--uts", "sh", "-ec", " && ".join(script), "sh",
                                   *(["/usr/bin/env", *envs] if envs else []), *argv],
                                  capture_output=True, text=True, timeout=timeout, check=False)
            kept = {name: (base / "tmp" / name).read_text() for name in keep if (base / "tmp" / name).exists()}
            return Result(proc.returncode, proc.stdout, proc.stderr, kept)


@pytest.fixture(scope="session")
def image_root() -> ImageRoot:
    root = find_root(BUILD)
    if root is None:
        pytest.skip(f"no built appliance root in {BUILD / 'cache'} (app-*/root or configure-*/root): run `make image`")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.fail("the image tests need root and unshare(1) (mount namespace, overlay, chroot)")
    return ImageRoot(root)
