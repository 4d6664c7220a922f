"""Reuse 2s-AGCN checkpoints trained on another skeleton (e.g. NTU RGB+D, 25 joints, 2 persons).

Only two kinds of weights depend on the joints and persons: the learned graphs `PA` (one
`[K, V, V]` per block) and `data_bn` (one entry per person, joint and coordinate). Every
convolution acts on channels and time only, so it transfers unchanged. `transfer_state_dict`
selects the rows and columns of the source joints that the target layout keeps and drops the
classifier, which the new task replaces. A study reaches it with a model row's `pretrained:
<checkpoint>` (`transfer_pretrained`, called by `semiology.models.factory.build_network`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from semiology.errors import CheckpointError
from semiology.layouts.mapping import index_map
from semiology.models.agcn import AGCN

CLASSIFIER_KEYS: tuple[str, ...] = ("fc.weight", "fc.bias")
_DATA_BN_PER_ENTRY = ("data_bn.weight", "data_bn.bias", "data_bn.running_mean", "data_bn.running_var")
_WRAPPER_KEYS = ("state_dict", "model")


@dataclass(frozen=True)
class TransferReport:
    """What `load_transferred` loaded: the keys taken from the checkpoint and the ones left at initialisation."""

    loaded_keys: tuple[str, ...]
    missing_keys: tuple[str, ...]


def load_2s_agcn_state_dict(path_or_dict: str | Path | Mapping[str, object]) -> OrderedDict[str, torch.Tensor]:
    """Read a 2s-AGCN checkpoint (file or mapping) as a plain state dict of tensors.

    Accepts `{"state_dict": ...}` and `{"model": ...}` wrappers and strips the `module.` prefix
    that `DataParallel` adds. Files are read with `weights_only=True`, so a checkpoint cannot
    run code. Raises `FileNotFoundError` for a missing file and `ValueError` (naming the
    source) when the content is not a mapping from names to tensors.
    """
    source = "the given mapping"
    if isinstance(path_or_dict, str | Path):
        path = Path(path_or_dict)
        source = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"2s-AGCN checkpoint not found: {path}")
        try:
            content: object = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise ValueError(f"{path}: not a readable PyTorch checkpoint ({error})") from error
    else:
        content = path_or_dict
    while isinstance(content, Mapping):
        wrapped = next((content[key] for key in _WRAPPER_KEYS if isinstance(content.get(key), Mapping)), None)
        if wrapped is None:
            break
        content = wrapped
    if not isinstance(content, Mapping) or not content:
        kind = type(content).__name__
        raise ValueError(f"{source}: expected a state dict (a mapping of names to tensors), got {kind}")
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in content.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise ValueError(f"{source}: entry {key!r} is a {type(value).__name__}, not a tensor of a state dict")
        name = key[len("module.") :] if key.startswith("module.") else key
        state[name] = value
    return state


def transfer_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    joint_index: Sequence[int],
    source_num_person: int,
    target_num_person: int,
    in_channels: int,
) -> OrderedDict[str, torch.Tensor]:
    """Map a checkpoint for `V_src` joints onto a layout whose joint `j` is source joint `joint_index[j]`.

    Every `PA` becomes `PA[:, idx][:, :, idx]`; `data_bn` keeps persons `[:target_num_person]`,
    joints `idx` and all `in_channels` coordinates of its `(person, joint, coordinate)`
    flattening; `fc.*` is dropped; everything else is kept as it is.
    """
    index = torch.as_tensor(list(joint_index), dtype=torch.long)
    if index.dim() != 1 or index.numel() == 0:
        raise ValueError(f"joint_index must be a non-empty list of source joints, got {list(joint_index)}")
    if not 1 <= target_num_person <= source_num_person:
        raise ValueError(f"target_num_person must lie in [1, {source_num_person}], got {target_num_person}")
    if "data_bn.weight" not in state_dict:
        raise ValueError("state dict has no data_bn.weight: not a 2s-AGCN checkpoint")
    bn_size = state_dict["data_bn.weight"].numel()
    if bn_size % (source_num_person * in_channels) != 0:
        raise ValueError(
            f"data_bn has {bn_size} entries, not a multiple of {source_num_person} persons x {in_channels} channels"
        )
    source_joints = bn_size // (source_num_person * in_channels)
    if int(index.min()) < 0 or int(index.max()) >= source_joints:
        raise ValueError(f"joint_index must lie in [0, {source_joints}), got {index.tolist()}")
    transferred: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in state_dict.items():
        if key in CLASSIFIER_KEYS:
            continue
        if key.endswith(".PA"):
            if value.dim() != 3 or value.shape[1:] != (source_joints, source_joints):
                expected = f"[K, {source_joints}, {source_joints}]"
                raise ValueError(f"{key} has shape {tuple(value.shape)}, expected {expected}")
            value = value[:, index][:, :, index]
        elif key in _DATA_BN_PER_ENTRY:
            per_entry = value.view(source_num_person, source_joints, in_channels)
            value = per_entry[:target_num_person, index].reshape(-1)
        transferred[key] = value.clone()
    return transferred


def load_transferred(
    model: AGCN,
    state_dict: Mapping[str, torch.Tensor],
    joint_index: Sequence[int],
    source_num_person: int,
) -> TransferReport:
    """Transfer a 2s-AGCN checkpoint onto `model` and load it; only the classifier stays freshly initialised.

    Raises `ValueError` when a key is missing (other than `fc.*`) or unexpected, listing them,
    or when a tensor's shape differs, naming the key and both shapes.
    """
    if len(joint_index) != model.num_joints:
        raise ValueError(f"joint_index has {len(joint_index)} joints, the model has {model.num_joints}")
    transferred = transfer_state_dict(
        state_dict, joint_index, source_num_person, model.num_person, model.in_channels
    )
    own = model.state_dict()
    missing = [key for key in own if key not in transferred and key not in CLASSIFIER_KEYS]
    unexpected = [key for key in transferred if key not in own]
    if missing or unexpected:
        raise ValueError(f"checkpoint does not fit the model: missing keys {missing}, unexpected keys {unexpected}")
    for key, value in transferred.items():
        if value.shape != own[key].shape:
            raise ValueError(
                f"{key}: checkpoint shape {tuple(value.shape)} does not match model shape {tuple(own[key].shape)}"
            )
    result = model.load_state_dict(transferred, strict=False)
    return TransferReport(loaded_keys=tuple(transferred), missing_keys=tuple(result.missing_keys))


def transfer_pretrained(model: AGCN, path: str | Path, source_layout: str, source_num_person: int, target_layout: str) -> TransferReport:
    """Initialise `model` (of `target_layout`) from a 2s-AGCN checkpoint trained on `source_layout` (NTU RGB+D: `ntu_25`, 2 persons).

    The target's joints are picked from the source's through the layouts' mapping (each target
    joint must be one source joint); the blocks' widths must be the checkpoint's. Every failure
    is a `CheckpointError` naming the file.
    """
    try:
        joints = tuple(range(model.num_joints)) if source_layout == target_layout else index_map(source_layout, target_layout)
        return load_transferred(model, load_2s_agcn_state_dict(path), joints, source_num_person)
    except (FileNotFoundError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise CheckpointError(f"{path}: cannot initialise the {target_layout} AGCN from this {source_layout} 2s-AGCN checkpoint ({message})") from None
