"""The apply layer: the only place that touches the live system (processes, files, configfs, D-Bus, udev)."""
