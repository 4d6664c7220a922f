"""A skeleton or face layout as data: joint names, a tree rooted at a centre, mirror partners.

Everything graph-shaped (the AGCN's spatial adjacency, bone vectors, flip permutations) is
derived from these records, so a layout is written down once and never typed in twice.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

import numpy as np

ArrayT = TypeVar("ArrayT")

_SIDES = {"left": "right", "right": "left"}


@dataclass(frozen=True)
class Layout:
    """A named joint layout whose parent links form a spanning tree rooted at the centre joint.

    Definitions are written with names for readability (`parent_of` maps each joint except the
    centre to its parent, `flip_partners` pairs left/right joints, `group_members` names regions);
    the integer forms used by models (`center`, `parents`, `flip_pairs`) are derived and checked
    once, at construction. `scale_pair` names the two joints whose distance sets a recording's
    scale when windows are normalised (shoulders for a body, outer eye corners for a face).
    """

    name: str
    joint_names: tuple[str, ...]
    parent_of: Mapping[str, str] = field(hash=False)
    center_name: str
    flip_partners: tuple[tuple[str, str], ...] = ()
    group_members: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    scale_pair: tuple[str, str] | None = None
    center: int = field(init=False, compare=False)
    parents: tuple[int, ...] = field(init=False, compare=False)
    flip_pairs: tuple[tuple[int, int], ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        joint_names = tuple(self.joint_names)
        object.__setattr__(self, "joint_names", joint_names)
        object.__setattr__(self, "parent_of", MappingProxyType(dict(self.parent_of)))
        object.__setattr__(self, "flip_partners", tuple((a, b) for a, b in self.flip_partners))
        object.__setattr__(
            self, "group_members", MappingProxyType({g: tuple(m) for g, m in self.group_members.items()})
        )
        if len(set(joint_names)) != len(joint_names):
            repeated = sorted({n for n in joint_names if joint_names.count(n) > 1})
            raise ValueError(f"layout {self.name!r}: joint names repeat: {repeated}")
        object.__setattr__(self, "center", self.index(self.center_name))
        object.__setattr__(self, "parents", self._resolve_parents())
        object.__setattr__(self, "flip_pairs", self._resolve_flip_pairs())
        for group, members in self.group_members.items():
            if len(set(members)) != len(members):
                raise ValueError(f"layout {self.name!r}: group {group!r} lists a joint twice: {members}")
            for member in members:
                self.index(member)
        if self.scale_pair is not None:
            object.__setattr__(self, "scale_pair", (str(self.scale_pair[0]), str(self.scale_pair[1])))
            for name in self.scale_pair:
                self.index(name)

    def __reduce__(self) -> tuple[type[Layout], tuple[object, ...]]:
        """Pickle by the name-based definition (read-only mapping views do not pickle)."""
        definition = (
            self.name,
            self.joint_names,
            dict(self.parent_of),
            self.center_name,
            self.flip_partners,
            dict(self.group_members),
            self.scale_pair,
        )
        return (Layout, definition)

    def _resolve_parents(self) -> tuple[int, ...]:
        """Integer parent of every joint (-1 for the centre), checking that the links form a tree."""
        children = set(self.parent_of)
        expected = set(self.joint_names) - {self.center_name}
        if self.center_name in children:
            raise ValueError(
                f"layout {self.name!r}: the centre {self.center_name!r} must be the only root, "
                f"but it is given the parent {self.parent_of[self.center_name]!r}"
            )
        if children != expected:
            unknown = sorted(children - expected)
            if unknown:
                raise KeyError(f"layout {self.name!r}: parents given for unknown joints {unknown}")
            raise ValueError(f"layout {self.name!r}: joints without a parent (extra roots): {sorted(expected - children)}")
        parents = tuple(-1 if n == self.center_name else self.index(self.parent_of[n]) for n in self.joint_names)
        for start in range(len(parents)):
            joint, steps = start, 0
            while joint != self.center:
                joint, steps = parents[joint], steps + 1
                if steps > len(parents):
                    raise ValueError(
                        f"layout {self.name!r}: parent links from {self.joint_names[start]!r} form a cycle "
                        "instead of reaching the centre"
                    )
        return parents

    def _resolve_flip_pairs(self) -> tuple[tuple[int, int], ...]:
        """Integer left/right partners, each joint in at most one pair."""
        pairs = tuple((self.index(a), self.index(b)) for a, b in self.flip_partners)
        seen: set[int] = set()
        for a, b in pairs:
            if a == b or a in seen or b in seen:
                raise ValueError(
                    f"layout {self.name!r}: flip partners must be distinct joints, each in one pair; "
                    f"check ({self.joint_names[a]!r}, {self.joint_names[b]!r})"
                )
            seen.update((a, b))
        return pairs

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, joint: str) -> int:
        """Position of a joint by name; a clear KeyError names the layout and the joint."""
        try:
            return self.joint_names.index(joint)
        except ValueError:
            raise KeyError(f"layout {self.name!r} has no joint {joint!r}; its joints are {list(self.joint_names)}") from None

    @property
    def inward_edges(self) -> tuple[tuple[int, int], ...]:
        """(child, parent) pairs, pointing toward the centre: the tree the adjacency is built on."""
        return tuple((child, parent) for child, parent in enumerate(self.parents) if parent >= 0)

    @property
    def bone_pairs(self) -> tuple[tuple[int, int], ...]:
        """(joint, parent) for every joint; the centre is paired with itself so its bone is zero."""
        return tuple((joint, joint if parent < 0 else parent) for joint, parent in enumerate(self.parents))

    @property
    def flip_index(self) -> np.ndarray:
        """Permutation swapping left/right partners (an involution).

        `x[..., flip_index, :]` relabels a pose after a horizontal mirror, so that the joint
        called `right_wrist` is again on the subject's right.
        """
        permutation = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            permutation[a], permutation[b] = b, a
        return permutation

    @property
    def groups(self) -> dict[str, tuple[int, ...]]:
        """Named joint regions as indices (arms, head, trunk; or brows, eyes, nose, mouth)."""
        return {group: tuple(self.index(m) for m in members) for group, members in self.group_members.items()}

    def adjacency(self) -> np.ndarray:
        """The 2s-AGCN "spatial" graph `[3, V, V]` float32: self-links, inward, outward."""
        return spatial_adjacency(self.num_joints, self.inward_edges)

    def bones(self, x: ArrayT, axis: int = -2) -> ArrayT:
        """Bone vectors `x[v] - x[parent[v]]` along the joint `axis` (numpy or torch).

        The centre's bone is zero (it is its own parent), as in 2s-AGCN's bone stream; a missing
        (NaN) joint makes its own bone and its children's bones NaN.
        """
        shape = tuple(x.shape)
        joint_axis = axis % len(shape)
        if shape[joint_axis] != self.num_joints:
            raise ValueError(
                f"layout {self.name!r} has {self.num_joints} joints, but axis {axis} of the input has "
                f"{shape[joint_axis]} (shape {shape})"
            )
        parent_index = [parent for _, parent in self.bone_pairs]
        selector = (slice(None),) * joint_axis + (parent_index,)
        return x - x[selector]


def both_sides(template: Mapping[str, str]) -> dict[str, str]:
    """Parent links written once with a `{side}` placeholder, instantiated for right and left.

    Written for layout definitions, so a limb is described once rather than once per side.
    """
    return {
        child.format(side=side): parent.format(side=side)
        for side in ("right", "left")
        for child, parent in template.items()
    }


def mirror_pairs(joint_names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Left/right partners found by swapping the word `left`/`right` in `_`-separated names.

    Written for layout definitions, so mirror partners follow from the names rather than being
    listed a second time. Pairs are (right, left)-ordered as they first appear.
    """
    names = tuple(joint_names)
    known = set(names)
    pairs: list[tuple[str, str]] = []
    for name in names:
        words = name.split("_")
        mirrored = "_".join(_SIDES.get(word, word) for word in words)
        if mirrored != name and mirrored in known and "right" in words:
            pairs.append((name, mirrored))
    return tuple(pairs)


