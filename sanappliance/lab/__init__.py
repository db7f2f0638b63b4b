"""The VM lab: appliance nodes under qemu for end-to-end tests and `make lab` (host-side tooling, not the appliance)."""

from .channels import ExecResult
from .lab import Lab
from .node import Node
from .spec import Boot, Disk, Firmware, Forward, Images, LabError, LabSpec, Network, NodeSpec, default_networks

__all__ = ["Boot", "Disk", "ExecResult", "Firmware", "Forward", "Images", "Lab", "LabError", "LabSpec", "Network",
           "Node", "NodeSpec", "default_networks"]
