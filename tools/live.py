#!/usr/bin/env python
"""Classify a running recording (camera, stream or file) window by window with a model bundle: JSON lines out."""

import sys

from semiology.live.cli import live

if __name__ == "__main__":
    sys.exit(live())
