#!/usr/bin/env python
"""The label store: create it, add users and sites, import and export manifests, BIDS events and pyskl pickles, inter-rater agreement."""

import sys

from semiology.store.cli import main

if __name__ == "__main__":
    sys.exit(main())
