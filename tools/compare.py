#!/usr/bin/env python
"""Paired comparisons (Wilcoxon, Mann-Whitney U, Holm) of the same models across saved LOSO studies."""

import sys

from semiology.evaluate.compare_cli import compare_tool

if __name__ == "__main__":
    sys.exit(compare_tool())
