"""Containers: modules that hold other modules.

    Sequential(a, b, c)(x) = c(b(a(x)))       indexable, sliceable, len(), iteration, append
    ModuleList([a, b])                        a list whose modules are registered (no forward)
    ModuleDict({'enc': a, 'dec': b})          a dict whose modules are registered (no forward)
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from .module import Module, _indent

if TYPE_CHECKING:
    from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView

    from typing_extensions import Self


def _index(index: SupportsIndex, length: int, what: str) -> int:
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{what}: index {index} is out of range for {length} modules")
    return index % length


class _NumberedModules(Module):
    """What Sequential and ModuleList share: modules kept under the names 0, 1, 2, ..."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]  # (None only if set so by hand)

    def append(self, module: Module) -> Self:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        for module in modules:
            self.append(module)
        return self

    def _renumber(self, modules: Iterable[Module | None]) -> None:
        self._modules.clear()
        self.extend(modules)  # type: ignore[arg-type]


class Sequential(_NumberedModules):
    """Modules applied one after another: ``Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))``.

    Also accepts an OrderedDict of name -> module, so the sub-modules get those names."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)  # type: ignore[arg-type]

    def forward(self, x: Any) -> Any:   # each module's output is the next one's input
        for module in self._modules.values():
            x = module(x)  # type: ignore[misc]
        return x

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    @overload
    def __getitem__(self, index: SupportsIndex) -> Module: ...

    def __getitem__(self, index: slice | SupportsIndex) -> Sequential | Module:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))  # type: ignore[arg-type]
        return list(self._modules.values())[_index(index, len(self), "Sequential")]  # type: ignore[return-value]

    def __setitem__(self, index: SupportsIndex, module: Module) -> None:
        key = list(self._modules)[_index(index, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, index: slice | SupportsIndex) -> None:
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [keys[_index(index, len(self), "Sequential")]]
        for key in doomed:
            del self._modules[key]
        if all(key.isdigit() for key in self._modules):  # keep the numbering 0, 1, 2, ...
            self._renumber(list(self._modules.values()))

    def insert(self, index: int, module: Module) -> Sequential:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)
        return self


class ModuleList(_NumberedModules):
    """A list of modules whose parameters belong to the owner (a plain list would hide them)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @overload
    def __getitem__(self, index: slice) -> ModuleList: ...
    @overload
    def __getitem__(self, index: SupportsIndex) -> Module: ...

    def __getitem__(self, index: slice | SupportsIndex) -> ModuleList | Module:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])  # type: ignore[arg-type]
        return self._modules[str(_index(index, len(self), "ModuleList"))]  # type: ignore[return-value]

    def __setitem__(self, index: SupportsIndex, module: Module) -> None:
        self.add_module(str(_index(index, len(self), "ModuleList")), module)

    def __delitem__(self, index: slice | SupportsIndex) -> None:
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else _index(index, len(modules), "ModuleList")]
        self._renumber(modules)

    def __iadd__(self, modules: Iterable[Module]) -> Self:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your own forward()")

    def __repr__(self) -> str:
        """PyTorch's: a run of modules that print alike is shown once, as "(0-5): 6 x Layer(...)"."""
        runs: list[list[Any]] = []   # [first index, last index, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        if not runs:
            return "ModuleList()"
        lines = [f"({first}): {text}" if first == last else f"({first}-{last}): {last - first + 1} x {text}"
                 for first, last, text in runs]
        return "ModuleList(\n  " + "\n  ".join(_indent(line, 2) for line in lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters belong to the owner."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> KeysView[str]:
        return self._modules.keys()

    def values(self) -> ValuesView[Module]:
        return self._modules.values()  # type: ignore[return-value]

    def items(self) -> ItemsView[str, Module]:
        return self._modules.items()  # type: ignore[return-value]

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)  # type: ignore[return-value]

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs: Iterable[tuple[str, Module]] = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(); pick modules from it in your own forward()")
