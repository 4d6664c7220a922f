"""Where work runs: a pool of worker processes on this machine (the default), or Ray (`ray_engine`) on this machine or a cluster."""
