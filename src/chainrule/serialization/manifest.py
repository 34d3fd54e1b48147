"""``manifest.json``: the structure of a save, written with ``json`` and read by a strict parser.

The manifest is ``{"format": "chainrule-state", "version": 1, "root": NODE}``, a NODE being one of

    {"type": "none"}
    {"type": "bool" | "int" | "str", "value": ...}      (int: at most MAX_INT_BITS bits)
    {"type": "float", "value": "0x1.8p+1"}              (float.hex, bit-exact; or "nan", "inf", "-inf")
    {"type": "list" | "tuple", "items": [NODE, ...]}
    {"type": "dict", "items": [[KEY, NODE], ...]}       (KEY: a string, or an int that fits in 64 bits)
    {"type": "tensor" | "ndarray" | "scalar", "entry": "arrays/<n>.npy", "dtype": "<f4", "shape": [16, 2]}

with the keys in that order (``json.dumps`` keeps the order they were built in). Loading does not
call ``json.loads``: a general JSON parser builds whatever the text describes, and a hostile
manifest of ``[[],[],...]`` or ``{}`` objects costs some 25 bytes of memory per byte of text
before anything can check it. The parser here reads only the grammar above and builds the
loaded values directly, so what it allocates is a small multiple of the text: with the text
itself, at most ~6x for dicts of small values (a resizing dict holds two tables for a moment)
and ~7.3x for one long string that an escaped emoji widens to 4 bytes a character.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring

from ..backend import np
from ..errors import SerializationError
from ..tensor import Tensor
from .archive import array_entry_name

FORMAT_NAME = "chainrule-state"
FORMAT_VERSION = 1
MAX_NESTING = 100
MAX_INT_BITS = 4096                      # ints beyond are refused by save, so load never parses huge ones
MAX_DIMENSIONS = 64                      # NumPy's own limit
_INT_KEY_LIMIT = 2**63                   # dict int keys fit in int64: no hash-collision floods
_ARRAY_KINDS = ("tensor", "ndarray", "scalar")
_DTYPE_PATTERN = re.compile(r"[<>|][biufc][0-9]{1,2}")   # plain numbers only: no objects, no records
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,%d})(?![0-9.eE])" % (len(str(2**MAX_INT_BITS)) - 1))
_HEX_FLOAT = re.compile(r"-?0x[0-9a-f]{1,20}(?:\.[0-9a-f]{0,20})?p[+-][0-9]{1,4}|nan|inf|-inf")


def array_dtype(text):
    """The dtype ``text`` names if it is a canonical bool / integer / float / complex one, else None."""
    if not isinstance(text, str) or not _DTYPE_PATTERN.fullmatch(text):
        return None
    try:
        dtype = np.dtype(text)
    except TypeError:
        return None
    return dtype if dtype.str == text else None


# --- writing ----------------------------------------------------------------------------------
def encode(obj) -> tuple[bytes, list]:
    """(manifest bytes, the arrays in entry order) for ``obj``; SerializationError for what cannot be
    stored."""
    arrays: list[np.ndarray] = []
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": _encode(obj, arrays, "obj", 0)}
    return json.dumps(manifest, ensure_ascii=True, allow_nan=False).encode("ascii"), arrays


def _encode(value, arrays: list, where: str, depth: int):
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
        if abs(value).bit_length() > MAX_INT_BITS:
            raise SerializationError(f"save: {where} is an int of {abs(value).bit_length()} bits; at most "
                                     f"{MAX_INT_BITS} can be saved")
        return {"type": "int", "value": int(value)}
    if isinstance(value, float):
        return {"type": "float", "value": float(value).hex()}
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)) or (
                    isinstance(key, int) and not -_INT_KEY_LIMIT <= key < _INT_KEY_LIMIT):
                raise SerializationError(f"save: {where} has a key {key!r:.80} of type {type(key).__name__}; "
                                         "only str keys and int keys that fit in 64 bits can be saved")
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
    if array_dtype(array.dtype.str) is None:
        raise SerializationError(f"save: {where} has dtype {array.dtype}; only bool, integer, float and "
                                 "complex arrays can be saved")
    arrays.append(array)
    return {"type": kind, "entry": array_entry_name(len(arrays) - 1), "dtype": array.dtype.str,
            "shape": list(array.shape)}


# --- reading ----------------------------------------------------------------------------------
class ManifestParser:
    """Parse manifest text; ``read_array(kind, entry, dtype, shape)`` supplies each array's value."""

    def __init__(self, text: str, read_array, name):
        self.text, self.position, self.read_array, self.name = text, 0, read_array, name

    def fail(self, problem: str) -> SerializationError:
        return SerializationError(f"load({self.name!r}): malformed manifest at character {self.position}: "
                                  f"{problem}")

    def parse(self):
        self.expect("{")
        self.key("format")
        if self.string() != FORMAT_NAME:
            raise SerializationError(f"load({self.name!r}): manifest.json does not describe a chainrule save")
        self.expect(",")
        self.key("version")
        version = self.integer()
        if version != FORMAT_VERSION:
            raise SerializationError(f"load({self.name!r}): format version {version} is not supported "
                                     f"(this chainrule reads version {FORMAT_VERSION})")
        self.expect(",")
        self.key("root")
        root = self.node(0)
        self.expect("}")
        self.skip()
        if self.position != len(self.text):
            raise self.fail("text after the end of the manifest")
        return root

    # --- tokens ---------------------------------------------------------------------------------
    def skip(self) -> None:
        self.position = _WHITESPACE.match(self.text, self.position).end()

    def peek(self, char: str) -> bool:
        self.skip()
        return self.text.startswith(char, self.position)

    def expect(self, char: str) -> None:
        if not self.peek(char):
            raise self.fail(f"expected {char!r}, found {self.text[self.position:self.position + 20]!r}")
        self.position += 1

    def key(self, expected: str) -> None:
        found = self.string()
        if found != expected:
            raise self.fail(f"expected the key {expected!r}, found {found[:40]!r}")
        self.expect(":")

    def string(self) -> str:
        self.expect('"')
        try:
            value, self.position = scanstring(self.text, self.position, True)
        except ValueError as err:
            raise self.fail(f"bad string ({err})") from None
        return value

    def integer(self) -> int:
        self.skip()
        match = _INTEGER.match(self.text, self.position)
        if match is None:
            raise self.fail(f"expected an integer (of at most {MAX_INT_BITS} bits), "
                            f"found {self.text[self.position:self.position + 20]!r}")
        self.position = match.end()
        return int(match.group())

    def boolean(self) -> bool:
        for word, value in (("true", True), ("false", False)):
            if self.peek(word):
                self.position += len(word)
                return value
        raise self.fail("expected true or false")

    # --- nodes ----------------------------------------------------------------------------------
    def node(self, depth: int):
        if depth > MAX_NESTING:
            raise self.fail(f"nested more than {MAX_NESTING} levels deep")
        self.expect("{")
        self.key("type")
        kind = self.string()
        if kind == "none":
            value = None
        elif kind in ("bool", "int", "str", "float"):
            self.expect(",")
            self.key("value")
            value = self.scalar(kind)
        elif kind in ("list", "tuple"):
            self.expect(",")
            self.key("items")
            value = self.sequence(depth)
            value = tuple(value) if kind == "tuple" else value
        elif kind == "dict":
            self.expect(",")
            self.key("items")
            value = self.mapping(depth)
        elif kind in _ARRAY_KINDS:
            value = self.array(kind)
        else:
            raise self.fail(f"unknown node type {kind[:40]!r}")
        self.expect("}")
        return value

    def scalar(self, kind: str):
        if kind == "bool":
            return self.boolean()
        if kind == "int":
            value = self.integer()
            if abs(value).bit_length() > MAX_INT_BITS:
                raise self.fail(f"an int of more than {MAX_INT_BITS} bits")
            return value
        text = self.string()
        if kind == "str":
            return text
        if not _HEX_FLOAT.fullmatch(text):
            raise self.fail(f"{text[:40]!r} is not a hex float")
        try:
            return float(text) if text in ("nan", "inf", "-inf") else float.fromhex(text)
        except OverflowError:
            raise self.fail(f"{text!r} is out of a float's range") from None

    def sequence(self, depth: int) -> list:
        self.expect("[")
        values = []
        if not self.peek("]"):
            values.append(self.node(depth + 1))
            while self.peek(","):
                self.position += 1
                values.append(self.node(depth + 1))
        self.expect("]")
        return values

    def mapping(self, depth: int) -> dict:
        self.expect("[")
        result = {}
        while not self.peek("]"):
            if result:
                self.expect(",")
            self.expect("[")
            if self.peek('"'):
                key = self.string()
            elif _INTEGER.match(self.text, self.position):
                key = self.integer()
                if not -_INT_KEY_LIMIT <= key < _INT_KEY_LIMIT:
                    raise self.fail("a dict item's int key must fit in 64 bits")
            else:
                raise self.fail("a dict item must be [key, node] with a str or int key, found "
                                f"{self.text[self.position:self.position + 20]!r}")
            if key in result:
                raise self.fail(f"a dict has the key {key!r:.60} twice")
            self.expect(",")
            result[key] = self.node(depth + 1)
            self.expect("]")
        self.expect("]")
        return result

    def array(self, kind: str):
        self.expect(",")
        self.key("entry")
        entry = self.string()
        self.expect(",")
        self.key("dtype")
        dtype_text = self.string()
        dtype = array_dtype(dtype_text)
        if dtype is None:
            raise self.fail(f"malformed array node: dtype {dtype_text[:40]!r} (only bool, integer, float and "
                            "complex arrays are allowed)")
        self.expect(",")
        self.key("shape")
        self.expect("[")
        shape = []
        while not self.peek("]"):
            if shape:
                self.expect(",")
            size = self.integer()
            if size < 0 or len(shape) == MAX_DIMENSIONS:
                raise self.fail(f"malformed array node: a shape needs at most {MAX_DIMENSIONS} sizes, none "
                                "negative")
            shape.append(size)
        self.expect("]")
        return self.read_array(kind, entry, dtype, tuple(shape))
