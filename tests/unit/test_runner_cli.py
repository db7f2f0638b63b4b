import pytest

from sanappliance import __version__
from sanappliance.apply.files import write_atomic
from sanappliance.apply.runner import run, tool
from sanappliance.cli import main
from sanappliance.errors import SanError


def test_run_needs_absolute_path():
    with pytest.raises(SanError) as err:
        run(["true"])
    assert err.value.field == "argv"


def test_run_failure_carries_stderr():
    with pytest.raises(SanError) as err:
        run([tool("sh"), "-c", "echo broken >&2; exit 3"])
    assert "exit code 3" in str(err.value) and "broken" in str(err.value)
    assert run([tool("sh"), "-c", "exit 3"], check=False).returncode == 3


def test_missing_tool_names_package():
    with pytest.raises(SanError) as err:
        tool("no-such-tool-xyz", "some-package")
    assert "some-package" in str(err.value)


def test_write_atomic_is_private(tmp_path):
    target = tmp_path / "sub" / "secret.json"
    write_atomic(target, "{}")
    assert target.read_text() == "{}"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["secret.json"]


def test_sanctl_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sanctl {__version__}"


@pytest.mark.parametrize("argv, remote", [
    (["ls"], True), (["/iscsi", "create"], True), (["--dry-run", "/volumes", "delete", "v1"], True),
    ([], False), (["--dry-run"], False), (["system", "restore"], False), (["--version"], False), (["-h"], False)])
def test_which_commands_the_command_server_runs(argv, remote, monkeypatch):
    """One-shot commands go to the server when it answers; the interactive shell and boot-time actions never do."""
    import sanappliance.apply.forkserver as forkserver
    import sanappliance.cli as cli

    sent = []
    monkeypatch.setattr(forkserver, "run_remote", lambda args: sent.append(args) or 5)
    monkeypatch.setattr(cli, "run_here", lambda args: 7)
    assert main(argv) == (5 if remote else 0 if argv[:1] in (["--version"], ["-h"]) else 7)
    assert sent == ([argv] if remote else [])


def test_without_a_server_the_command_runs_here(monkeypatch):
    import sanappliance.apply.forkserver as forkserver
    import sanappliance.cli as cli

    monkeypatch.setattr(forkserver, "run_remote", lambda args: None)
    monkeypatch.setattr(cli, "run_here", lambda args: 3)
    assert main(["/iscsi", "ls"]) == 3
