"""The stream table: what each model stream reads from a seizure record.

A model row of an experiment names a stream (`stream: body_3d`); everything that turns records
into that model's inputs (window building, the distillation teacher's crops, the bundle's
extraction description, screening and attributions) looks the stream up here instead of
branching on its name. A stream reads one keypoint sequence of the record (its layout, and so
its graph and scale pair, come with the keypoints) and, optionally, the appearance of one crop
stream: the crops, the frozen frame encoder that turns them into features, and the TCN teacher
that reads those features. Two streams that share an appearance stream (`body` and `body_3d`)
share crops, encoder and teacher.

Adding a stream is one `register_stream` call (plus the extraction that fills the record field
it reads, if that is new); a stream registered by another package is accepted by config
validation, studies and bundles like the built-in ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semiology.records import Keypoints, SeizureRecord


@dataclass(frozen=True)
class AppearanceSpec:
    """One crop stream: the record fields of its crops, of the 2D keypoints its encoder's pretext
    regresses, and of the features the encoder writes. Its name is also its encoder's name."""

    name: str
    crops: str
    keypoints: str
    features: str

    def crops_of(self, record: SeizureRecord) -> np.ndarray | None:
        return getattr(record, self.crops)

    def features_of(self, record: SeizureRecord) -> np.ndarray | None:
        return getattr(record, self.features)


@dataclass(frozen=True)
class StreamSpec:
    """One model stream: the record field of its keypoints and the appearance stream beside them (None: keypoints only)."""

    name: str
    keypoints: str
    appearance: str | None = None
    description: str = ""

    def keypoints_of(self, record: SeizureRecord) -> Keypoints | None:
        """The record's keypoints for this stream, or None when the record has none."""
        return getattr(record, self.keypoints)

    @property
    def appearance_spec(self) -> AppearanceSpec | None:
        return None if self.appearance is None else get_appearance(self.appearance)

    def features_of(self, record: SeizureRecord) -> np.ndarray | None:
        """The record's appearance features for this stream, or None (no appearance stream, or not computed)."""
        spec = self.appearance_spec
        return None if spec is None else spec.features_of(record)


_APPEARANCE: dict[str, AppearanceSpec] = {}
_STREAMS: dict[str, StreamSpec] = {}


def register_appearance(spec: AppearanceSpec) -> None:
    """Make a crop stream known by name; a field that `SeizureRecord` lacks is refused at once."""
    for field_name in (spec.crops, spec.keypoints, spec.features):
        _check_record_field(spec.name, field_name)
    _APPEARANCE[spec.name] = spec


def register_stream(spec: StreamSpec) -> None:
    """Make a model stream known by name (replacing one of the same name)."""
    _check_record_field(spec.name, spec.keypoints)
    if spec.appearance is not None and spec.appearance not in _APPEARANCE:
        raise ValueError(f"stream {spec.name!r}: unknown appearance stream {spec.appearance!r} (known: {', '.join(_APPEARANCE)})")
    _STREAMS[spec.name] = spec


def get_stream(name: str) -> StreamSpec:
    """The stream registered under `name`; a KeyError lists the known names."""
    try:
        return _STREAMS[name]
    except KeyError:
        raise KeyError(f"unknown stream {name!r} (known: {', '.join(_STREAMS)})") from None


def get_appearance(name: str) -> AppearanceSpec:
    """The crop stream registered under `name`; a KeyError lists the known names."""
    try:
        return _APPEARANCE[name]
    except KeyError:
        raise KeyError(f"unknown appearance stream {name!r} (known: {', '.join(_APPEARANCE)})") from None


def stream_names() -> tuple[str, ...]:
    return tuple(_STREAMS)


def appearance_names() -> tuple[str, ...]:
    return tuple(_APPEARANCE)


def _check_record_field(owner: str, field_name: str) -> None:
    if field_name not in SeizureRecord.__dataclass_fields__:
        raise ValueError(f"stream {owner!r}: SeizureRecord has no field {field_name!r}")


register_appearance(AppearanceSpec("body", crops="body_crops", keypoints="body_2d", features="body_features"))
register_appearance(AppearanceSpec("face", crops="face_crops", keypoints="face_2d", features="face_features"))
register_stream(StreamSpec("body", keypoints="body_2d", appearance="body", description="2D body keypoints and the body crops"))
register_stream(
    StreamSpec(
        "body_3d",
        keypoints="body_3d",
        appearance="body",
        description="the 3D body (a depth camera's skeleton, or 2D keypoints lifted): movement towards the camera, "
        "invisible in the 2D projection, stays in it; its teacher reads the body crops",
    )
)
register_stream(StreamSpec("face", keypoints="face_2d", appearance="face", description="the 23 face landmarks and the face crops"))
