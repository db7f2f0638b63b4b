"""sanappliance: a highly available iSCSI SAN appliance built on LIO, DRBD, LVM, Corosync and Pacemaker."""

__version__ = "0.1.0"
