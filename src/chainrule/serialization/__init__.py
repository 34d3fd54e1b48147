"""``cr.save`` / ``cr.load``: state dicts on disk, in a format that cannot run code when read.

A saved file is a zip archive (uncompressed, like NumPy's ``.npz``) holding

    arrays/<n>.npy     one array each, in NumPy's .npy format written with allow_pickle=False
    manifest.json      the structure: nested dicts / lists / tuples and plain values, with
                       each array replaced by {"type": "tensor", "entry": "arrays/3.npy",
                       "dtype": "<f4", "shape": [16, 2]}   (the grammar: manifest.py)

What can be stored: Tensors (Parameters come back as plain Tensors), ndarrays and NumPy
scalars of bool / integer / float / complex dtypes, and Python ints (up to 4096 bits), floats
(bit-exact, as hex), bools, strings and None, nested in dicts (str keys, or int keys that fit
in 64 bits), lists and tuples; enough for ``model.state_dict()``, ``optimizer.state_dict()``
and a scheduler's.

Loading reads the manifest with a parser of that grammar and raw array bytes only: no pickle,
no eval, no imports, so a hostile file can at worst be rejected, always with
``SerializationError``. The reader accepts exactly the layout ``save`` writes (archive.py says
what that is): entries stored uncompressed, each named once, none overlapping another, none
that the manifest does not use (an unused entry is refused rather than ignored: it means the
file was changed after it was written), and the manifest refers to each array entry once.
Every array's dtype and shape in its .npy header must agree with the manifest and with the
entry's size before its data is read, and each entry's CRC-32 is checked; so a truncated
file, or one with any byte changed, is refused, or (a byte no reader uses, such as a
timestamp) loads the same.

Memory: a file cannot make ``load`` allocate much more than it holds. The arrays loaded add up
to at most the file's size (each entry is read once, entries do not overlap, and the total is
also checked against the file's size before each array is allocated), and the manifest's
values take a few bytes per byte of manifest text. Measured with ``tracemalloc`` over hostile
files of ~1 MB built to maximise it (manifests of empty lists, dicts of short keys, strings
widened to 4 bytes a character by one escaped emoji, long strings, huge ints, deep nesting,
thousands of references to one array, overlapping or tiny entries), the peak stayed under
``MEMORY_FACTOR`` (8) x the file size + ``MEMORY_SLACK`` (64 KiB): the worst, 7.3x, was one
long string with an emoji in it; dicts of many small values reach 6x; a file of arrays, 1x.
A file object that cannot seek is first read into memory: one more copy of the file.

Saving to a path is atomic, and cleans up after saves that were killed (atomic.py): the
archive goes to a temporary ``.{name}.{machine}.{pid}.{random}.chainrule-tmp`` in the same
directory, is flushed to disk (fsync), then renamed over the target (``os.replace``); a crash
mid-save leaves the previous file intact, and the next save of the same target removes the
temporaries whose writing process no longer exists on this machine.

Other tools' format: ``cr.save(state_dict, "model.safetensors")`` (or ``format="safetensors"``)
writes a safetensors file instead, and ``cr.load`` reads one, recognised by its content; that
format holds only a flat dict of tensors (safetensors_format.py).

Errors: always ``SerializationError``. When the file system refused (no such file, a
directory, no permission, disk full) it is also the matching ``OSError`` subclass
(``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError``, ...), so code that catches
those around ``open()`` works around ``cr.load`` too.
"""

from __future__ import annotations

import errno
import io
import os
from typing import TYPE_CHECKING

from ..errors import DeviceError, SerializationError
from ..tensor import Tensor
from . import safetensors_format
from .archive import MANIFEST_ENTRY, ArchiveReader, is_array_entry_name, write_archive
from .atomic import write_atomically
from .manifest import FORMAT_NAME, FORMAT_VERSION, ManifestParser, encode

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from .._typing import FileLike