def spatial_adjacency(num_joints: int, inward_edges: Iterable[tuple[int, int]]) -> np.ndarray:
    """The 2s-AGCN spatial graph `[3, V, V]` for (child, parent) edges: I, inward, outward.

    For an inward edge (i, j), `A_in[j, i] = 1`; `A_out = A_in.T`; each directed part is
    column-normalised (`A @ diag(1 / column_sum)`, zero columns stay zero). A fresh array is
    returned each call, so callers may modify it.
    """
    return _spatial_adjacency(int(num_joints), tuple((int(i), int(j)) for i, j in inward_edges)).copy()


@functools.lru_cache(maxsize=64)
def _spatial_adjacency(num_joints: int, inward_edges: tuple[tuple[int, int], ...]) -> np.ndarray:
    # The dense matrices and their degrees come from torch-geometric's `to_dense_adj` and
    # `degree`, fed only with the edge list: the edge list is the single source of truth for
    # the graph (the design asks for adjacency to be derived, never written out as matrices).
    import torch

    with warnings.catch_warnings():
        # torch-geometric's import scripts functions with `torch.jit.script`, which newer torch
        # deprecates; the warning concerns torch-geometric, not this code.
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=DeprecationWarning)
        from torch_geometric.utils import degree, to_dense_adj

    for child, parent in inward_edges:
        if not (0 <= child < num_joints and 0 <= parent < num_joints):
            raise ValueError(f"edge ({child}, {parent}) is outside a graph of {num_joints} joints")
    edges = torch.tensor(inward_edges, dtype=torch.long).reshape(-1, 2).T
    self_links = torch.arange(num_joints).repeat(2, 1)
    # `to_dense_adj` sets A[row, col]; the 2s-AGCN inward part has A[parent, child] = 1.
    inward = edges.flip(0)
    outward = edges

    def column_normalised(edge_index: torch.Tensor) -> torch.Tensor:
        dense = to_dense_adj(edge_index, max_num_nodes=num_joints)[0]
        column_sum = degree(edge_index[1], num_nodes=num_joints)
        scale = torch.where(column_sum > 0, 1.0 / column_sum.clamp(min=1.0), torch.zeros_like(column_sum))
        return dense * scale[None, :]

    identity = to_dense_adj(self_links, max_num_nodes=num_joints)[0]
    parts = torch.stack([identity, column_normalised(inward), column_normalised(outward)])
    result = parts.to(torch.float32).numpy()
    result.setflags(write=False)
    return result
