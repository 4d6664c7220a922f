#!/usr/bin/env python
"""Explain a bundled model's decision on one seizure: attributions, figures, overlay video, HTML page."""

import sys

from semiology.cli import explain

if __name__ == "__main__":
    sys.exit(explain())
