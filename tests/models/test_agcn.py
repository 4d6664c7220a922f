"""2s-AGCN stream: checkpoint compatibility, NTU transfer, fused/loop equivalence, shapes and learning."""

from __future__ import annotations

import copy
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from semiology.models.agcn import AGCN
from semiology.models.agcn_transfer import load_2s_agcn_state_dict, load_transferred, transfer_state_dict

# NTU RGB+D inward edges as the 2s-AGCN graph module lists them (1-based joint numbers).
NTU_INWARD_1_BASED = (
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
    (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19),
    (22, 23), (23, 8), (24, 25), (25, 12),
)  # fmt: skip
# Upper body 11: head, neck, r/l shoulder-elbow-wrist, r/l hip, spine base (0-based inward edges).
UPPER_11_INWARD = ((0, 1), (10, 1), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5), (7, 6), (8, 10), (9, 10))
# Source NTU joint (0-based) of each upper-body joint, in the upper-body order above.
NTU_TO_UPPER_11 = (3, 2, 8, 9, 10, 4, 5, 6, 16, 12, 0)
SMALL = {"channels": (16, 32, 32), "strides": (1, 2, 1)}
DEFAULT: dict[str, tuple[int, ...]] = {}


def spatial_graph(num_joints: int, inward: tuple[tuple[int, int], ...]) -> np.ndarray:
    """2s-AGCN's `[3, V, V]` graph: identity, column-normalised inward (A[j, i] = 1 for i -> j) and outward."""

    def column_normalised(edges: list[tuple[int, int]]) -> np.ndarray:
        matrix = np.zeros((num_joints, num_joints))
        for i, j in edges:
            matrix[j, i] = 1.0
        column_sum = matrix.sum(0)
        return matrix / np.where(column_sum > 0, column_sum, 1.0)

    outward = [(j, i) for i, j in inward]
    return np.stack([np.eye(num_joints), column_normalised(list(inward)), column_normalised(outward)]).astype(
        np.float32
    )


NTU_ADJACENCY = spatial_graph(25, tuple((i - 1, j - 1) for i, j in NTU_INWARD_1_BASED))
UPPER_11_ADJACENCY = spatial_graph(11, UPPER_11_INWARD)


