"""Backend multipath (pure): the shared disks' identities and aliases, multipath.conf, and multipathd's answers."""
