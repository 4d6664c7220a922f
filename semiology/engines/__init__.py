"""Where work runs: a pool of worker processes on this machine (the default)."""
