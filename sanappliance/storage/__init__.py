"""Pools and volumes as data (pure): LVM and backing files rendered from the model and diffed into a plan."""
