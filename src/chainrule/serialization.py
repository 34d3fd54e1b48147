"""``cr.save`` / ``cr.load``: state dicts on disk, in a format that cannot run code when read.

A saved file is a zip archive (uncompressed, like NumPy's ``.npz``) holding

    manifest.json      the structure: nested dicts / lists / tuples and plain values, with
                       each array replaced by {"type": "tensor", "entry": "arrays/3.npy",
                       "dtype": "<f4", "shape": [16, 2]}
    arrays/<n>.npy     one array each, in NumPy's .npy format written with allow_pickle=False

Loading parses JSON and raw array bytes only: no pickle, no eval, no imports, so a hostile
file can at worst be rejected. Every array's dtype and shape in the .npy header must agree
with the manifest and with the entry's size before a single byte of data is read, so a
lying header cannot make ``load`` allocate more memory than the file holds.

What can be stored: Tensors (Parameters come back as plain Tensors), ndarrays and NumPy
scalars of bool / integer / float / complex dtypes, and Python ints, floats (bit-exact, as
hex), bools, strings and None, nested in dicts (str or int keys), lists and tuples; enough for
``model.state_dict()``, ``optimizer.state_dict()`` and a scheduler's.

Saving to a path is atomic: the archive is written to a temporary file in the same
directory, flushed to disk (fsync), then renamed over the target (``os.replace``), so a crash
mid-save leaves the previous file intact.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
import zipfile

from .backend import np
from .errors import SerializationError
from .tensor import Tensor

FORMAT_NAME = "chainrule-state"
FORMAT_VERSION = 1
MANIFEST_ENTRY = "manifest.json"
MAX_MANIFEST_BYTES = 256 * 2**20
MAX_NESTING = 100
_DTYPE_PATTERN = re.compile(r"^[<>|=]?[biufc][0-9]{1,2}$")   # plain numbers only: no objects, no records
_ARRAY_TYPES = ("tensor", "ndarray", "scalar")


# --- saving -----------------------------------------------------------------------------------
def _save_state(obj, path) -> None:
    """Write ``obj`` (a state dict: nested containers of tensors, arrays and plain values) to ``path``.

    ``path`` is a filename (written atomically) or a binary file object opened for writing.
    """
    arrays: list[np.ndarray] = []
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                "root": _encode(obj, arrays, "obj", 0)}
    manifest_bytes = json.dumps(manifest, ensure_ascii=True, allow_nan=False).encode("ascii")
    if hasattr(path, "write"):
        _write_archive(path, manifest_bytes, arrays)
        return
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
    # 0o666 less the umask: the new file gets the permissions a plain open() would give it
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _write_archive(handle, manifest_bytes, arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _write_archive(handle, manifest_bytes: bytes, arrays: list) -> None:
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        for number, array in enumerate(arrays):
            with archive.open(_entry_name(number), "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)
        archive.writestr(MANIFEST_ENTRY, manifest_bytes)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _entry_name(number: int) -> str:
    return f"arrays/{number}.npy"


def _encode(value, arrays: list, where: str, depth: int):
    """The manifest node for ``value``; arrays are appended to ``arrays`` and referenced by entry."""
    if depth > MAX_NESTING:
        raise SerializationError(f"save: {where} is nested more than {MAX_NESTING} levels deep "
                                 "(a container that contains itself?)")
    if isinstance(value, Tensor):
        return _encode_array("tensor", value._data, arrays, where)
    if isinstance(value, np.ndarray):
        return _encode_array("ndarray", value, arrays, where)
    if isinstance(value, np.generic):
        return _encode_array("scalar", np.asarray(value), arrays, where)
    if value is None:
        return {"type": "none"}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, int):
        return {"type": "int", "value": int(value)}
    if isinstance(value, float):
        return {"type": "float", "value": float(value).hex()}
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise SerializationError(f"save: {where} has a key {key!r} of type {type(key).__name__}; "
                                         "only str and int keys can be saved")
            items.append([key, _encode(item, arrays, f"{where}[{key!r}]", depth + 1)])
        return {"type": "dict", "items": items}
    if isinstance(value, (list, tuple)):
        return {"type": "tuple" if isinstance(value, tuple) else "list",
                "items": [_encode(item, arrays, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]}
    hint = " (save its state_dict() instead)" if hasattr(value, "state_dict") else ""
    raise SerializationError(f"save: cannot store {where}, a {type(value).__name__}{hint}; "
                             "a state dict holds tensors, arrays, numbers, bools, strings and None "
                             "in dicts, lists and tuples")


def _encode_array(kind: str, array: np.ndarray, arrays: list, where: str) -> dict:
    if not _DTYPE_PATTERN.match(array.dtype.str):
        raise SerializationError(f"save: {where} has dtype {array.dtype}; only bool, integer, float and "
                                 "complex arrays can be saved")
    arrays.append(array)
    return {"type": kind, "entry": _entry_name(len(arrays) - 1), "dtype": array.dtype.str,
            "shape": list(array.shape)}


# --- loading ----------------------------------------------------------------------------------
def _load_state(path):
    """Read what ``save`` wrote. Raises ``SerializationError`` for anything else, running no code."""
    source = path if hasattr(path, "read") else os.fspath(path)
    name = getattr(path, "name", source) if hasattr(path, "read") else source
    try:
        if not hasattr(path, "read"):
            with open(source, "rb") as handle:
                return _load_archive(handle, name)
        return _load_archive(path, name)
    except SerializationError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as err:   # zipfile, zlib, numpy and json all have their own ways to fail
        raise SerializationError(f"load({name!r}): the file is corrupt or truncated "
                                 f"({type(err).__name__}: {err})") from err


def _load_archive(handle, name):
    start = handle.read(4)
    handle.seek(0)
    if start[:1] == b"\x80":
        raise SerializationError(f"load({name!r}): this looks like a pickle file; chainrule never unpickles "
                                 "(loading a pickle can run arbitrary code). Save with cr.save instead.")
    if not zipfile.is_zipfile(handle):
        raise SerializationError(f"load({name!r}): not a chainrule save file (not a zip archive; "
                                 "it may be truncated or corrupt)")
    handle.seek(0)
    with zipfile.ZipFile(handle, "r") as archive:
        manifest = _read_manifest(archive, name)
        return _decode(manifest["root"], archive, name, 0)


def _read_manifest(archive: zipfile.ZipFile, name) -> dict:
    try:
        info = archive.getinfo(MANIFEST_ENTRY)
    except KeyError:
        raise SerializationError(f"load({name!r}): no {MANIFEST_ENTRY} inside; this zip archive was not "
                                 "written by cr.save") from None
    if info.compress_type != zipfile.ZIP_STORED or info.file_size > MAX_MANIFEST_BYTES:
        raise SerializationError(f"load({name!r}): {MANIFEST_ENTRY} is compressed or too large; "
                                 "cr.save never writes it so")
    try:
        manifest = json.loads(archive.read(info).decode("utf-8"),
                              parse_constant=_reject_constant)
    except (ValueError, RecursionError) as err:
        raise SerializationError(f"load({name!r}): {MANIFEST_ENTRY} is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME or "root" not in manifest:
        raise SerializationError(f"load({name!r}): {MANIFEST_ENTRY} does not describe a chainrule save")
    if manifest.get("version") != FORMAT_VERSION:
        raise SerializationError(f"load({name!r}): format version {manifest.get('version')!r} is not "
                                 f"supported (this chainrule reads version {FORMAT_VERSION})")
    return manifest


def _reject_constant(constant: str):
    raise ValueError(f"non-standard JSON constant {constant}")


def _decode(node, archive: zipfile.ZipFile, name, depth: int):
    def bad(problem: str):
        return SerializationError(f"load({name!r}): malformed manifest: {problem}")

    if depth > MAX_NESTING:
        raise bad(f"nested more than {MAX_NESTING} levels deep")
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise bad(f"expected a node with a 'type', got {str(node)[:80]!r}")
    kind = node["type"]
    if kind in _ARRAY_TYPES:
        array = _read_array(archive, node, name)
        if kind == "tensor":
            return Tensor(array)
        return array if kind == "ndarray" else array[()]
    if kind == "none":
        return None
    value = node.get("value")
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "float" and isinstance(value, str):
        try:
            return float.fromhex(value) if value not in ("nan", "inf", "-inf") else float(value)
        except (ValueError, OverflowError):
            raise bad(f"{value!r} is not a hex float") from None
    items = node.get("items")
    if kind in ("list", "tuple") and isinstance(items, list):
        decoded = [_decode(item, archive, name, depth + 1) for item in items]
        return tuple(decoded) if kind == "tuple" else decoded
    if kind == "dict" and isinstance(items, list):
        result = {}
        for pair in items:
            if (not isinstance(pair, list) or len(pair) != 2 or isinstance(pair[0], bool)
                    or not isinstance(pair[0], (str, int))):
                raise bad(f"a dict item must be [str or int key, node], got {str(pair)[:80]!r}")
            result[pair[0]] = _decode(pair[1], archive, name, depth + 1)
        return result
    raise bad(f"unknown or incomplete node {str(node)[:80]!r}")


def _read_array(archive: zipfile.ZipFile, node: dict, name) -> np.ndarray:
    """One .npy entry, checked against the manifest before its data is read."""
    entry, dtype_text, shape = node.get("entry"), node.get("dtype"), node.get("shape")
    if (not isinstance(entry, str) or not isinstance(dtype_text, str) or not _DTYPE_PATTERN.match(dtype_text)
            or not isinstance(shape, list)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise SerializationError(f"load({name!r}): malformed array node {str(node)[:120]!r} (only bool, "
                                 "integer, float and complex arrays are allowed)")
    try:
        info = archive.getinfo(entry)
    except KeyError:
        raise SerializationError(f"load({name!r}): the manifest refers to {entry!r}, "
                                 "which is not in the archive (truncated or tampered file)") from None
    if info.compress_type != zipfile.ZIP_STORED:
        raise SerializationError(f"load({name!r}): {entry!r} is compressed; "
                                 "cr.save stores arrays uncompressed")
    dtype = np.dtype(dtype_text)
    nbytes = math.prod(shape) * dtype.itemsize
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            header_shape, fortran_order, header_dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            header_shape, fortran_order, header_dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise SerializationError(f"load({name!r}): {entry!r} has unsupported .npy version {version}")
        if header_dtype != dtype or header_dtype.str != dtype_text or list(header_shape) != shape:
            raise SerializationError(f"load({name!r}): {entry!r} holds {header_dtype} {tuple(header_shape)}, "
                                     f"the manifest says {dtype_text} {tuple(shape)}")
        if info.file_size - stream.tell() != nbytes:
            raise SerializationError(f"load({name!r}): {entry!r} has {info.file_size - stream.tell()} bytes "
                                     f"of data, {tuple(shape)} {dtype} needs {nbytes}")
        raw = np.empty(nbytes, dtype=np.uint8)
        view, filled = memoryview(raw), 0
        while filled < nbytes:
            count = stream.readinto(view[filled:])
            if not count:
                raise SerializationError(f"load({name!r}): {entry!r} ends early (truncated file)")
            filled += count
        stream.read(1)   # reach the end of the entry so zipfile checks its CRC
    return raw.view(dtype).reshape(shape, order="F" if fortran_order else "C")


# --- PyTorch's signatures: torch.save / torch.load keywords over the two functions above ------
def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save ``obj`` to ``f`` (a path, written atomically, or a binary file object), as ``torch.save``.

        cr.save({'epoch': 3, 'model': model.state_dict(), 'optimizer': opt.state_dict(), 'loss': 0.12},
                'checkpoint.pt')

    ``obj`` may be tensors, arrays, numbers, bools, strings and None nested in dicts, lists and
    tuples: a state dict, or a checkpoint of several. A module or optimizer itself cannot be saved
    (save its ``state_dict()``). PyTorch's keywords ``pickle_module``, ``pickle_protocol``,
    ``_use_new_zipfile_serialization`` and ``_disable_byteorder_record`` are accepted and change
    nothing: chainrule never pickles, and its file is always one zip format (see the module docstring).
    """
    _save_state(obj, f)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Read what ``cr.save`` wrote, as ``torch.load``: ``checkpoint = cr.load('checkpoint.pt')``.

    f              a path or a binary file object
    map_location   accepted where it means the CPU (chainrule is CPU-only): ``'cpu'``, a cpu device,
                   a dict whose targets are the CPU (``{'cuda:0': 'cpu'}``), or a function
                   ``fn(tensor, 'cpu')`` called on every loaded tensor (``lambda storage, loc: storage``)
                   whose result, when not None, replaces it. Any other device is an error.
    weights_only   accepted and always true in effect: a chainrule file holds only tensors, numbers,
                   strings and containers, and loading never unpickles, so no code can run. With
                   ``weights_only=False`` chainrule still never unpickles; a pickle file (for example
                   one written by ``torch.save``) is refused with a ``SerializationError``.
    mmap           accepted; the arrays are read into memory.
    pickle_module and other pickle keywords (``encoding=...``) are accepted and unused.
    """
    target = _check_map_location(map_location)
    loaded = _load_state(f)
    return _map_tensors(loaded, map_location) if target == "function" else loaded


def _means_cpu(place) -> bool:
    return str(place).lower().split(":")[0] == "cpu"


def _check_map_location(map_location):
    if map_location is None:
        return None
    if isinstance(map_location, dict):
        places = list(map_location.values())
    elif callable(map_location) and not isinstance(map_location, str) and not hasattr(map_location, "type"):
        return "function"
    else:
        places = [map_location]
    for place in places:
        if not _means_cpu(place):
            raise ValueError(f"load: map_location={map_location!r} asks for device {str(place)!r}; chainrule "
                             "runs on the CPU only, so use map_location='cpu' or leave it out")
    return "cpu"


def _map_tensors(value, function):
    """``value`` with every Tensor inside replaced by ``function(tensor, 'cpu')`` (None keeps it)."""
    if isinstance(value, Tensor):
        mapped = function(value, "cpu")
        return value if mapped is None else mapped
    if isinstance(value, dict):
        return {key: _map_tensors(item, function) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_map_tensors(item, function) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    return value
