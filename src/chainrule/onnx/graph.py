"""The graph under construction: ONNX nodes, weights (initializers) and constants, with unique names.

A converter (layers.py) sees one ``GraphBuilder``: it adds nodes with ``node(op_type, inputs,
**attributes)``, which returns the name of the node's output, and puts weights and constants in
the graph with ``weight`` / ``constant``. The ONNX protobuf messages themselves are made by the
``onnx`` package's helpers (``make_node``, ``numpy_helper.from_array``, ``make_graph``).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import ChainruleError


class ONNXExportError(ChainruleError, ValueError):
    """``chainrule.onnx.export`` met a model, input or option it cannot write as ONNX (the message
    says which)."""


class GraphBuilder:
    """Collects the nodes and initializers of one graph; ``float_dtype`` is the model's float type."""

    def __init__(self, opset_version: int, float_dtype: np.dtype):
        self.opset_version = opset_version
        self.float_dtype = np.dtype(float_dtype)
        self.nodes: list = []
        self.initializers: list = []
        self._names: set = set()
        self._weights: dict = {}        # id(array) -> name, so a module used twice stores its weights once
        self._keep_alive: list = []     # the arrays behind those ids

    def fresh(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``... : a name no value of the graph has yet."""
        name, n = base, 0
        while name in self._names:
            n += 1
            name = f"{base}_{n}"
        self._names.add(name)
        return name

    def node(self, op_type: str, inputs: list, scope: str = "", outputs: int = 1, **attributes):
        """Add one node; the name of its output (a list of names when ``outputs`` > 1).

        An empty string in ``inputs`` is ONNX's "optional input left out"."""
        prefix = f"{scope}/{op_type}" if scope else op_type
        names = [self.fresh(f"{prefix}_output_{i}") for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.fresh(prefix), **attributes))
        return names[0] if outputs == 1 else names

    def weight(self, array, name: str) -> str:
        """An initializer holding ``array`` (a parameter or buffer), named ``name`` (its state_dict key)."""
        key = id(array)
        if key not in self._weights:
            stored = self.fresh(name)
            self.initializers.append(numpy_helper.from_array(np.require(array, requirements="C"), stored))
            self._weights[key] = stored
            self._keep_alive.append(array)
        return self._weights[key]

    def constant(self, value, dtype=None, name: str = "const") -> str:
        """An initializer holding ``value`` (the model's float type unless ``dtype`` says otherwise)."""
        array = np.asarray(value, dtype=self.float_dtype if dtype is None else dtype)
        stored = self.fresh(name)
        self.initializers.append(numpy_helper.from_array(array, stored))
        return stored

    def ints(self, values, name: str = "ints") -> str:
        """A 1-D int64 constant (shapes, axes, slice bounds)."""
        return self.constant(list(values), np.int64, name)

    def graph(self, name: str, inputs: list, outputs: list):
        return helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.initializers)


def where(scope: str) -> str:
    """How an error names a module: by its path in the model ("module 'features.3'")."""
    return f"module {scope!r}" if scope else "the model"


def value_info(name: str, dtype: np.dtype, shape: tuple, dynamic: dict):
    """The declared type of a graph input or output; ``dynamic`` maps an axis to its symbolic name."""
    dims = [dynamic.get(axis, size) for axis, size in enumerate(shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), dims)


def onnx_version() -> str:
    return onnx.__version__
