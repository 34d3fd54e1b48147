"""What a safetensors file cannot hold is refused by name before anything is written, saves are
atomic, and a corrupt or hostile .safetensors file gives SerializationError and nothing else."""

import json
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import SerializationError
from chainrule.serialization import atomic, safetensors_format

pytest.importorskip("safetensors")


def _file(header: dict, data: bytes = b"", header_bytes: bytes | None = None) -> bytes:
    text = json.dumps(header).encode() if header_bytes is None else header_bytes
    return struct.pack("<Q", len(text)) + text + data


def _temporaries(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(atomic.TEMPORARY_SUFFIX)]


# --- what cannot be stored ----------------------------------------------------------------------
def test_an_optimizer_state_dict_is_refused_with_the_reason_and_the_alternative(tmp_path):
    model = nn.Linear(2, 2)
    optimizer = optim.Adam(model.parameters())
    ((model(cr.ones(1, 2))) ** 2).sum().backward()
    optimizer.step()
    refused = r"optimizer's state_dict\(\).*flat dict of tensors.*cr.save"
    with pytest.raises(SerializationError, match=refused):
        cr.save(optimizer.state_dict(), tmp_path / "opt.safetensors")
    assert list(tmp_path.iterdir()) == []
    cr.save(optimizer.state_dict(), tmp_path / "opt.pt")            # the native format holds it
    assert cr.load(tmp_path / "opt.pt")["param_groups"][0]["lr"] == 0.001


@pytest.mark.parametrize("obj, match", [
    ({"model": {"w": cr.ones(2)}}, r"key 'model' holds a dict .*nested dict.*flat dict of tensors"),
    ({"w": cr.ones(2), "epoch": 3}, r"only tensors, but key 'epoch' holds a int \(3\)"),
    ({"w": cr.ones(2), "note": "hi"}, r"key 'note' holds a str"),
    ({"w": None}, r"key 'w' holds a NoneType"),
    ({"w": [cr.ones(2)]}, r"key 'w' holds a list"),
    ({0: cr.ones(2)}, r"keys must be strings; key 0 is a int"),
    ([cr.ones(2)], r"flat dict of name -> tensor .*got a list"),
    (cr.ones(2), r"flat dict of name -> tensor .*got a \(2,\) float32 tensor"),
    ({"c": np.zeros(2, np.complex128)}, r"key 'c' is a complex128 tensor.*stores bool"),
    ({"s": np.array(["a"])}, r"key 's' is a <U1 tensor"),
])
def test_what_safetensors_cannot_hold_is_named_and_nothing_is_written(obj, match, tmp_path):
    with pytest.raises(SerializationError, match=match):
        cr.save(obj, tmp_path / "x.safetensors")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("metadata", [{"a": 1}, {1: "a"}, ["a"], "text"])
def test_metadata_must_be_a_dict_of_strings(metadata, tmp_path):
    with pytest.raises(SerializationError, match="metadata must be a dict of str -> str"):
        cr.save({"w": cr.ones(1)}, tmp_path / "x.safetensors", metadata=metadata)


def test_metadata_and_unknown_formats_in_the_native_format_are_errors(tmp_path):
    with pytest.raises(SerializationError, match="metadata= is for safetensors files"):
        cr.save({"w": cr.ones(1)}, tmp_path / "x.pt", metadata={"a": "b"})
    with pytest.raises(SerializationError, match="unknown format='onnx'.*'chainrule'.*'safetensors'"):
        cr.save({"w": cr.ones(1)}, tmp_path / "x.pt", format="onnx")
    assert list(tmp_path.iterdir()) == []


def test_without_the_package_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    cr.save({"w": cr.ones(1)}, tmp_path / "x.safetensors")
    monkeypatch.setattr(safetensors_format, "safetensors_numpy", None)
    for action in (lambda: cr.save({"w": cr.ones(1)}, tmp_path / "y.safetensors"),
                   lambda: cr.load(tmp_path / "x.safetensors")):
        with pytest.raises(SerializationError, match=r"safetensors package.*not installed.*pip") as info:
            action()
        assert isinstance(info.value, ImportError)


