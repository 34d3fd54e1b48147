"""cr.save / cr.load of .safetensors files, and state dicts crossing to PyTorch and back through them.

The same architecture is built in chainrule and in PyTorch; a state dict written by one side's
safetensors writer loads into the other side's model, which then computes the same outputs."""

import io

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import safetensors_format

safetensors = pytest.importorskip("safetensors")
torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(6, 16), lib.nn.ReLU(), lib.nn.Linear(16, 8), lib.nn.Tanh(),
                             lib.nn.Linear(8, 3))


def _cnn(lib):
    n = lib.nn
    return n.Sequential(n.Conv2d(3, 8, 3, padding=1), n.BatchNorm2d(8), n.ReLU(), n.MaxPool2d(2),
                        n.Conv2d(8, 4, 3, stride=2, groups=2), n.BatchNorm2d(4), n.ReLU(), n.Flatten(),
                        n.Linear(4, 5), n.BatchNorm1d(5))


def _layernorm(lib):
    return lib.nn.Sequential(lib.nn.Linear(10, 12), lib.nn.LayerNorm(12), lib.nn.GELU(), lib.nn.Linear(12, 4))


def _embedding(lib):
    return lib.nn.Sequential(lib.nn.Embedding(20, 8, padding_idx=0), lib.nn.LayerNorm(8), lib.nn.Linear(8, 3))


def _input(kind, rng):
    if kind == "mlp":
        return rng.standard_normal((5, 6)).astype(np.float32)
    if kind == "cnn":
        return rng.standard_normal((4, 3, 8, 8)).astype(np.float32)
    if kind == "layernorm":
        return rng.standard_normal((5, 7, 10)).astype(np.float32)
    return rng.integers(0, 20, (4, 9))


MODELS = {"mlp": _mlp, "cnn": _cnn, "layernorm": _layernorm, "embedding": _embedding}


def _train_batch_norm(model, x):
    """A few training-mode passes, so running statistics and num_batches_tracked are not their defaults."""
    model.train()
    for _ in range(3):
        model(x)
    model.eval()


