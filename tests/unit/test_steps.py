import io
from pathlib import Path

from sanappliance.images.steps import Step, StepCache, hash_tree


def make_file(out: Path, text: str) -> None:
    (out / "result").write_text(text)


def fail(out: Path) -> None:
    (out / "half").write_text("x")
    raise RuntimeError("boom")


def test_unchanged_step_is_skipped(tmp_path):
    log = io.StringIO()
    cache = StepCache(tmp_path, out=log)
    first, key1 = cache.run(Step("one", make_file, ("a",), ("a",)))
    (first / "result").write_text("marker")  # a rebuild would overwrite it
    again, key2 = cache.run(Step("one", make_file, ("a",), ("a",)))
    assert key1 == key2 and again == first
    assert (again / "result").read_text() == "marker"
    assert "[one] cached" in log.getvalue()


def test_changed_input_rebuilds_and_prunes_old(tmp_path):
    cache = StepCache(tmp_path, out=io.StringIO())
    old, _ = cache.run(Step("one", make_file, ("a",), ("a",)))
    new, _ = cache.run(Step("one", make_file, ("b",), ("b",)))
    assert new != old and not old.exists()
    assert (new / "result").read_text() == "b"


def test_parent_key_changes_child_key(tmp_path):
    step = Step("child", make_file, ("c",))
    assert step.key("parent1") != step.key("parent2")


def test_failed_step_leaves_no_finished_output(tmp_path):
    cache = StepCache(tmp_path, out=io.StringIO())
    try:
        cache.run(Step("bad", fail))
    except RuntimeError:
        pass
    assert not [p for p in tmp_path.iterdir() if not p.name.endswith(".partial")]
    # the next run starts from a clean partial directory
    done, _ = cache.run(Step("bad", make_file, ("ok",)))
    assert not (done / "half").exists()


def test_hash_tree_sees_content_and_mode(tmp_path):
    (tmp_path / "d").mkdir()
    f = tmp_path / "d" / "f.sh"
    f.write_text("echo 1\n")
    h1 = hash_tree([tmp_path / "d"])
    f.write_text("echo 2\n")
    h2 = hash_tree([tmp_path / "d"])
    f.chmod(0o755)
    h3 = hash_tree([tmp_path / "d"])
    (tmp_path / "d" / "__pycache__").mkdir()
    (tmp_path / "d" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert len({h1, h2, h3}) == 3
    assert hash_tree([tmp_path / "d"]) == h3
