#!/usr/bin/env python
"""Train and evaluate multistream seizure-semiology models under leave-one-subject-out validation."""

import sys

from semiology.cli import loso_eval

if __name__ == "__main__":
    sys.exit(loso_eval())
