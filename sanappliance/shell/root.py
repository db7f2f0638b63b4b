"""The root of the sanctl tree, and the shell itself (interactive, or one command line)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from configshell_fb import ConfigShell, Console, ExecutionError

from sanappliance.errors import SanError
from sanappliance.service import system
from sanappliance.service.env import Env

from . import listing
from .base import Context, SanNode
from .cluster import UICluster
from .iscsi import UIIscsi
from .network import UINetwork
from .storage import UIDisks, UIMultipath, UIPools, UIVolumes


class UIRoot(SanNode):
    """The appliance: disks, pools, volumes, iSCSI targets, and (once formed) the cluster."""

    def __init__(self, shell: ConfigShell, context: Context) -> None:
        self.context = context
        super().__init__("/", shell=shell)

    def build(self) -> None:
        UIDisks(self)
        UIMultipath(self)
        UIPools(self)
        UIVolumes(self)
        UIIscsi(self)
        UICluster(self)
        UINetwork(self)

    def summary(self) -> tuple[str, bool | None]:
        return listing.root(self.config())

    def ui_command_saveconfig(self, savefile: str | None = None) -> None:
        """saveconfig [FILE]: every change is saved as it is made (with backups); with FILE, also export the whole
        configuration there (mode 0600: it holds CHAP secrets)."""
        if savefile:
            try:
                system.export_config(self.ctx.env(), Path(savefile))
            except SanError as exc:
                raise ExecutionError(str(exc)) from None
            self.ctx.write(f"Configuration exported to {savefile}.")
        else:
            self.ctx.write(f"Configuration saved (generation {self.config().generation}).")

    def ui_command_restoreconfig(self, savefile: str | None = None) -> None:
        """restoreconfig [FILE]: with FILE, replace the configuration with the file's (validated first); without,
        bring LIO and the storage back to the saved configuration (only differences are changed)."""
        if savefile:
            self.call(f"Configuration restored from {savefile}.", system.import_config, Path(savefile))
        else:
            self.call("Configuration restored.", system.restore)

    def ui_command_backups(self) -> None:
        """backups: the saved earlier versions of the configuration (restoreconfig FILE takes one)."""
        for path in system.list_backups(self.ctx.env()):
            self.ctx.write(str(path))


def make_shell(make_env: Callable[[bool], Env], dry_run: bool = False,
               write: Callable[[str], None] = print, stdout: TextIO | None = None) -> ConfigShell:
    prefs = Path(os.environ.get("SANCTL_PREFS", "~/.sanctl")).expanduser()
    shell = ConfigShell(str(prefs))
    if stdout is not None:
        shell.con = Console(stdout=stdout)
    if not os.environ.get("SANCTL_DEBUG"):
        # configshell's debug messages inspect the whole call stack (reading source files) even when its log level
        # drops them: a third of a second per command on a slow machine
        shell.log.debug = lambda msg: None
    UIRoot(shell, Context(make_env, dry_run, write))
    return shell