__all__ = ["save", "load", "SerializationError", "SerializationFileError", "FORMAT_NAME", "FORMAT_VERSION"]

MAX_MANIFEST_BYTES = 256 * 2**20
MEMORY_FACTOR = 8
MEMORY_SLACK = 64 * 2**10


class SerializationFileError(SerializationError, OSError):
    """``cr.save`` / ``cr.load`` could not write or read a file (the OSError says why)."""


class SerializationFileNotFoundError(SerializationFileError, FileNotFoundError):
    pass


class SerializationIsADirectoryError(SerializationFileError, IsADirectoryError):
    pass


class SerializationNotADirectoryError(SerializationFileError, NotADirectoryError):
    pass


class SerializationPermissionError(SerializationFileError, PermissionError):
    pass


_FILE_ERRORS = ((FileNotFoundError, SerializationFileNotFoundError),
                (IsADirectoryError, SerializationIsADirectoryError),
                (NotADirectoryError, SerializationNotADirectoryError),
                (PermissionError, SerializationPermissionError))


def _file_error(err: OSError, message: str) -> SerializationFileError:
    """``message`` as a SerializationError that is also ``err``'s kind of OSError, with its errno
    (the message already names the file, so ``str(error)`` is just the message)."""
    kind = next((ours for theirs, ours in _FILE_ERRORS if isinstance(err, theirs)), SerializationFileError)
    error = kind(message)
    error.errno = err.errno
    return error


# --- saving -----------------------------------------------------------------------------------
def _save_state(obj: Any, path: Any) -> None:
    """Write ``obj`` (a state dict: nested containers of tensors, arrays and plain values) to ``path``.

    ``path`` is a filename (written atomically) or a binary file object opened for writing.
    Nothing is written when ``obj`` holds something that cannot be stored.
    """
    manifest_bytes, arrays = encode(obj)
    _write(path, lambda handle: write_archive(handle, manifest_bytes, arrays))


def _write(path: Any, write: Any) -> None:
    """Call ``write(binary file)`` on ``path``: a binary file object, or a filename written atomically."""
    if hasattr(path, "write"):
        mode = getattr(path, "mode", None)
        if isinstance(path, io.TextIOBase) or (isinstance(mode, str) and "b" not in mode):
            raise SerializationError("save: the file object is open in text mode; open it with 'wb'")
        try:
            write(path)
        except OSError as err:
            raise _file_error(err, f"save: could not write to the file object ({err})") from err
        return
    target = os.path.abspath(_fspath(path, "save"))
    if os.path.isdir(target):
        raise SerializationIsADirectoryError(f"save({path!r}): {target!r} is a directory; give a file name")
    directory = os.path.dirname(target)
    try:
        write_atomically(target, write)
    except OSError as err:
        reason = err.strerror or str(err)
        if not os.path.isdir(directory):
            reason = f"the directory {directory!r} does not exist"
        elif isinstance(err, PermissionError) or err.errno == errno.EROFS:
            reason = f"cannot write in {directory!r} ({reason})"
        raise _file_error(err, f"save({path!r}): could not write {target!r}: {reason}") from err


# --- loading ----------------------------------------------------------------------------------
def _load_state(path: Any) -> Any:
    """Read what ``save`` wrote: from a filename, or from a binary file object (from its start).

    Raises ``SerializationError`` for anything else, running no code.
    """
    if hasattr(path, "read"):
        handle, name = _readable(path), getattr(path, "name", f"<{type(path).__name__}>")
        try:
            return _load(handle, name)
        except SerializationError:
            raise
        except OSError as err:
            raise _file_error(err, f"load({name!r}): could not read the file object ({err})") from err
    name = _fspath(path, "load")
    try:
        handle = open(name, "rb")
    except OSError as err:
        if isinstance(err, FileNotFoundError):
            message = f"load({name!r}): no such file"
        elif isinstance(err, IsADirectoryError) or os.path.isdir(name):
            message = f"load({name!r}): this is a directory, not a chainrule save file"
        else:
            message = f"load({name!r}): cannot open the file ({err.strerror or err})"
        raise _file_error(err, message) from None
    with handle:
        try:
            return _load(handle, name)
        except SerializationError:
            raise
        except OSError as err:
            raise _file_error(err, f"load({name!r}): could not read the file ({err})") from err