# --- atomic saves -------------------------------------------------------------------------------
def test_a_save_that_fails_while_writing_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    cr.save({"w": cr.zeros(3)}, path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(SerializationError, match="could not write"):
        cr.save({"w": cr.ones(3)}, path)
    assert path.read_bytes() == before
    assert _temporaries(tmp_path) == []


def test_the_save_goes_through_a_temporary_beside_the_target(tmp_path, monkeypatch):
    seen = []
    replace = atomic.os.replace

    def spy(source, target):
        seen.append((source, target))
        replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", spy)
    cr.save({"w": cr.zeros(3)}, tmp_path / "m.safetensors")
    [(source, target)] = seen
    assert source.endswith(atomic.TEMPORARY_SUFFIX) and target == str(tmp_path / "m.safetensors")


# --- corrupt and hostile files ------------------------------------------------------------------
def _valid_bytes() -> bytes:
    import safetensors.numpy
    return safetensors.numpy.save({"a": np.arange(6, dtype=np.float32).reshape(2, 3),
                                   "b": np.ones(4, dtype=np.int64)}, metadata={"k": "v"})


def test_every_truncation_of_a_file_is_refused(tmp_path):
    data = _valid_bytes()
    path = tmp_path / "t.safetensors"
    for length in range(1, len(data)):
        path.write_bytes(data[:length])
        with pytest.raises(SerializationError):
            cr.load(path)


def test_changed_header_bytes_are_refused_or_load_as_valid_tensors(tmp_path):
    data = _valid_bytes()
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    path = tmp_path / "c.safetensors"
    rng = np.random.default_rng(0)
    refused = 0
    for position in range(header_end):
        for value in rng.choice(256, size=3, replace=False):
            changed = bytearray(data)
            changed[position] = value
            path.write_bytes(bytes(changed))
            try:
                loaded = cr.load(path)
            except SerializationError:
                refused += 1
                continue
            assert all(isinstance(t, cr.Tensor) for t in loaded.values())   # what loads is well formed
    assert refused > header_end       # most changes break the header


@pytest.mark.parametrize("data, match", [
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4), None),
    (_file({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8), None),
    (_file({"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, b"\0" * 8), None),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8), None),
    (_file({"a": {"dtype": "XX", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8), None),
    (_file({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4), "no type for"),
    (_file({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8), None),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8), None),
    (_file({"a": 5}, b""), None),
    (_file({}, header_bytes=b"{not json"), None),
    (_file({}, header_bytes=b'{"a": ' * 10000), None),
    (struct.pack("<Q", 2**62) + b"{}", None),
    (struct.pack("<Q", 300 * 2**20) + b"{" + b" " * 100, None),
    (_file({"__metadata__": {"k": 1}}), None),
])
def test_hostile_headers_give_serialization_error(data, match, tmp_path):
    path = tmp_path / "h.safetensors"
    path.write_bytes(data)
    with pytest.raises(SerializationError, match=match) as info:
        cr.load(path)
    assert "safetensors" in str(info.value)


def test_content_decides_what_a_file_is_not_its_name(tmp_path):
    (tmp_path / "weights.bin").write_bytes(_valid_bytes())
    assert cr.load(tmp_path / "weights.bin")["b"].shape == (4,)
    pickled = b"\x80\x04\x95" + b"\x01" * 5 + b"{" + b"\x00" * 20     # a '{' at byte 8 of a pickle
    (tmp_path / "p.safetensors").write_bytes(pickled)
    with pytest.raises(SerializationError, match="not a valid safetensors file"):
        cr.load(tmp_path / "p.safetensors")
    (tmp_path / "p.pt").write_bytes(pickled)
    with pytest.raises(SerializationError, match="looks like a pickle file"):
        cr.load(tmp_path / "p.pt")


def test_an_empty_file_and_a_non_seekable_stream(tmp_path):
    (tmp_path / "e.safetensors").write_bytes(b"")
    with pytest.raises(SerializationError, match="empty"):
        cr.load(tmp_path / "e.safetensors")

    class Stream:
        def __init__(self, data):
            self.data = data

        def read(self, n=-1):
            chunk, self.data = (self.data, b"") if n < 0 else (self.data[:n], self.data[n:])
            return chunk

    loaded = cr.load(Stream(_valid_bytes()))
    assert loaded["b"].numpy().tolist() == [1, 1, 1, 1]