def reference_key_shapes(num_class: int, num_joints: int, num_person: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the reference `Model` (10 blocks, 64-64-64-64-128-128-128-256-256-256, strides at 5 and 8)."""
    bn = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")

    def batch_norm(prefix: str, width: int) -> dict[str, tuple[int, ...]]:
        return {f"{prefix}.{name}": (() if name == "num_batches_tracked" else (width,)) for name in bn}

    shapes: dict[str, tuple[int, ...]] = batch_norm("data_bn", num_person * 3 * num_joints)
    plan = [(3, 64, 1), (64, 64, 1), (64, 64, 1), (64, 64, 1), (64, 128, 2),
            (128, 128, 1), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 256, 1)]  # fmt: skip
    for block, (cin, cout, stride) in enumerate(plan, start=1):
        gcn = f"l{block}.gcn1"
        shapes[f"{gcn}.PA"] = (3, num_joints, num_joints)
        for branch, width in (("conv_a", cout // 4), ("conv_b", cout // 4), ("conv_d", cout)):
            for subset in range(3):
                shapes[f"{gcn}.{branch}.{subset}.weight"] = (width, cin, 1, 1)
                shapes[f"{gcn}.{branch}.{subset}.bias"] = (width,)
        if cin != cout:
            shapes[f"{gcn}.down.0.weight"] = (cout, cin, 1, 1)
            shapes[f"{gcn}.down.0.bias"] = (cout,)
            shapes.update(batch_norm(f"{gcn}.down.1", cout))
        shapes.update(batch_norm(f"{gcn}.bn", cout))
        shapes[f"l{block}.tcn1.conv.weight"] = (cout, cout, 9, 1)
        shapes[f"l{block}.tcn1.conv.bias"] = (cout,)
        shapes.update(batch_norm(f"l{block}.tcn1.bn", cout))
        if block > 1 and (cin != cout or stride != 1):
            shapes[f"l{block}.residual.conv.weight"] = (cout, cin, 1, 1)
            shapes[f"l{block}.residual.conv.bias"] = (cout,)
            shapes.update(batch_norm(f"l{block}.residual.bn", cout))
    shapes["fc.weight"] = (num_class, 256)
    shapes["fc.bias"] = (num_class,)
    return shapes


def random_ntu_checkpoint(seed: int = 0) -> OrderedDict[str, torch.Tensor]:
    """A state dict with 2s-AGCN's NTU names and shapes (60 classes, 2 persons), filled with random values."""
    generator = torch.Generator().manual_seed(seed)
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, shape in reference_key_shapes(60, 25, 2).items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[key] = torch.randn(shape, generator=generator)
    return state


def perturb(model: AGCN, seed: int = 0) -> AGCN:
    """Move every batch norm, bias and learned graph away from its initial value so each path matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.rand(parameter.shape, generator=generator)
            if name.endswith("PA"):
                parameter.copy_(0.4 * noise - 0.2)
            elif parameter.dim() == 1 and name.endswith("weight"):
                parameter.copy_(0.5 + noise)
            elif parameter.dim() == 1:
                parameter.copy_(0.2 * noise - 0.1)
        for name, buffer in model.named_buffers():
            if name.endswith("running_var"):
                buffer.copy_(0.5 + 1.5 * torch.rand(buffer.shape, generator=generator))
            elif name.endswith("running_mean"):
                buffer.copy_(0.2 * torch.rand(buffer.shape, generator=generator) - 0.1)
    return model


def test_ntu_graph_matches_the_layouts_module() -> None:
    layouts = pytest.importorskip("semiology.layouts")
    np.testing.assert_allclose(layouts.get_layout("ntu_25").adjacency(), NTU_ADJACENCY, atol=1e-7)
    np.testing.assert_allclose(layouts.get_layout("upper_body_11").adjacency(), UPPER_11_ADJACENCY, atol=1e-7)


def test_reference_checkpoint_loads_strictly() -> None:
    model = AGCN(num_class=60, adjacency=NTU_ADJACENCY, num_person=2)
    checkpoint = random_ntu_checkpoint()
    expected = reference_key_shapes(60, 25, 2)
    assert len(checkpoint) == len(expected) == 352
    own = model.state_dict()
    assert {key: tuple(value.shape) for key, value in own.items()} == expected
    result = model.load_state_dict(checkpoint, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    torch.testing.assert_close(model.l5.gcn1.conv_d[2].weight, checkpoint["l5.gcn1.conv_d.2.weight"])


def test_fixed_graph_is_a_buffer_outside_the_state_dict() -> None:
    model = AGCN(num_class=4, adjacency=UPPER_11_ADJACENCY, **SMALL)
    buffers = dict(model.named_buffers())
    assert "l1.gcn1.A" in buffers and "l3.gcn1.A" in buffers
    torch.testing.assert_close(buffers["l2.gcn1.A"], torch.from_numpy(UPPER_11_ADJACENCY))
    assert not any(key.endswith(".A") for key in model.state_dict())
    assert all(key.endswith(".PA") for key in model.state_dict() if key.endswith("A"))


def test_reference_initialisation() -> None:
    model = AGCN(num_class=5, adjacency=UPPER_11_ADJACENCY, **SMALL)
    assert torch.all(model.l2.gcn1.PA == 1e-6)
    assert torch.all(model.l2.gcn1.bn.weight == 1e-6)
    assert torch.all(model.l2.tcn1.bn.weight == 1.0)
    assert torch.all(model.l2.gcn1.conv_d[0].bias == 0.0)


def test_checkpoint_file_transfers_to_upper_body(tmp_path: Path) -> None:
    checkpoint = random_ntu_checkpoint(seed=1)
    plain, wrapped = tmp_path / "ntu.pt", tmp_path / "ntu_parallel.pth"
    torch.save(checkpoint, plain)
    torch.save({"state_dict": OrderedDict((f"module.{k}", v) for k, v in checkpoint.items())}, wrapped)
    loaded = load_2s_agcn_state_dict(plain)
    assert list(loaded) == list(checkpoint)
    from_parallel = load_2s_agcn_state_dict(wrapped)
    assert list(from_parallel) == list(checkpoint)
    torch.testing.assert_close(from_parallel["l3.gcn1.PA"], checkpoint["l3.gcn1.PA"])
    assert list(load_2s_agcn_state_dict({"model": checkpoint})) == list(checkpoint)

    model = AGCN(num_class=2, adjacency=UPPER_11_ADJACENCY, num_person=1)
    fresh_fc = model.fc.weight.detach().clone()
    report = load_transferred(model, from_parallel, NTU_TO_UPPER_11, source_num_person=2)
    assert set(report.missing_keys) == {"fc.weight", "fc.bias"}
    torch.testing.assert_close(model.fc.weight, fresh_fc)

    source_pa = checkpoint["l4.gcn1.PA"]
    # upper-body joints (1: neck, 2: right shoulder) are NTU joints 2 and 8
    assert model.l4.gcn1.PA[1, 1, 2] == source_pa[1, 2, 8]
    assert model.l4.gcn1.PA[2, 10, 0] == source_pa[2, 0, 3]
    assert model.l4.gcn1.PA.shape == (3, 11, 11)
    # data_bn is flattened (person, joint, coordinate): NTU person 0, joint 8, coordinate 2 is entry 8 * 3 + 2
    for name in ("weight", "bias", "running_mean", "running_var"):
        source, target = checkpoint[f"data_bn.{name}"], getattr(model.data_bn, name)
        assert target.shape == (33,)
        assert target[2 * 3 + 2] == source[8 * 3 + 2]
        assert target[10 * 3 + 0] == source[0 * 3 + 0]
        assert target[8 * 3 + 1] == source[16 * 3 + 1]
    torch.testing.assert_close(model.l9.tcn1.conv.weight, checkpoint["l9.tcn1.conv.weight"])
    assert model(torch.randn(2, 3, 12, 11, 1)).shape == (2, 2)


def test_transfer_keeps_persons_and_drops_classifier() -> None:
    checkpoint = random_ntu_checkpoint(seed=2)
    two_person = transfer_state_dict(checkpoint, NTU_TO_UPPER_11, 2, 2, in_channels=3)
    assert "fc.weight" not in two_person and "fc.bias" not in two_person
    assert two_person["data_bn.running_var"].shape == (66,)
    # person 1, upper joint 4 (right wrist, NTU 10), coordinate 1
    assert two_person["data_bn.running_var"][(11 + 4) * 3 + 1] == checkpoint["data_bn.running_var"][(25 + 10) * 3 + 1]
    assert len(two_person) == len(checkpoint) - 2


def test_loading_errors_name_the_problem(tmp_path: Path) -> None:
    missing = tmp_path / "absent.pt"
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        load_2s_agcn_state_dict(missing)
    not_a_state_dict = tmp_path / "numbers.pt"
    torch.save([1, 2, 3], not_a_state_dict)
    with pytest.raises(ValueError, match="numbers.pt"):
        load_2s_agcn_state_dict(not_a_state_dict)

    checkpoint = random_ntu_checkpoint(seed=3)
    small = AGCN(num_class=2, adjacency=UPPER_11_ADJACENCY, **SMALL)
    with pytest.raises(ValueError, match="missing keys"):
        load_transferred(small, checkpoint, NTU_TO_UPPER_11, source_num_person=2)
    upper_body = AGCN(num_class=2, adjacency=UPPER_11_ADJACENCY, in_channels=3)
    checkpoint["l1.gcn1.conv_a.0.weight"] = torch.randn(16, 4, 1, 1)
    with pytest.raises(ValueError, match=r"l1\.gcn1\.conv_a\.0\.weight.*\(16, 4, 1, 1\).*\(16, 3, 1, 1\)"):
        load_transferred(upper_body, checkpoint, NTU_TO_UPPER_11, source_num_person=2)
    checkpoint = random_ntu_checkpoint(seed=3)
    checkpoint["l1.gcn1.extra"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"unexpected keys \['l1.gcn1.extra'\]"):
        load_transferred(upper_body, checkpoint, NTU_TO_UPPER_11, source_num_person=2)


@pytest.mark.parametrize("widths", [SMALL, DEFAULT], ids=["small", "default"])
@pytest.mark.parametrize("shape", [(2, 3, 20, 11, 1), (2, 3, 16, 25, 2)], ids=["upper11", "ntu25x2"])
def test_fused_equals_loop(shape: tuple[int, ...], widths: dict[str, tuple[int, ...]]) -> None:
    adjacency = UPPER_11_ADJACENCY if shape[3] == 11 else NTU_ADJACENCY
    torch.manual_seed(0)
    pristine = perturb(AGCN(num_class=5, adjacency=adjacency, num_person=shape[4], **widths))
    x = torch.randn(shape)
    for mode in ("train", "eval"):
        fused, loop = copy.deepcopy(pristine).train(mode == "train"), copy.deepcopy(pristine).train(mode == "train")
        loop.fused = False
        assert fused.fused and not loop.fused and not loop.l2.gcn1.fused
        # Gradients in float64: train-mode batch norm over a tiny batch amplifies float32 rounding,
        # so exact maths is checked where rounding cannot hide a real difference.
        fused64, loop64 = copy.deepcopy(fused).double(), copy.deepcopy(loop).double()
        torch.testing.assert_close(fused(x), loop(x), rtol=1e-5, atol=1e-5)
        fused64(x.double()).square().sum().backward()
        loop64(x.double()).square().sum().backward()
        scale = max(p.grad.abs().max() for p in loop64.parameters() if p.grad is not None)
        for (name, p_fused), p_loop in zip(fused64.named_parameters(), loop64.parameters(), strict=True):
            assert p_fused.grad is not None and p_loop.grad is not None, name
            torch.testing.assert_close(
                p_fused.grad, p_loop.grad, rtol=1e-7, atol=1e-9 * float(scale), msg=lambda m: f"{name}: {m}"
            )
    fused.eval()
    loop.eval()
    fused.inference_tile_bytes = 1
    with torch.inference_mode():
        assert fused.inference_tile(x) == 1
        torch.testing.assert_close(fused(x), loop(x), rtol=1e-5, atol=1e-5)


def test_input_gradient_flows_in_eval_mode() -> None:
    model = perturb(AGCN(num_class=3, adjacency=UPPER_11_ADJACENCY, **SMALL)).eval()
    loop = copy.deepcopy(model)
    loop.fused = False
    x = torch.randn(2, 3, 12, 11, 1, requires_grad=True)
    x_loop = x.detach().clone().requires_grad_(True)
    assert model.inference_tile(x) == 0
    model(x).sum().backward()
    loop(x_loop).sum().backward()
    assert x.grad is not None and x_loop.grad is not None
    torch.testing.assert_close(x.grad, x_loop.grad, rtol=1e-4, atol=1e-5)


def test_shapes_stride_and_features() -> None:
    model = AGCN(num_class=7, adjacency=NTU_ADJACENCY, num_person=2, **SMALL)
    x = torch.randn(3, 3, 20, 25, 2)
    assert model(x).shape == (3, 7)
    after_block_1 = model.l1(torch.randn(6, 3, 20, 25))
    assert after_block_1.shape == (6, 16, 20, 25)
    assert model.l2(after_block_1).shape == (6, 32, 10, 25)
    pooled, last_map = model.forward_features(x)
    assert pooled.shape == (3, 32)
    assert last_map.shape == (6, 32, 10, 25)
    torch.testing.assert_close(pooled, last_map.view(3, 2, 32, -1).mean(3).mean(1))
    maps = model.attention_maps(x)
    assert len(maps) == 3
    assert maps[0]["A"].shape == maps[0]["B"].shape == (3, 25, 25)
    assert maps[2]["C"].shape == (6, 3, 25, 25)
    torch.testing.assert_close(maps[1]["C"].sum(dim=2), torch.ones(6, 3, 25))
    with pytest.raises(ValueError, match="V=25"):
        model(torch.randn(3, 3, 20, 11, 2))


def test_tiny_model_fits_two_classes() -> None:
    torch.manual_seed(0)
    model = AGCN(num_class=2, adjacency=UPPER_11_ADJACENCY, channels=(8, 16), strides=(1, 2))
    labels = torch.tensor([0, 1] * 4)
    x = torch.randn(8, 3, 12, 11, 1)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        optimiser.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.25 * losses[0]
    model.eval()
    with torch.no_grad():
        assert (model(x).argmax(1) == labels).all()
