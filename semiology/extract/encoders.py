"""The crop encoders extraction uses: shipped in `checkpoints/`, never pretrained silently.

The default small CNN frame encoders (one for body crops, one for face crops) are pretrained on
a disjoint synthetic cohort (`semiology.models.appearance.build_encoder`), which takes about
half a minute on two cores. The project ships the two files that the default config makes,
`checkpoints/encoder_body_1000.pt` and `checkpoints/encoder_face_1000.pt` (sha256 in
`checkpoints/README.md`, made by `python tools/train_encoders.py --out checkpoints`), and
extraction copies the one it needs into the cache folder's `encoders/` before loading it there:
the provenance stored in the file is checked as for any cached encoder, so a config that asks
for another encoder (another seed, size or pretext) still trains its own, and says so first.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from semiology.experiment import EncoderConfig
from semiology.models.appearance import build_encoder
from semiology.models.encoder import FrameEncoder

logger = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "checkpoints"
"""`checkpoints/` of the source tree (an editable install); absent from a wheel, where encoders are pretrained once per cache folder."""


def encoder_file(stream: str, config: EncoderConfig) -> str:
    """The file name `build_encoder` caches a small CNN encoder under (the same name in `checkpoints/`)."""
    return f"encoder_{stream}_{config.for_stream(stream).pretrain_seed}.pt"


def extraction_encoders(streams: tuple[str, ...], config: EncoderConfig, crop_size_px: int, cache_dir: Path,
                        shipped_dir: Path = SHIPPED_DIR) -> dict[str, FrameEncoder]:
    """The frozen encoder of each stream, from the cache folder, else the shipped checkpoint, else pretrained (with a warning)."""
    encoders = {}
    for stream in streams:
        settings = config.for_stream(stream)
        target = cache_dir / encoder_file(stream, config)
        shipped = shipped_dir / encoder_file(stream, config)
        if settings.kind == "small_cnn" and not target.exists():
            if shipped.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shipped, target)
            else:
                logger.warning("no shipped %s crop encoder at %s: pretraining one (about 30 s, once per cache folder)", stream, shipped)
        encoders[stream] = build_encoder(stream, config, crop_size_px, cache_dir)
    return encoders


def train_shipped_encoders(out_dir: Path, config: EncoderConfig | None = None, crop_size_px: int = 32) -> list[Path]:
    """Pretrain the body and face encoders of `config` (the extraction defaults) into `out_dir`, replacing what is there."""
    config = config or EncoderConfig()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stream in ("body", "face"):
        path = out_dir / encoder_file(stream, config)
        path.unlink(missing_ok=True)
        build_encoder(stream, config, crop_size_px, out_dir)
        written.append(path)
    return written
