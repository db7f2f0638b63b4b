"""A build made of flat, named steps, each cached by the content of what it is made from.

A step's key hashes its parent's key, its own source code and its declared inputs (strings and files). A step whose
output directory for that key exists is skipped; a step builds into a `.partial` directory that is renamed only on
success, so an interrupted build leaves nothing that a later run mistakes for a finished step.
"""

from __future__ import annotations

import hashlib
import inspect
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

StepFn = Callable[..., None]


def hash_tree(paths: Iterable[Path]) -> str:
    """Content hash of files and directory trees (names, modes and bytes; caches and bytecode are left out)."""
    digest = hashlib.sha256()
    for top in sorted(Path(p) for p in paths):
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file() or p.is_symlink())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc" or ".egg-info" in str(path):
                continue
            digest.update(str(path.relative_to(top.parent)).encode() + b"\0")
            if path.is_symlink():
                digest.update(b"L" + str(path.readlink()).encode())
            else:
                digest.update(oct(path.stat().st_mode & 0o777).encode() + path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Step:
    name: str
    fn: StepFn  # called as fn(output_dir, *args); its source text is part of the key
    args: tuple[object, ...] = ()
    inputs: tuple[str, ...] = ()  # strings that change the result: versions, URIs, content hashes

    def key(self, parent_key: str) -> str:
        digest = hashlib.sha256()
        for part in (parent_key, self.name, inspect.getsource(self.fn), *self.inputs):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest()[:16]


@dataclass
class StepCache:
    """Runs steps in order under `cache_dir`; prints progress and timings to `out`."""

    cache_dir: Path
    out: object = field(default=sys.stdout)
    timings: dict[str, float] = field(default_factory=dict)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)  # type: ignore[arg-type]

    def run(self, step: Step, parent_key: str = "") -> tuple[Path, str]:
        key = step.key(parent_key)
        done = self.cache_dir / f"{step.name}-{key}"
        if done.is_dir():
            self.say(f"[{step.name}] cached ({done.name})")
            self.timings[step.name] = 0.0
            return done, key
        partial = done.with_name(done.name + ".partial")
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        self.say(f"[{step.name}] building ...")
        started = time.monotonic()
        step.fn(partial, *step.args)
        partial.rename(done)
        elapsed = time.monotonic() - started
        self.timings[step.name] = elapsed
        self.say(f"[{step.name}] done in {elapsed:.1f} s")
        self.prune(step.name, keep=done)
        return done, key

    def prune(self, name: str, keep: Path) -> None:
        """Drop older results of the same step: only the newest is kept, so the cache does not grow without end."""
        for old in self.cache_dir.glob(f"{name}-*"):
            if old != keep and old.is_dir() and len(old.name) in (len(keep.name), len(keep.name) + len(".partial")):
                shutil.rmtree(old, ignore_errors=True)
