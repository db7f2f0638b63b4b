"""DRBD integration: replicated pools (installed as sanappliance.drbd)."""
