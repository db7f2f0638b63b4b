"""The HA cluster as data (pure): the cluster spec, its timing profiles, validation, and what it renders to
(corosync.conf, /etc/default/sbd, the `sbd create` argv, the CIB fragments merged into one validated push)."""
