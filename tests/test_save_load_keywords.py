"""cr.save / cr.load take the keywords torch.save / torch.load scripts pass, and checkpoints round-trip."""

import io
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import SerializationError


def _trained(seed=0):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    x, y = cr.randn(8, 3), cr.randn(8, 2)
    for _ in range(2):
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler, (x, y)


def _step(model, optimizer, batch):
    x, y = batch
    optimizer.zero_grad()
    ((model(x) - y) ** 2).mean().backward()
    optimizer.step()


def test_a_training_checkpoint_round_trips_and_training_resumes_identically(tmp_path):
    model, optimizer, scheduler, batch = _trained()
    checkpoint = {"epoch": 3, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict(), "loss": 0.12, "note": "run a", "best": None}
    path = tmp_path / "checkpoint.pt"
    cr.save(checkpoint, path, pickle_module=pickle, pickle_protocol=4, _use_new_zipfile_serialization=False)
    loaded = cr.load(path, map_location="cpu", weights_only=True)
    assert loaded["epoch"] == 3 and type(loaded["epoch"]) is int
    assert loaded["loss"] == 0.12 and loaded["note"] == "run a" and loaded["best"] is None
    assert list(loaded["model"]) == list(checkpoint["model"])

    restored, restored_optimizer, restored_scheduler, _ = _trained(seed=1)   # different weights and state
    restored.load_state_dict(loaded["model"])
    restored_optimizer.load_state_dict(loaded["optimizer"])
    restored_scheduler.load_state_dict(loaded["scheduler"])
    assert restored_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    _step(model, optimizer, batch)
    _step(restored, restored_optimizer, batch)
    for (name, mine), theirs in zip(model.state_dict().items(), restored.state_dict().values()):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=name)


@pytest.mark.parametrize("map_location", [
    None, "cpu", "CPU", "cpu:0", {"cuda:0": "cpu"}, {"cuda:1": "cpu", "cpu": "cpu"},
    type("CpuDevice", (), {"type": "cpu", "__str__": lambda self: "cpu"})(),
    lambda storage, location: storage, lambda storage, location: None,
], ids=["none", "cpu", "CPU", "cpu:0", "dict", "dict2", "device", "identity", "returns-None"])
def test_map_locations_that_mean_the_cpu_are_accepted(map_location):
    buffer = io.BytesIO()
    cr.save({"w": cr.tensor([1.0, 2.0]), "n": 1}, buffer)
    buffer.seek(0)
    loaded = cr.load(buffer, map_location=map_location)
    assert loaded["w"].tolist() == [1.0, 2.0] and loaded["n"] == 1


def test_a_map_location_function_sees_every_tensor_and_can_replace_it(tmp_path):
    seen = []

    def double(storage, location):
        seen.append(location)
        return storage * 2

    cr.save({"a": cr.ones(2), "nested": [cr.ones(1), (cr.ones(3), 5)], "array": np.ones(2)}, tmp_path / "f")
    loaded = cr.load(tmp_path / "f", map_location=double)
    assert seen == ["cpu"] * 3
    assert loaded["a"].tolist() == [2.0, 2.0] and loaded["nested"][0].tolist() == [2.0]
    assert isinstance(loaded["nested"][1], tuple) and loaded["nested"][1][0].tolist() == [2.0] * 3
    assert loaded["nested"][1][1] == 5 and isinstance(loaded["array"], np.ndarray)


@pytest.mark.parametrize("map_location", ["cuda", "cuda:0", "mps", {"cpu": "cuda:1"}])
def test_other_devices_are_refused_clearly(tmp_path, map_location):
    cr.save({"w": cr.ones(1)}, tmp_path / "f")
    with pytest.raises(cr.DeviceError, match="CPU only"):
        cr.load(tmp_path / "f", map_location=map_location)


@pytest.mark.parametrize("keywords", [dict(weights_only=None), dict(weights_only=False), dict(mmap=True),
                                      dict(pickle_module=pickle, encoding="latin1")], ids=str)
def test_torch_load_keywords_are_accepted(tmp_path, keywords):
    cr.save([cr.arange(3), 2.5], tmp_path / "f")
    loaded = cr.load(tmp_path / "f", **keywords)
    assert loaded[0].tolist() == [0, 1, 2] and loaded[1] == 2.5


def test_weights_only_false_still_never_unpickles(tmp_path):
    torch = pytest.importorskip("torch")
    for legacy in (False, True):
        path = tmp_path / f"torch_{legacy}.pt"
        torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(SerializationError):
            cr.load(path, weights_only=False)
