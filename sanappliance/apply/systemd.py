"""systemd through D-Bus (dbus-python): enable units and start, stop or restart them, waiting for the job."""

from __future__ import annotations

import time
from typing import Any

from sanappliance.errors import SanError

SYSTEMD = "org.freedesktop.systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"
PROPERTIES = "org.freedesktop.DBus.Properties"


class Systemd:
    def __init__(self) -> None:
        try:
            import dbus
        except ImportError as exc:  # pragma: no cover - the appliance has python3-dbus
            raise SanError("python3-dbus is not installed", field="dbus") from exc
        self._dbus = dbus
        self.bus = dbus.SystemBus()
        self.manager = dbus.Interface(self.bus.get_object(SYSTEMD, "/org/freedesktop/systemd1"), MANAGER)

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except self._dbus.DBusException as exc:
            raise SanError(f"systemd refused to {what}: {exc.get_dbus_message()}", field="unit",
                           value=args[0] if args else None) from None

    def enable(self, *units: str) -> None:
        self._call("enable", self.manager.EnableUnitFiles, list(units), False, True)
        self._call("reload", self.manager.Reload)

    def disable(self, *units: str) -> None:
        self._call("disable", self.manager.DisableUnitFiles, list(units), False)
        self._call("reload", self.manager.Reload)

    def state(self, unit: str) -> str:
        """ActiveState: active, inactive, failed, activating, deactivating."""
        path = self._call("load", self.manager.LoadUnit, unit)
        props = self._dbus.Interface(self.bus.get_object(SYSTEMD, path), PROPERTIES)
        return str(props.Get(UNIT, "ActiveState"))

    def _job(self, verb: str, method: Any, unit: str, want: tuple[str, ...], timeout: float) -> None:
        """Queue the job, wait until systemd has finished it, then check the unit's state."""
        job = str(self._call(f"{verb} {unit}", method, unit, "replace"))
        deadline = time.monotonic() + timeout
        while job in {str(j[4]) for j in self._call("list jobs", self.manager.ListJobs)}:
            if time.monotonic() > deadline:
                raise SanError(f"{unit} did not {verb} within {timeout:.0f} s; see journalctl -u {unit}",
                               field="unit", value=unit)
            time.sleep(0.5)
        state = self.state(unit)
        if state not in want:
            raise SanError(f"{unit} did not {verb} (state {state}); see journalctl -u {unit}", field="unit",
                           value=unit)

    def start(self, unit: str, timeout: float = 300.0) -> None:
        self._job("start", self.manager.StartUnit, unit, ("active",), timeout)

    def restart(self, unit: str, timeout: float = 300.0) -> None:
        self._job("restart", self.manager.RestartUnit, unit, ("active",), timeout)

    def stop(self, unit: str, timeout: float = 300.0) -> None:
        self._job("stop", self.manager.StopUnit, unit, ("inactive", "failed"), timeout)

    def start_transient(self, unit: str, description: str, argv: list[str]) -> None:
        """Start a transient service running `argv` (as `systemd-run --unit=UNIT` does): it outlives the caller."""
        dbus = self._dbus
        props = [("Description", dbus.String(description)),
                 ("ExecStart", dbus.Array([(argv[0], dbus.Array(argv, signature="s"), False)],
                                          signature="(sasb)")),
                 ("Type", dbus.String("exec")),
                 ("CollectMode", dbus.String("inactive-or-failed"))]  # gone when it ends: the name is free again
        self._call(f"start {unit}", self.manager.StartTransientUnit, unit, "replace",
                   dbus.Array(props, signature="(sv)"), dbus.Array([], signature="(sa(sv))"))
