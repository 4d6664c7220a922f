#!/usr/bin/env python
"""Screen many recordings with a model bundle, resumably: JSON lines, CSV/Parquet and an HTML summary."""

import sys

from semiology.cli import screen

if __name__ == "__main__":
    sys.exit(screen())
