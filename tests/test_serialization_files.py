"""cr.save / cr.load and the file system: stale temporaries of killed saves, files that are not
chainrule saves, paths that cannot be read or written, and files written by earlier versions."""

import errno
import io
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import SerializationError
from chainrule.serialization import atomic

FIXTURES = Path(__file__).parent / "fixtures"
SRC = Path(cr.__file__).resolve().parents[1]
NO_SUCH_PID = 2**22 + 12345          # above Linux's largest pid_max: no process can have it
posix_only = pytest.mark.skipif(os.name != "posix", reason="stale temporaries are found by POSIX PID checks")


def _temporaries(directory: Path) -> list:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(atomic.TEMPORARY_SUFFIX))


# --- killed saves -------------------------------------------------------------------------------
_SLOW_SAVER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import chainrule as cr
    target, ready = sys.argv[1], sys.argv[2]
    write_array = np.lib.format.write_array

    def write_then_hang(handle, array, allow_pickle):   # the first array goes out, then the save stalls
        write_array(handle, array, allow_pickle=allow_pickle)
        open(ready, "w").close()
        time.sleep(120)

    np.lib.format.write_array = write_then_hang
    cr.save({"w": np.arange(100_000, dtype=np.float32), "v": np.zeros(3)}, target)
""")


def _start_slow_save(tmp_path: Path, target: Path):
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", _SLOW_SAVER, str(target), str(ready)], env=env)
    deadline = time.monotonic() + 120
    while not ready.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            child.wait()
            pytest.fail("the saving subprocess did not reach the middle of its save")
        time.sleep(0.02)
    ready.unlink()
    return child


@posix_only
def test_a_save_killed_by_sigkill_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "ckpt" / "model.crz"
    target.parent.mkdir()
    cr.save({"version": 1}, target)
    child = _start_slow_save(tmp_path, target)
    try:
        [live] = _temporaries(target.parent)
        assert live.startswith(".model.crz.") and f".{child.pid}." in live
        assert (target.parent / live).stat().st_size > 300_000            # mid-save: the first array is out
        cr.save({"version": 2}, target)                                    # a concurrent save of the target
        assert _temporaries(target.parent) == [live], "a live writer's temporary was removed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()                                                       # reaped: no zombie keeps the PID
    assert child.returncode == -signal.SIGKILL
    assert _temporaries(target.parent) == [live]                           # SIGKILL: nothing cleaned up
    assert cr.load(target) == {"version": 2}
    cr.save({"version": 3}, target)
    assert _temporaries(target.parent) == []
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.crz"]
    assert cr.load(target) == {"version": 3}


@posix_only
def test_only_this_targets_temporaries_of_dead_writers_on_this_machine_are_removed(tmp_path):
    here = atomic.machine_id()
    other_machine = f"{(int(here, 16) + 1) % 2**32:08x}"
    names = {
        "dead_here": f".m.crz.{here}.{NO_SUCH_PID}.0123456789abcdef{atomic.TEMPORARY_SUFFIX}",
        "alive_here": f".m.crz.{here}.{os.getpid()}.0123456789abcdef{atomic.TEMPORARY_SUFFIX}",
        "dead_elsewhere": f".m.crz.{other_machine}.{NO_SUCH_PID}.0123456789abcdef{atomic.TEMPORARY_SUFFIX}",
        "other_target": f".m.crz2.{here}.{NO_SUCH_PID}.0123456789abcdef{atomic.TEMPORARY_SUFFIX}",
        "old_style": ".m.crz.0123456789abcdef0123456789abcdef.tmp",
        "unrelated": f"m.crz.{here}.{NO_SUCH_PID}.0123456789abcdef{atomic.TEMPORARY_SUFFIX}",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    cr.save({"x": 1}, tmp_path / "m.crz")
    left = {p.name for p in tmp_path.iterdir()}
    assert names["dead_here"] not in left
    assert left == (set(names.values()) - {names["dead_here"]}) | {"m.crz"}


def test_temporary_names_stay_short_for_long_target_names(tmp_path):
    target = tmp_path / ("ü" * 120 + ".crz")                  # 245 bytes: near the usual 255-byte limit
    cr.save({"x": 1}, target)
    assert cr.load(target) == {"x": 1}


@posix_only
def test_process_exists_is_conservative():
    assert atomic.process_exists(os.getpid())
    assert not atomic.process_exists(NO_SUCH_PID)
    assert atomic.process_exists(0) and atomic.process_exists(-5)


# --- files that are not chainrule saves -----------------------------------------------------------
def test_missing_file_and_directory_are_chainrule_errors_and_os_errors(tmp_path):
    with pytest.raises(SerializationError, match="no such file") as missing:
        cr.load(tmp_path / "absent.crz")
    assert isinstance(missing.value, FileNotFoundError) and missing.value.errno == errno.ENOENT
    with pytest.raises(SerializationError, match="is a directory") as directory:
        cr.load(tmp_path)
    assert isinstance(directory.value, OSError)


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"not a zip at all, just text", "not a zip archive"),
    (pickle.dumps({"w": [1.0]}), "pickle"),
    (b"\x93NUMPY\x01\x00" + b"\0" * 100, "NumPy .npy"),
    (b"PK\x03\x04" + b"\0" * 10, "truncated"),
    (b"PK\x05\x06" + b"\0" * 18, "no manifest.json"),
])
def test_other_files_get_one_clear_error(tmp_path, content, message):
    path = tmp_path / "file.crz"
    path.write_bytes(content)
    with pytest.raises(SerializationError, match=message):
        cr.load(path)


def test_torch_checkpoints_are_named_with_how_to_convert(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(3)}, tmp_path / "model.pt")
    with pytest.raises(SerializationError, match=r"PyTorch checkpoint \(torch.save\).*torch.load\(.*cr.save"):
        cr.load(tmp_path / "model.pt")
    torch.save({"w": torch.ones(3)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(SerializationError, match="pickle"):
        cr.load(tmp_path / "old.pt")


def test_npz_archives_are_named(tmp_path):
    np.savez(tmp_path / "a.npz", w=np.zeros(3))
    with pytest.raises(SerializationError, match=r"NumPy \.npz archive"):
        cr.load(tmp_path / "a.npz")


def test_file_objects_that_cannot_be_read_get_clear_errors(tmp_path):
    path = tmp_path / "m.crz"
    cr.save({"x": 1}, path)
    with open(path, encoding="latin-1") as text:
        with pytest.raises(SerializationError, match="text mode"):
            cr.load(text)
    with open(tmp_path / "w.crz", "wb") as write_only:
        with pytest.raises(SerializationError, match="cannot read"):
            cr.load(write_only)
    handle = open(path, "rb")
    handle.close()
    with pytest.raises(SerializationError, match="cannot read"):
        cr.load(handle)
    with pytest.raises(SerializationError, match="expected a file name"):
        cr.load(42)
    with open(tmp_path / "t.txt", "w") as text:
        with pytest.raises(SerializationError, match="text mode"):
            cr.save({"x": 1}, text)


def test_file_objects_load_from_their_start_and_unseekable_ones_are_read_whole(tmp_path):
    path = tmp_path / "m.crz"
    cr.save({"w": cr.ones(2)}, path)
    with open(path, "rb") as handle:
        handle.seek(7)
        np.testing.assert_array_equal(cr.load(handle)["w"].numpy(), [1, 1])
    read, write = os.pipe()
    with open(write, "wb") as pipe_in:
        pipe_in.write(path.read_bytes())
    with open(read, "rb") as pipe_out:
        np.testing.assert_array_equal(cr.load(pipe_out)["w"].numpy(), [1, 1])


# --- paths that cannot be written -----------------------------------------------------------------
def test_save_into_a_missing_directory_or_onto_a_directory(tmp_path):
    with pytest.raises(SerializationError, match="does not exist") as missing:
        cr.save({"x": 1}, tmp_path / "nowhere" / "m.crz")
    assert isinstance(missing.value, FileNotFoundError)
    with pytest.raises(SerializationError, match="is a directory") as directory:
        cr.save({"x": 1}, tmp_path)
    assert isinstance(directory.value, IsADirectoryError)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions (root ignores them)")
def test_save_into_a_read_only_directory(tmp_path):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(SerializationError, match="cannot write in") as denied:
            cr.save({"x": 1}, tmp_path / "m.crz")
    finally:
        tmp_path.chmod(0o755)
    assert isinstance(denied.value, PermissionError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("code,kind", [(errno.EROFS, OSError), (errno.EACCES, PermissionError)])
def test_save_where_the_system_refuses_to_create_files(tmp_path, monkeypatch, code, kind):
    """A read-only file system, or (for root too) a directory without write permission."""
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise kind(code, os.strerror(code), path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(SerializationError, match=f"cannot write in .*{os.strerror(code)}") as denied:
        cr.save({"x": 1}, tmp_path / "m.crz")
    assert isinstance(denied.value, kind) and denied.value.errno == code
    assert list(tmp_path.iterdir()) == []


# --- files written by earlier versions --------------------------------------------------------------
def _golden_state():
    """What tests/fixtures/chainrule_v1*.crz hold (written by the first cr.save, to a path and to an
    unseekable stream)."""
    return {
        "layer.weight": cr.tensor(np.arange(12, dtype=np.float32).reshape(4, 3) / 7),
        "layer.bias": cr.tensor(np.linspace(-1, 1, 3), dtype=cr.float64),
        "mask": cr.tensor(np.array([True, False, True])),
        "big_endian": np.arange(3, dtype=">i4"),
        "complex": np.array([1 + 2j, -0.5j], dtype=np.complex64),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
        "scalar": np.float32(0.1),
        "empty": np.zeros((0, 5), dtype=np.float32),
        "optimizer": {"state": {0: {"step": 7, "buf": None}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False,
                                        "name": "b\u00f6dy \U0001f600", "eps": float("nan"), "huge": -2**80,
                                        "params": [0, 1]}]},
    }


@pytest.mark.parametrize("fixture", ["chainrule_v1.crz", "chainrule_v1_streamed.crz"])
def test_files_written_by_the_first_version_still_load(fixture):
    loaded, expected = cr.load(FIXTURES / fixture), _golden_state()
    assert list(loaded) == list(expected)
    for key in ("layer.weight", "layer.bias", "mask"):
        assert type(loaded[key]) is cr.Tensor and loaded[key].numpy().dtype == expected[key].numpy().dtype
        np.testing.assert_array_equal(loaded[key].numpy(), expected[key].numpy())
    for key in ("big_endian", "complex", "fortran", "empty"):
        assert loaded[key].dtype == expected[key].dtype and loaded[key].shape == expected[key].shape
        np.testing.assert_array_equal(loaded[key], expected[key])
    assert loaded["fortran"].flags.f_contiguous
    assert type(loaded["scalar"]) is np.float32 and loaded["scalar"] == expected["scalar"]
    assert np.isnan(loaded["optimizer"]["param_groups"][0].pop("eps"))
    del expected["optimizer"]["param_groups"][0]["eps"]
    assert loaded["optimizer"] == expected["optimizer"]


def test_saves_to_unseekable_streams_load(tmp_path):
    read, write = os.pipe()
    state = {"w": cr.tensor(np.arange(5, dtype=np.float32)), "n": [1, "two"]}
    with open(write, "wb") as pipe_in:
        cr.save(state, pipe_in)              # the pipe's buffer holds these few KB
    with open(read, "rb") as pipe_out:
        data = pipe_out.read()
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].flag_bits & 0x08     # sizes in data descriptors
    loaded = cr.load(io.BytesIO(data))
    np.testing.assert_array_equal(loaded["w"].numpy(), state["w"].numpy())
    assert loaded["n"] == [1, "two"]
