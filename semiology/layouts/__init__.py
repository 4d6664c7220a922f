"""Skeleton and face layouts as data, the graphs derived from them, and mappings between them."""

from semiology.layouts.base import Layout, spatial_adjacency
from semiology.layouts.body import COCO_17, MEDIAPIPE_33, NTU_25, UPPER_BODY_11
from semiology.layouts.face import FACE_23
from semiology.layouts.mapping import LayoutMapping, get_mapping, index_map

_LAYOUTS: dict[str, Layout] = {
    layout.name: layout for layout in (UPPER_BODY_11, COCO_17, MEDIAPIPE_33, NTU_25, FACE_23)
}

LAYOUT_NAMES: tuple[str, ...] = tuple(_LAYOUTS)


def register_layout(layout: Layout) -> None:
    """Make `layout` known by its name (a layout of another package, e.g. a new detector's skeleton).

    Registering another definition under a taken name is refused: bundles and caches refer to
    layouts by name, and a name must keep meaning one set of joints.
    """
    known = _LAYOUTS.get(layout.name)
    if known is not None and known != layout:
        raise ValueError(f"layout {layout.name!r} is already registered with other joints")
    _LAYOUTS[layout.name] = layout


def layout_names() -> tuple[str, ...]:
    """The names of every registered layout, the built-in ones first."""
    return tuple(_LAYOUTS)


def get_layout(name: str) -> Layout:
    """The layout registered under `name`; a KeyError lists the known names."""
    try:
        return _LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known layouts: {', '.join(_LAYOUTS)}") from None


__all__ = [
    "LAYOUT_NAMES",
    "Layout",
    "LayoutMapping",
    "get_layout",
    "get_mapping",
    "layout_names",
    "register_layout",
    "index_map",
    "spatial_adjacency",
]
