"""The appliance's network as data (pure): interfaces, bonds, VLANs and the roles of their addresses, host name and
time; validation, the systemd-networkd/chrony/hostname files and the console banner it renders to, whether a change
would cut the management connection, and the first-boot seed file."""
