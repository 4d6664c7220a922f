#!/usr/bin/env python
"""Write per-seizure snippet features (I3D over recordings, or kinematic over cached keypoints) to a cache folder."""

import sys

from semiology.cli import extract_i3d

if __name__ == "__main__":
    sys.exit(extract_i3d())