def _fspath(path: Any, action: str) -> str:
    try:
        return os.fspath(path)
    except TypeError:
        raise SerializationError(f"{action}: expected a file name or a binary file object, got a "
                                 f"{type(path).__name__}") from None


def _readable(handle: Any) -> Any:
    """A seekable binary file object with ``handle``'s bytes (an unseekable one is read into memory)."""
    try:
        probe = handle.read(0)
    except (OSError, ValueError) as err:   # io.UnsupportedOperation is both; a closed file gives ValueError
        raise SerializationError(f"load: cannot read from the file object ({err}); give a file opened "
                                 "with 'rb'") from None
    if not isinstance(probe, (bytes, bytearray)):
        raise SerializationError("load: the file object is open in text mode; open it with 'rb'")
    seekable = getattr(handle, "seekable", None)
    if seekable is None or not seekable():
        return io.BytesIO(handle.read())
    return handle


def _load(handle: Any, name: Any) -> Any:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(0)
    start = handle.read(16)
    if size and safetensors_format.looks_like_safetensors(start, name):
        handle.seek(0)
        return safetensors_format.decode(handle.read(), name)
    _check_kind(start, size, name)
    reader = ArchiveReader(handle, size, name)
    if MANIFEST_ENTRY not in reader.entries:
        raise SerializationError(f"load({name!r}): no {MANIFEST_ENTRY} inside; this zip archive was not "
                                 "written by cr.save")
    if reader.entries[MANIFEST_ENTRY].size > MAX_MANIFEST_BYTES:
        raise SerializationError(f"load({name!r}): {MANIFEST_ENTRY} is over {MAX_MANIFEST_BYTES} bytes")
    try:
        text = reader.read_entry(MANIFEST_ENTRY).decode("ascii")
    except UnicodeDecodeError:
        raise SerializationError(f"load({name!r}): {MANIFEST_ENTRY} is not ASCII text (cr.save writes "
                                 "ASCII JSON)") from None
    arrays = _ArrayLoader(reader, size, name)
    root = ManifestParser(text, arrays, name).parse()
    unused = sorted(entry for entry in reader.entries if entry != MANIFEST_ENTRY and entry not in arrays.seen)
    if unused:
        raise SerializationError(f"load({name!r}): entry {unused[0]!r} is not used by the manifest "
                                 f"({len(unused)} unused in all); cr.save writes none (tampered file?)")
    return root


