"""Runs external commands from argv lists: absolute paths, no shell, output captured, failures as SanError."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sanappliance.errors import SanError


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def tool(name: str, package: str | None = None) -> str:
    """Absolute path of a host tool, or a SanError telling which package provides it."""
    path = shutil.which(name, path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        hint = f" (install the Debian package {package})" if package else ""
        raise SanError(f"required tool {name!r} not found{hint}", field="tool", value=name)
    return path


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
) -> Result:
    """Run argv (argv[0] must be an absolute path). With capture=False the output goes to our own stdout/stderr."""
    argv = tuple(str(a) for a in argv)
    if not argv or not argv[0].startswith("/"):
        raise SanError("commands are run by absolute path", field="argv", value=argv[:1])
    try:
        proc = subprocess.run(
            argv,
            input=input,
            capture_output=capture,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SanError(f"{argv[0]} did not finish within {timeout} s", field="command", value=argv) from exc
    result = Result(argv, proc.returncode, proc.stdout or "", proc.stderr or "")
    if check and proc.returncode != 0:
        detail = _tail(result.stderr or result.stdout)
        raise SanError(
            f"{' '.join(argv[:4])}{' ...' if len(argv) > 4 else ''} failed with exit code {proc.returncode}"
            + (f":\n{detail}" if detail else ""),
            field="command",
            value=argv,
        )
    return result
