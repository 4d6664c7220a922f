"""I3D: pytorch-i3d state-dict names and shapes, checkpoint loading and its errors, feature steps, the fast path."""

import hashlib

import pytest
import torch

from semiology.errors import CheckpointError
from semiology.models.i3d import I3D, extract_features, fast_extractor, feature_steps, load_i3d_checkpoint


@pytest.fixture(scope="module")
def model() -> I3D:
    torch.manual_seed(0)
    network = I3D().eval()
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.1)
    return network


def test_state_dict_matches_pytorch_i3d(model: I3D) -> None:
    state = model.state_dict()
    assert len(state) == 344
    assert len([key for key in state if not key.endswith("num_batches_tracked")]) == 287
    assert state["Conv3d_1a_7x7.conv3d.weight"].shape == (64, 3, 7, 7, 7)
    assert state["Mixed_3b.b1b.bn.running_mean"].shape == (128,)
    assert state["Mixed_5c.b3b.bn.running_var"].shape == (128,)
    assert state["Mixed_4f.b2b.conv3d.weight"].shape == (128, 32, 3, 3, 3)
    assert state["logits.conv3d.weight"].shape == (400, 1024, 1, 1, 1)
    assert state["logits.conv3d.bias"].shape == (400,)


def test_checkpoint_round_trip_and_errors(model: I3D, tmp_path) -> None:
    path = tmp_path / "rgb_imagenet.pt"
    torch.save(model.state_dict(), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = load_i3d_checkpoint(path, sha256=digest)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    with pytest.raises(CheckpointError, match="not found"):
        load_i3d_checkpoint(tmp_path / "absent.pt")
    with pytest.raises(CheckpointError, match="does not match"):
        load_i3d_checkpoint(path, sha256="0" * 64)
    broken = dict(model.state_dict())
    broken.pop("Mixed_3b.b0.bn.running_var")
    broken["logits.conv3d.bias"] = torch.zeros(7)
    broken["extra.weight"] = torch.zeros(1)
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError) as error:
        load_i3d_checkpoint(tmp_path / "broken.pt")
    message = str(error.value)
    assert "missing key Mixed_3b.b0.bn.running_var" in message
    assert "unexpected key extra.weight" in message
    assert "logits.conv3d.bias: shape [7], expected [400]" in message


def test_feature_steps_table() -> None:
    assert [feature_steps(t) for t in (16, 32, 60, 64, 128)] == [1, 3, 7, 7, 15]


def test_features_shape_and_fast_path_equal(model: I3D) -> None:
    clip = torch.rand(1, 3, 24, 64, 64) * 2 - 1
    reference = extract_features(model, clip)
    assert reference.shape == (1, feature_steps(24), 1024)
    fast = extract_features(fast_extractor(model), clip)
    assert torch.allclose(fast, reference, atol=1e-4)
    logits = model(clip)
    assert logits.shape == (1, 400, feature_steps(24))


@pytest.mark.parametrize("frames", [60])
def test_full_size_clip_gives_seven_steps(model: I3D, frames: int) -> None:
    features = extract_features(fast_extractor(model), torch.zeros(1, 3, frames, 224, 224))
    assert features.shape == (1, 7, 1024)
