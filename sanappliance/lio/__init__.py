"""LIO as data (pure): the kernel target's state as frozen values, rendered from the model and diffed into a plan."""
