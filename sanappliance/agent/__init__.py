"""The appliance's own OCF resource agents (the scripts in /usr/lib/ocf/resource.d/sanappliance/ call these)."""
