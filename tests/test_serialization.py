"""cr.save / cr.load: exact round trips, atomic writes, and hostile files rejected without running code."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ChainruleError, SerializationError


def _state():
    rng = np.random.default_rng(3)
    return {
        "layer.weight": cr.tensor(rng.normal(size=(4, 3)).astype(np.float32)),
        "layer.bias": cr.tensor(rng.normal(size=(3,)), dtype=cr.float64),
        "half": cr.tensor(rng.normal(size=(2, 2)).astype(np.float16)),
        "steps": cr.tensor(np.arange(5, dtype=np.int64)),
        "mask": cr.tensor(np.array([True, False, True])),
        "bytes": np.arange(7, dtype=np.uint8),
        "big_endian": np.arange(3, dtype=">i4"),
        "complex": np.array([1 + 2j, -0.5j], dtype=np.complex128),
        "fortran": np.asfortranarray(rng.normal(size=(3, 4))),
        "scalar_array": np.array(2.5, dtype=np.float32),
        "numpy_scalar": np.float32(0.1),
        "empty": np.zeros((0, 5), dtype=np.float32),
        "specials": cr.tensor(np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45], dtype=np.float32)),
        "optimizer": {
            "state": {0: {"step": 7, "exp_avg": cr.tensor(rng.normal(size=(4, 3)).astype(np.float32))},
                      1: {"momentum_buffer": None}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": False, "name": "body",
                              "eps": float("nan"), "huge": 2**80, "params": [0, 1]}],
        },
    }


def _assert_same(expected, actual):
    assert type(actual) is type(expected) or (isinstance(expected, cr.Tensor) and type(actual) is cr.Tensor)
    if isinstance(expected, cr.Tensor):
        expected, actual = expected.numpy(), actual.numpy()
    if isinstance(expected, (np.ndarray, np.generic)):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        assert np.asarray(actual).tobytes(order="A") == np.asarray(expected).tobytes(order="A")
    elif isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            _assert_same(expected[key], actual[key])
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for a, b in zip(expected, actual):
            _assert_same(a, b)
    elif isinstance(expected, float) and np.isnan(expected):
        assert np.isnan(actual)
    else:
        assert actual == expected


def test_round_trip_is_bit_exact(tmp_path):
    state = _state()
    path = tmp_path / "model.crz"
    cr.save(state, path)
    loaded = cr.load(path)
    _assert_same(state, loaded)
    assert loaded["fortran"].flags.f_contiguous
    loaded["layer.weight"].numpy()[0, 0] = 99.0        # loaded arrays are writable and independent
    assert state["layer.weight"].numpy()[0, 0] != 99.0
    assert cr.load(str(path))["optimizer"]["state"][0]["step"] == 7


def test_round_trip_through_file_objects():
    buffer = io.BytesIO()
    cr.save({"w": cr.ones(2, 2)}, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(cr.load(buffer)["w"].numpy(), np.ones((2, 2), np.float32))


def test_model_and_optimizer_round_trip(tmp_path):
    nn = pytest.importorskip("chainrule.nn")
    model = nn.Linear(3, 2)
    optimizer = cr.optim.Adam(model.parameters(), lr=0.01)
    model(cr.randn(5, 3)).sum().backward()
    optimizer.step()
    cr.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt")
    checkpoint = cr.load(tmp_path / "ckpt")
    _assert_same({"model": dict(model.state_dict()), "optimizer": optimizer.state_dict()}, checkpoint)
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(checkpoint["model"])
    np.testing.assert_array_equal(fresh.weight.numpy(), model.weight.numpy())


def test_unsupported_values_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.crz"
    with pytest.raises(SerializationError, match="object"):
        cr.save({"bad": object()}, path)
    with pytest.raises(SerializationError, match="dtype"):
        cr.save({"bad": np.array(["a", None], dtype=object)}, path)
    with pytest.raises(SerializationError, match="key"):
        cr.save({(1, 2): 3}, path)
    looped = []
    looped.append(looped)
    with pytest.raises(SerializationError, match="nested"):
        cr.save(looped, path)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.crz"
    cr.save({"version": 1, "w": cr.ones(3)}, path)
    original = path.read_bytes()

    calls = []
    write_array = np.lib.format.write_array

    def failing_write_array(handle, array, allow_pickle):
        calls.append(array.shape)
        if len(calls) == 2:
            handle.write(b"partial")
            raise OSError("disk full")
        write_array(handle, array, allow_pickle=allow_pickle)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array, raising=True)
    with pytest.raises(OSError, match="disk full"):
        cr.save({"version": 2, "w": cr.zeros(3), "v": cr.zeros(4)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["model.crz"]   # no temporary left behind
    assert cr.load(path)["version"] == 1


def test_failed_rename_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.crz"
    cr.save({"version": 1}, path)

    def failing_replace(source, target):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="power cut"):
        cr.save({"version": 2}, path)
    monkeypatch.undo()
    assert cr.load(path) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["model.crz"]


class _Boom:
    """Unpickling this would run code; a test fails if the marker appears."""

    def __reduce__(self):
        return (os.system, ("echo pwned > chainrule_pwned_marker",))


def test_pickle_is_rejected_and_not_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _Boom()}))
    with pytest.raises(SerializationError, match="pickle"):
        cr.load(path)
    assert not (tmp_path / "chainrule_pwned_marker").exists()


def _write_zip(path, entries: dict, manifest=None):
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
        if manifest is not None:
            archive.writestr("manifest.json", json.dumps(manifest))


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _lying_npy(shape):
    """A .npy header claiming ``shape`` of float32 (the data that follows is up to the caller)."""
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _manifest(root):
    return {"format": "chainrule-state", "version": 1, "root": root}


OBJECT_NODE = {"type": "ndarray", "entry": "arrays/0.npy", "dtype": "|O", "shape": [1]}
FLOAT_NODE = {"type": "tensor", "entry": "arrays/0.npy", "dtype": "<f4", "shape": [3]}

HOSTILE = {
    "object_array_in_manifest": ({"arrays/0.npy": _npy(np.array([_Boom()], dtype=object), True)},
                                 _manifest(OBJECT_NODE), "malformed array node"),
    "object_array_behind_float_manifest": ({"arrays/0.npy": _npy(np.array([_Boom()], dtype=object), True)},
                                           _manifest(FLOAT_NODE), "corrupt|manifest says"),
    "missing_entry": ({}, _manifest(FLOAT_NODE), "not in the archive"),
    "shape_lie": ({"arrays/0.npy": _npy(np.zeros(2, np.float32))}, _manifest(FLOAT_NODE), "manifest says"),
    "huge_shape_small_data": ({"arrays/0.npy": _lying_npy((10**12,)) + b"\0" * 12},
                              _manifest({**FLOAT_NODE, "shape": [10**12]}), "needs 4000000000000"),
    "garbled_header": ({"arrays/0.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': __import__"},
                       _manifest(FLOAT_NODE), "corrupt"),
    "no_manifest": ({"arrays/0.npy": _npy(np.zeros(3, np.float32))}, None, "no manifest.json"),
    "wrong_format": ({}, {"format": "other", "version": 1, "root": {"type": "none"}}, "does not describe"),
    "future_version": ({}, {"format": "chainrule-state", "version": 99, "root": {"type": "none"}}, "version"),
    "unknown_node": ({}, _manifest({"type": "pickle", "value": "x"}), "unknown"),
    "str_as_int": ({}, _manifest({"type": "int", "value": "12"}), "expected an integer"),
    "bad_dict_key": ({}, _manifest({"type": "dict", "items": [[[1], {"type": "none"}]]}), "dict item"),
    "deep_nesting": ({}, _manifest(json.loads('{"type": "list", "items": [' * 150 + "]}" * 150)), "nested"),
    "negative_shape": ({}, _manifest({**FLOAT_NODE, "shape": [-1]}), "malformed array node"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_rejected(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entries, manifest, message = HOSTILE[case]
    path = tmp_path / "hostile.crz"
    _write_zip(path, entries, manifest)
    with pytest.raises(SerializationError, match=message):
        cr.load(path)
    assert not (tmp_path / "chainrule_pwned_marker").exists()


def test_compressed_entries_are_rejected(tmp_path):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, w=np.zeros(3))
    with pytest.raises(SerializationError, match="manifest"):
        cr.load(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("arrays/0.npy", _npy(np.zeros(3, np.float32)))
        archive.writestr("manifest.json", json.dumps(_manifest(FLOAT_NODE)), compress_type=zipfile.ZIP_STORED)
    with pytest.raises(SerializationError, match="compressed"):
        cr.load(path)


@pytest.mark.parametrize("cut", [0, 1, 10, 100, -200, -30, -1])
def test_truncated_files_are_rejected(tmp_path, cut):
    path = tmp_path / "model.crz"
    cr.save(_state(), path)
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut else b"")
    with pytest.raises(SerializationError):
        cr.load(path)


def test_flipped_data_byte_is_caught_by_the_checksum(tmp_path):
    path = tmp_path / "model.crz"
    cr.save({"w": cr.tensor(np.arange(64, dtype=np.float32))}, path)
    data = bytearray(path.read_bytes())
    marker = np.arange(64, dtype=np.float32).tobytes()[100:108]
    position = bytes(data).index(marker)
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="corrupt"):
        cr.load(path)


def test_errors_are_chainrule_errors_and_missing_files_stay_os_errors(tmp_path):
    assert issubclass(SerializationError, ChainruleError)
    (tmp_path / "junk").write_bytes(b"not a zip at all")
    with pytest.raises(ChainruleError, match="not a chainrule save file"):
        cr.load(tmp_path / "junk")
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "absent")
