#!/usr/bin/env python
"""Pretrain the small crop encoders that extraction ships in checkpoints/ (see checkpoints/README.md)."""

import argparse
import hashlib
import sys
from pathlib import Path

from semiology.extract.encoders import train_shipped_encoders

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("checkpoints"), help="folder for encoder_body_1000.pt and encoder_face_1000.pt")
    args = parser.parse_args()
    for path in train_shipped_encoders(args.out):
        print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path} ({path.stat().st_size} bytes)")
    sys.exit(0)
