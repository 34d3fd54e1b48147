"""The names chainrule's annotations use for what its functions accept.

For type checkers only: modules import these under ``if TYPE_CHECKING:`` (with
``from __future__ import annotations`` every annotation is a string at run time), so this file is
never imported and costs ``import chainrule`` nothing. PyTorch's own names are used where it has
them (``Number``, ``_size`` is ``Size`` here).
"""

import os
from collections.abc import Callable, Iterable, Sequence
from types import EllipsisType
from typing import IO, Any, Protocol, SupportsIndex, TypeAlias, TypeVar

import numpy as np
from numpy.typing import NDArray
from typing_extensions import ParamSpec

from .device import device
from .tensor import Tensor

Number: TypeAlias = int | float | bool
"""A Python number (PyTorch's ``Number``); ``int`` and ``bool`` are accepted where ``float`` is."""

Operand: TypeAlias = Tensor | Number | np.generic | NDArray[Any]
"""What an arithmetic op takes beside a tensor: a tensor, a Python or NumPy number, or an array."""

ArrayLike: TypeAlias = Tensor | NDArray[Any] | np.generic | Number | Sequence[Any]
"""Data ``cr.tensor`` turns into a tensor: numbers, (nested) lists or tuples, arrays, tensors."""

DTypeLike: TypeAlias = np.dtype[Any] | type | str
"""A dtype: ``cr.float32``, a NumPy dtype or scalar type, ``float``/``int``/``bool``, or a name
such as ``"float64"`` or ``"torch.long"``."""

DeviceLike: TypeAlias = device | str | int
"""A device: ``cr.device("cpu")``, ``"cpu"``, ``"cuda:0"``, or an accelerator index (only the CPU
can hold tensors; see chainrule.device)."""

Size: TypeAlias = int | Sequence[int]
"""A size given as ``f(2, 3)`` (each argument an int) or ``f((2, 3))`` / ``f([2, 3])``."""

Dims: TypeAlias = int | Sequence[int]
"""One dim or several (reductions: ``x.sum(dim=(0, 1))``)."""

IntIndices: TypeAlias = Tensor | NDArray[Any] | Sequence[int]
"""Integer positions (gather, index_select, take...): an int64 tensor, an array, or a list."""

IndexItem: TypeAlias = SupportsIndex | slice | EllipsisType | None | Tensor | NDArray[Any] | Sequence[Any]
Index: TypeAlias = IndexItem | tuple[IndexItem, ...]
"""What ``t[...]`` takes: ints, slices, ``...``, None, integer or bool tensors/arrays/lists, and
tuples of those (NumPy's and PyTorch's indexing)."""

TensorHook: TypeAlias = Callable[[Tensor], Tensor | None]
"""``t.register_hook(hook)``: called with the gradient; a returned tensor replaces it."""

ParamsT: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]]
"""What an optimiser takes: parameters (model.parameters()), or groups {"params": [...], "lr": ...}."""

FileLike: TypeAlias = str | os.PathLike[str] | IO[bytes]
"""Where cr.save writes and cr.load reads: a path, or a binary file object."""

StateDict: TypeAlias = dict[str, Any]
"""What ``state_dict()`` returns and ``load_state_dict`` takes: names to tensors (a module's) or
to nested values (an optimiser's, a scheduler's)."""

P = ParamSpec("P")
R_co = TypeVar("R_co", covariant=True)


class HasForward(Protocol[P, R_co]):
    """A module with a forward: ``Module.__call__`` is typed through it, so ``model(x)`` has the
    parameters and the result type of the model's own ``forward``."""

    def forward(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...