def _torch_out(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def _chainrule_out(model, x):
    with cr.no_grad():
        return model(cr.from_numpy(x)).numpy()


@pytest.mark.parametrize("kind", list(MODELS))
def test_a_state_dict_saved_by_pytorch_loads_into_the_chainrule_model(kind, tmp_path):
    rng = np.random.default_rng(1)
    x = _input(kind, rng)
    torch.manual_seed(0)
    theirs = MODELS[kind](torch)
    _train_batch_norm(theirs, torch.from_numpy(x))
    path = tmp_path / "torch.safetensors"
    safetensors_torch.save_file(theirs.state_dict(), str(path))

    ours = MODELS[kind](cr).eval()
    loaded = cr.load(path)
    assert set(loaded) == set(theirs.state_dict())
    for name, value in theirs.state_dict().items():   # every tensor arrives bit for bit, dtype and all
        expected_dtype = cr.int64 if value.dtype == torch.int64 else cr.float32
        assert loaded[name].dtype == expected_dtype and loaded[name].shape == tuple(value.shape), name
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())
    ours.load_state_dict(loaded)
    np.testing.assert_allclose(_chainrule_out(ours, x), _torch_out(theirs, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", list(MODELS))
def test_a_state_dict_saved_by_chainrule_loads_into_the_pytorch_model(kind, tmp_path):
    rng = np.random.default_rng(2)
    x = _input(kind, rng)
    cr.manual_seed(3)
    ours = MODELS[kind](cr)
    _train_batch_norm(ours, cr.from_numpy(x))
    path = tmp_path / "chainrule.safetensors"
    cr.save(ours.state_dict(), path)

    theirs = MODELS[kind](torch).eval()
    state = safetensors_torch.load_file(str(path))
    theirs.load_state_dict(state, strict=True)
    for name, value in ours.state_dict().items():   # every tensor arrives bit for bit, dtype and shape
        assert tuple(state[name].shape) == value.shape, name
        np.testing.assert_array_equal(state[name].numpy(), value.numpy(), err_msg=name)
    if kind == "cnn":
        assert state["1.num_batches_tracked"].shape == () and int(state["1.num_batches_tracked"]) == 3
        assert state["1.num_batches_tracked"].dtype == torch.int64
    np.testing.assert_allclose(_torch_out(theirs, x), _chainrule_out(ours, x), rtol=1e-5, atol=1e-6)


def test_the_format_is_chosen_by_keyword_or_extension_and_recognised_by_content(tmp_path):
    state = {"w": cr.randn(3, 2), "step": cr.tensor(4)}
    cr.save(state, tmp_path / "a.safetensors")
    cr.save(state, tmp_path / "b.pt", format="safetensors")
    cr.save(state, tmp_path / "c.SAFETENSORS")
    cr.save(state, tmp_path / "d.safetensors", format="chainrule")
    cr.save(state, tmp_path / "e.pt")
    for name in ("a.safetensors", "b.pt", "c.SAFETENSORS"):
        assert (tmp_path / name).read_bytes()[8:9] == b"{", name
        assert set(safetensors_torch.load_file(str(tmp_path / name))) == {"w", "step"}
    for name in ("d.safetensors", "e.pt"):
        assert (tmp_path / name).read_bytes()[:2] == b"PK", name
    for name in ("a.safetensors", "b.pt", "c.SAFETENSORS", "d.safetensors", "e.pt"):
        loaded = cr.load(tmp_path / name)
        np.testing.assert_array_equal(loaded["w"].numpy(), state["w"].numpy(), strict=True)
        assert loaded["step"].shape == () and loaded["step"].item() == 4 and loaded["step"].dtype == cr.int64


def test_file_objects_work_both_ways_and_loaded_tensors_are_writable():
    buffer = io.BytesIO()
    cr.save({"w": cr.ones(2, 2)}, buffer, format="safetensors")
    buffer.seek(0)
    loaded = cr.load(buffer)
    loaded["w"].add_(1.0)          # not a read-only view of the file's bytes
    assert loaded["w"].numpy().tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_dtypes_non_contiguous_and_big_endian_arrays_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 6)).astype(np.float32)
    state = {"transposed": cr.from_numpy(base).T, "strided": base[:, ::2], "big": base.astype(">f8"),
             "half": base.astype(np.float16), "mask": base > 0, "u8": np.arange(5, dtype=np.uint8),
             "i32": np.arange(-3, 3, dtype=np.int32), "scalar": np.array(2.5, dtype=np.float64)}
    path = tmp_path / "dtypes.safetensors"
    cr.save(state, path)
    loaded = cr.load(path)
    for key, value in state.items():
        expected = value.numpy() if isinstance(value, cr.Tensor) else value
        assert loaded[key].numpy().dtype == expected.dtype.newbyteorder("="), key
        assert loaded[key].shape == expected.shape, key
        np.testing.assert_array_equal(loaded[key].numpy(), expected, err_msg=key)


def test_metadata_is_written_for_other_readers_and_read_back(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save({"w": cr.zeros(2)}, path, metadata={"format": "pt", "epochs": "20"})
    assert safetensors_format.read_metadata(path) == {"format": "pt", "epochs": "20"}
    with safetensors.safe_open(str(path), framework="pt") as handle:
        assert handle.metadata() == {"format": "pt", "epochs": "20"}
    cr.save({"w": cr.zeros(2)}, path)
    assert safetensors_format.read_metadata(path) is None


def test_map_location_applies_to_safetensors_too(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save({"w": cr.zeros(2)}, path)
    seen = []
    cr.load(path, map_location=lambda tensor, where: seen.append(where))
    assert seen == ["cpu"]
    assert cr.load(path, map_location="cpu", weights_only=True)["w"].shape == (2,)
