#!/usr/bin/env python
"""The review web app: tools/review.py --db URL --cache DIR [--host 127.0.0.1 --port 8000]; see semiology/review/cli.py."""

import sys

from semiology.review.cli import main

if __name__ == "__main__":
    sys.exit(main())
