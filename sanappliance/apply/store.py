"""The saved desired state: /etc/sanappliance/config.json (0600, atomic writes, a generation counter that refuses a
stale write), compressed backups of each replaced version (the last 10), and the operation lock of every front end."""

from __future__ import annotations

import fcntl
import gzip
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sanappliance.errors import SanError
from sanappliance.model.config import Config

from .files import write_atomic

CONFIG_DIR = Path("/etc/sanappliance")
_PARSED: dict[str, tuple[str, Config]] = {}  # config file -> (its text, that text parsed); Config is immutable
KEEP_BACKUPS = 10


class ConfigStore:
    def __init__(self, directory: Path = CONFIG_DIR) -> None:
        self.directory = Path(directory)
        self.path = self.directory / "config.json"
        self.backups = self.directory / "backups"

    def load(self) -> Config:
        text = self._read()
        return Config() if text is None else self._parse_saved(text)

    def _read(self) -> str | None:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return None

    def _parse_saved(self, text: str) -> Config:
        """The saved file's config; the same text is parsed once per process (one command loads it several times:
        to show, to change, to check the generation before saving)."""
        key = str(self.path)
        cached = _PARSED.get(key)
        if cached is not None and cached[0] == text:
            return cached[1]
        config = self.parse(text, key)
        _PARSED[key] = (text, config)
        return config

    @staticmethod
    def parse(text: str, source: str) -> Config:
        return Config.from_json(text, source)

    def export(self, path: Path) -> Path:
        """The whole saved configuration to a file of the admin's (0600: it holds CHAP secrets)."""
        write_atomic(Path(path), self.load().to_json(pretty=True), mode=0o600)
        return Path(path)

    def read_external(self, path: Path) -> Config:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise SanError(f"cannot read: {exc.strerror}", field="file", value=str(path)) from None
        return self.parse(text, str(path))

    def save(self, config: Config, expected_generation: int) -> Config:
        """Write config as generation expected+1; refuses if the file moved on since `expected_generation`."""
        current_text = self._read()
        current = Config() if current_text is None else self._parse_saved(current_text)
        if current.generation != expected_generation:
            raise SanError(f"the configuration was changed meanwhile (generation {current.generation}, this change "
                           f"was based on {expected_generation}); reload and try again", field="generation",
                           value=expected_generation)
        new = replace(config, generation=expected_generation + 1)
        text = new.to_json()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if current_text is not None:
            self._backup(current_text.encode(), current.generation)
        write_atomic(self.path, text, mode=0o600)
        _PARSED[str(self.path)] = (text, new)
        return new

    def _backup(self, data: bytes, generation: int) -> None:
        self.backups.mkdir(mode=0o700, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        write_atomic(self.backups / f"config-{stamp}-g{generation:06d}.json.gz", packed)
        for old in self.list_backups()[:-KEEP_BACKUPS]:
            old.unlink(missing_ok=True)

    def list_backups(self) -> list[Path]:
        """Oldest first."""
        if not self.backups.is_dir():
            return []
        return sorted(self.backups.glob("config-*.json.gz"), key=lambda p: p.name.rsplit("-g", 1)[-1])

    def read_backup(self, path: Path) -> Config:
        return self.parse(gzip.decompress(path.read_bytes()).decode(), str(path))

    @contextmanager
    def lock(self, timeout: float = 300.0) -> Iterator[None]:
        """The operation lock: one change at a time, whichever front end asks."""
        lock_dir = Path(os.environ.get("SANAPPLIANCE_RUN_DIR", "/run/sanappliance"))
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / "operation.lock", "w") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise SanError("another change is still running", field="lock") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
