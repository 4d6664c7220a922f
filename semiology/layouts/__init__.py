"""Skeleton and face layouts as data, the graphs derived from them, and mappings between them."""

from semiology.layouts.base import Layout, spatial_adjacency
from semiology.layouts.body import COCO_17, MEDIAPIPE_33, NTU_25, UPPER_BODY_11
from semiology.layouts.face import FACE_23
from semiology.layouts.mapping import LayoutMapping, get_mapping, index_map

_LAYOUTS: dict[str, Layout] = {
    layout.name: layout for layout in (UPPER_BODY_11, COCO_17, MEDIAPIPE_33, NTU_25, FACE_23)
}

LAYOUT_NAMES: tuple[str, ...] = tuple(_LAYOUTS)


def get_layout(name: str) -> Layout:
    """The layout registered under `name`; a KeyError lists the known names."""
    try:
        return _LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known layouts: {', '.join(LAYOUT_NAMES)}") from None


__all__ = [
    "LAYOUT_NAMES",
    "Layout",
    "LayoutMapping",
    "get_layout",
    "get_mapping",
    "index_map",
    "spatial_adjacency",
]
