"""Initiator-side settings derived from the appliance's failover timers (pure): Linux, VMware ESXi, Windows."""
