"""The targetd-compatible JSON-RPC API daemon (installed as sanappliance.targetd)."""
