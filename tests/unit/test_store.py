import json
import threading
import time

import pytest

from sanappliance.apply.store import KEEP_BACKUPS, ConfigStore
from sanappliance.errors import SanError
from sanappliance.model.config import Config, Volume, VolumeKind
from sanappliance.model.upgrade import upgrade


def vol(name):
    return Volume(name, VolumeKind.RAMDISK, 2**20)


def test_missing_file_is_an_empty_config(tmp_path):
    assert ConfigStore(tmp_path).load() == Config()


def test_save_is_private_and_counts_generations(tmp_path):
    store = ConfigStore(tmp_path / "etc")
    saved = store.save(Config(volumes=(vol("a"),)), 0)
    assert saved.generation == 1 and store.load() == saved
    assert (tmp_path / "etc" / "config.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "etc").stat().st_mode & 0o777 == 0o700
    with pytest.raises(SanError) as err:
        store.save(Config(volumes=(vol("b"),)), 0)  # based on a stale generation
    assert err.value.field == "generation"
    assert store.load() == saved


def test_backups_on_each_replacement_capped(tmp_path, monkeypatch):
    store = ConfigStore(tmp_path)
    config = store.load()
    for i in range(KEEP_BACKUPS + 5):
        config = store.save(Config(volumes=(vol(f"v{i}"),)), config.generation)
    backups = store.list_backups()
    assert len(backups) == KEEP_BACKUPS
    assert store.read_backup(backups[-1]).volumes[0].name == f"v{KEEP_BACKUPS + 3}"
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in backups)


def test_bad_files_name_what_is_wrong(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(SanError) as err:
        ConfigStore(tmp_path).load()
    assert "not valid JSON" in str(err.value)
    (tmp_path / "config.json").write_text(json.dumps({"schema": 99}))
    with pytest.raises(SanError) as err:
        ConfigStore(tmp_path).load()
    assert "newer sanappliance" in str(err.value)
    (tmp_path / "config.json").write_text(json.dumps({"schema": 1, "volumes": [{"name": "x"}]}))
    with pytest.raises(SanError) as err:
        ConfigStore(tmp_path).load()
    assert err.value.field == "config.volumes[0].kind"


def test_upgrade_steps_run_in_order():
    steps = {1: lambda d: {**d, "added_in_2": True}, 2: lambda d: {"schema": d["schema"], "renamed": d["added_in_2"]}}
    assert upgrade({"schema": 1}, steps, current=3) == {"schema": 3, "renamed": True}
    with pytest.raises(SanError):
        upgrade({"schema": 0}, steps, current=3)
    with pytest.raises(SanError):
        upgrade({}, steps, current=3)


def test_operation_lock_is_exclusive(tmp_path, monkeypatch):
    monkeypatch.setenv("SANAPPLIANCE_RUN_DIR", str(tmp_path / "run"))
    store = ConfigStore(tmp_path)
    order = []

    def hold():
        with store.lock():
            order.append("first in")
            time.sleep(0.3)
            order.append("first out")

    thread = threading.Thread(target=hold)
    thread.start()
    time.sleep(0.1)
    with store.lock():
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]
    with store.lock():
        with pytest.raises(SanError):
            with ConfigStore(tmp_path).lock(timeout=0.2):
                pass
