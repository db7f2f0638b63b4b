"""The desired state of the appliance: typed, immutable, versioned, with a JSON round-trip (pure, no side effects)."""
