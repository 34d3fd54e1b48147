"""The ``.safetensors`` format (Hugging Face's), read and written by the ``safetensors`` package.

    cr.save(model.state_dict(), "model.safetensors")              # chosen by the extension, or
    cr.save(model.state_dict(), path, format="safetensors", metadata={"epochs": "20"})
    model.load_state_dict(cr.load("model.safetensors"))          # recognised by its content

A safetensors file is an 8-byte little-endian length N, N bytes of JSON naming each tensor's
dtype, shape and byte range, then the raw bytes. It holds **one flat dict of tensors** with
string keys, and optionally a dict of string metadata; nothing else. That is exactly a model's
``state_dict()``, and the file is what PyTorch's ``safetensors.torch.save_file`` /
``load_file`` write and read: the same names, shapes and dtypes (``num_batches_tracked`` is an
int64 scalar in both). An optimizer's state dict (nested dicts, lists of param groups, plain
numbers) does not fit: keep chainrule's own format for it (``cr.save(opt.state_dict(), path)``).

The encoding and the header checks are the ``safetensors`` package's (an optional extra:
``pip install 'chainrule[safetensors]'``): this module only turns chainrule values into
NumPy arrays and back, says clearly what cannot be stored, and maps every error of the package
to ``SerializationError``. The package refuses a header that is not JSON or is over 100 MB,
byte ranges that overlap, leave gaps or run past the file's end, and shapes that disagree with
their byte count, so a hostile file is refused without allocating more than it holds.

Memory: loading reads the whole file, and the package gives read-only views of it that are
copied once (chainrule's tensors are writable); the peak is about three times the file's size.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import SerializationError
from ..tensor import Tensor

try:  # optional extra: pip install chainrule[safetensors]
    import safetensors
    import safetensors.numpy as safetensors_numpy
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    safetensors = safetensors_numpy = None

FORMAT = "safetensors"
EXTENSION = ".safetensors"
INSTALL = "pip install 'chainrule[safetensors]'  (or: pip install safetensors)"
# The dtypes both NumPy and the format have (the format's BF16 and F8 types have no NumPy dtype).
STORABLE_DTYPES = tuple(np.dtype(name) for name in ("bool", "uint8", "int8", "uint16", "int16", "uint32",
                                                    "int32", "uint64", "int64", "float16", "float32",
                                                    "float64", "complex64"))


class SafetensorsMissingError(SerializationError, ImportError):
    """The ``safetensors`` package (an optional extra) is not installed."""


def _require_package(action: str) -> None:
    if safetensors_numpy is None:
        raise SafetensorsMissingError(f"{action}: .safetensors files are read and written by the safetensors "
                                      f"package, which is not installed: {INSTALL}")


def wants_safetensors(f, format: str | None) -> bool:
    """Whether ``cr.save(obj, f, format=format)`` writes safetensors: asked for, or (format=None) a
    path ending in ``.safetensors``."""
    if format is None:
        try:
            name = os.fspath(f) if not hasattr(f, "write") else ""
        except TypeError:
            return False
        return isinstance(name, str) and name.lower().endswith(EXTENSION)
    if format == FORMAT:
        return True
    if format in ("chainrule", "native"):
        return False
    raise SerializationError(f"save: unknown format={format!r}; use 'chainrule' (the default: any nested "
                             "state, optimizers included) or 'safetensors' (a flat dict of tensors)")


def looks_like_safetensors(start: bytes, name) -> bool:
    """Whether a file whose first bytes are ``start`` is meant as safetensors: its header length
    is under 4 GiB (the format allows 100 MB) and its JSON header opens at byte 8, or it is named
    ``*.safetensors`` and is not a zip archive (so that a truncated one is reported by the
    safetensors reader, in its terms)."""
    if start[4:8] == b"\0\0\0\0" and start[8:9] == b"{":
        return True
    named = isinstance(name, str) and name.lower().endswith(EXTENSION)
    return named and len(start) > 0 and start[:2] != b"PK"


# --- saving -----------------------------------------------------------------------------------
def encode(obj, metadata=None) -> bytes:
    """The safetensors file for ``obj`` (a flat dict of str -> Tensor / ndarray), as bytes.

    Raises ``SerializationError`` naming the key and what it holds when ``obj`` is not such a dict.
    """
    _require_package("save")
    arrays = _flat_arrays(obj)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in metadata.items()):
            raise SerializationError("save: safetensors metadata must be a dict of str -> str (the format "
                                     f"stores text only), got {_describe(metadata)}")
    try:
        return safetensors_numpy.save(arrays, metadata=metadata)
    except Exception as err:  # the package's own checks (for example a key it refuses)
        raise SerializationError(f"save: the safetensors package refused the dict: {err}") from err


def _flat_arrays(obj) -> dict:
    if not isinstance(obj, dict):
        raise SerializationError(f"save: a safetensors file holds a flat dict of name -> tensor (a model's "
                                 f"state_dict()); got {_describe(obj)}. Use the default format for anything "
                                 "else: cr.save(obj, 'file.pt')")
    if "state" in obj and "param_groups" in obj:
        raise SerializationError("save: this is an optimizer's state_dict() (nested 'state' and "
                                 "'param_groups'); a safetensors file holds only a flat dict of tensors. "
                                 "Save optimizer state in chainrule's own format: "
                                 "cr.save(optimizer.state_dict(), 'optimizer.pt')")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise SerializationError(f"save: safetensors keys must be strings; key {key!r} is a "
                                     f"{type(key).__name__}")
        if isinstance(value, Tensor):
            array = value._data
        elif isinstance(value, np.ndarray):
            array = value
        else:
            nested = " (a nested dict: safetensors holds only a flat dict of tensors)" \
                if isinstance(value, dict) else ""
            raise SerializationError(f"save: safetensors stores only tensors, but key {key!r} holds "
                                     f"{_describe(value)}{nested}. Save such values in chainrule's own "
                                     "format (format='chainrule', or a file name not ending in "
                                     ".safetensors), or as text in metadata={...}")
        if array.dtype.newbyteorder("=") not in STORABLE_DTYPES:
            raise SerializationError(f"save: key {key!r} is a {array.dtype} tensor; safetensors (read "
                                     f"through NumPy) stores {', '.join(d.name for d in STORABLE_DTYPES)}")
        # the package copies from the array's buffer as it lies in memory: it must be contiguous
        # (np.require, not np.ascontiguousarray, which would turn a 0-d array into shape (1,))
        arrays[key] = np.require(array, requirements="C")
    return arrays


def _describe(value) -> str:
    if isinstance(value, (Tensor, np.ndarray)):
        return f"a {tuple(value.shape)} {value.dtype} tensor"
    text = repr(value)
    return f"a {type(value).__name__} ({text[:60]}{'...' if len(text) > 60 else ''})"


# --- loading ----------------------------------------------------------------------------------
def decode(data: bytes, name) -> dict:
    """The dict of name -> Tensor in the safetensors file ``data`` (its bytes); ``SerializationError``
    for anything the package refuses."""
    _require_package(f"load({name!r})")
    try:
        arrays = safetensors_numpy.load(data)
    except MemoryError:
        raise
    except KeyError as err:  # the package's dtype table has no NumPy type for this one
        raise SerializationError(f"load({name!r}): the safetensors file holds a tensor of dtype {err}, "
                                 "which NumPy (and so chainrule) has no type for (bfloat16 and float8 "
                                 "are like this); convert it to float32 before saving") from None
    except Exception as err:  # SafetensorError for every malformed header, and anything else it raises
        raise SerializationError(f"load({name!r}): not a valid safetensors file ({err})") from None
    return {key: Tensor(np.array(array)) for key, array in arrays.items()}


def read_metadata(path) -> dict | None:
    """The metadata dict of str -> str saved with a ``.safetensors`` file (None when it has none)."""
    _require_package("read_metadata")
    try:
        with safetensors.safe_open(os.fspath(path), framework="np") as handle:
            return handle.metadata()
    except OSError:
        raise
    except Exception as err:
        raise SerializationError(f"read_metadata({path!r}): not a valid safetensors file ({err})") from None