def _check_kind(start: bytes, size: int, name: Any) -> None:
    """Say what a file is when it is plainly not a chainrule save (a zip archive)."""
    if size == 0:
        raise SerializationError(f"load({name!r}): the file is empty (a save that never finished?)")
    if start[:1] == b"\x80":
        raise SerializationError(f"load({name!r}): this looks like a pickle file (torch.save's older "
                                 "format is one too); chainrule never unpickles, since loading a pickle "
                                 "can run arbitrary code. Save with cr.save instead.")
    if start[:6] == b"\x93NUMPY":
        raise SerializationError(f"load({name!r}): this is a NumPy .npy file, not a chainrule save; read it "
                                 "with np.load(path) and cr.save what you need")
    if start[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise SerializationError(f"load({name!r}): not a chainrule save file (not a zip archive; "
                                 "it may be truncated or corrupt)")


class _ArrayLoader:
    """Reads the arrays the manifest names: each entry once, never more bytes in all than the file has."""

    def __init__(self, reader: ArchiveReader, file_size: int, name: Any) -> None:
        self.seen: set[str] = set()
        self.reader, self.budget, self.name = reader, file_size, name

    def __call__(self, kind: str, entry: str, dtype: Any, shape: tuple) -> Any:
        fail = self.reader.fail
        if not is_array_entry_name(entry):
            raise fail(f"the manifest refers to {entry[:80]!r}; arrays are stored as arrays/<n>.npy")
        if entry in self.seen:
            raise fail(f"the manifest refers to {entry!r} twice; cr.save stores each array once (a file "
                       "that loads one entry many times could use far more memory than its size)")
        if entry not in self.reader.entries:
            raise fail(f"the manifest refers to {entry!r}, which is not in the archive (truncated or "
                       "tampered file)")
        if kind == "scalar" and shape != ():
            raise fail(f"malformed array node: the scalar {entry!r} has shape {shape}")
        nbytes = dtype.itemsize
        for size in shape:
            nbytes *= size
        if nbytes > self.budget:
            raise fail(f"{entry!r}: {shape} {dtype} needs {nbytes} bytes, more than the file's remaining "
                       f"{self.budget}")
        self.seen.add(entry)
        self.budget -= nbytes
        array = self.reader.read_npy(entry, dtype, shape)
        if kind == "tensor":
            return Tensor(array)
        return array if kind == "ndarray" else array[()]


# --- PyTorch's signatures: torch.save / torch.load keywords over the two functions above ------
def save(obj: Any, f: FileLike, pickle_module: object = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False, *,
         format: str | None = None, metadata: Mapping[str, str] | None = None) -> None:
    """Save ``obj`` to ``f`` (a path, written atomically, or a binary file object), as ``torch.save``.

        cr.save({'epoch': 3, 'model': model.state_dict(), 'optimizer': opt.state_dict(), 'loss': 0.12},
                'checkpoint.pt')

    ``obj`` may be tensors, arrays, numbers, bools, strings and None nested in dicts, lists and
    tuples: a state dict, or a checkpoint of several. A module or optimizer itself cannot be saved
    (save its ``state_dict()``). PyTorch's keywords ``pickle_module``, ``pickle_protocol``,
    ``_use_new_zipfile_serialization`` and ``_disable_byteorder_record`` are accepted and change
    nothing: chainrule never pickles, and its file is one zip format (see the module docstring).

    ``format='safetensors'`` (or, with ``format=None``, a file name ending in ``.safetensors``)
    writes Hugging Face's safetensors format instead, which PyTorch and most other tools read: a
    flat dict of name -> tensor only (a ``model.state_dict()``), with ``metadata`` an optional dict
    of str -> str (safetensors_format.py). ``format='chainrule'`` forces the native format.
    """
    if safetensors_format.wants_safetensors(f, format):
        blob = safetensors_format.encode(obj, metadata)
        _write(f, lambda handle: handle.write(blob))
        return
    if metadata is not None:
        raise SerializationError("save: metadata= is for safetensors files; chainrule's own format stores "
                                 "strings in the saved dict itself ({'model': ..., 'note': '...'})")
    _save_state(obj, f)


def load(f: FileLike, map_location: object = None, pickle_module: object = None, *,
         weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Read what ``cr.save`` wrote, as ``torch.load``: ``checkpoint = cr.load('checkpoint.pt')``.

    A safetensors file (recognised by its content, whatever its name) loads as a dict of
    name -> Tensor, ready for ``model.load_state_dict``.

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


def _means_cpu(place: Any) -> bool:
    return str(place).lower().split(":")[0] == "cpu"


def _check_map_location(map_location: Any) -> Any:
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
            raise DeviceError(f"load: map_location={map_location!r} asks for device {str(place)!r}; "
                              "chainrule runs on the CPU only, so use map_location='cpu' or leave it out")
    return "cpu"


def _map_tensors(value: Any, function: Any) -> Any:
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
