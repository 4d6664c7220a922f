#!/usr/bin/env python
"""Train the temporal 2D->3D lifter on the synthetic cohort and save its checkpoint."""

import sys

from semiology.lift.train import main

if __name__ == "__main__":
    sys.exit(main())
