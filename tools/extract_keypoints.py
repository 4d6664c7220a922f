#!/usr/bin/env python
"""Extract keypoints, face landmarks, 3D and appearance features from videos, image folders or images, or the recordings of a manifest."""

import sys

from semiology.extract.cli import extract_keypoints

if __name__ == "__main__":
    sys.exit(extract_keypoints())
