"""The import hook: ``import torch`` (and every ``torch.*`` module) answered by chainrule.

    with torch_as_chainrule():
        import torch                      # a TorchModule over chainrule
        import torch.nn.functional as F   # over chainrule.nn.functional
        F.grid_sample                     # UnsupportedTorchAttribute: torch.nn.functional.grid_sample
                                          #   is not supported by chainrule yet

A finder first on ``sys.meta_path`` claims the names ``torch`` and ``torch.*`` (see table.py for
the map) and makes, for each, a ``TorchModule``: a module object whose attributes are looked up
in its chainrule module on first use (a torch submodule first, then the chainrule name). It
never imports an installed PyTorch: while the block runs, any ``torch`` modules already loaded
are set aside, and they are put back when it ends, with the finder removed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import types

from ..errors import ChainruleError
from .table import ALLOWED, MODULES, TORCH_ECOSYSTEM


class UnsupportedTorchAPI(ChainruleError, NotImplementedError):
    """A PyTorch name chainrule does not have (yet). ``api`` is the torch spelling."""

    def __init__(self, api: str):
        super().__init__(f"{api} is not supported by chainrule yet")
        self.api = api


class UnsupportedTorchAttribute(UnsupportedTorchAPI, AttributeError):
    """``torch.x.name`` where chainrule lacks ``name``; an AttributeError, so ``hasattr(torch,
    "compile")`` is False and ``getattr(torch, "compile", None)`` is None, as a script expects."""


class UnsupportedTorchModule(UnsupportedTorchAPI, ModuleNotFoundError):
    """``import torch.x`` or ``from torch.nn import X`` where chainrule has no counterpart; an
    ImportError, so a script's ``try: import torch.distributed ... except ImportError`` takes
    its fallback. (Its ``name`` stays None: Python's ``from ... import`` would otherwise take it
    for a missing submodule and say "cannot import name" instead of naming the torch API.)"""


def _is_torch_name(fullname: str) -> bool:
    return fullname == "torch" or fullname.startswith("torch.")


def _owned(fullname: str) -> bool:
    top = fullname.split(".", 1)[0]
    return top == "torch" or top in TORCH_ECOSYSTEM


def _import_if_present(dotted: str | None):
    """The chainrule module at ``dotted``, or None when chainrule has none there. An error raised
    while importing a module that does exist is not swallowed."""
    if dotted is None:
        return None
    try:
        spec = importlib.util.find_spec(dotted)
    except ModuleNotFoundError:   # a missing parent package
        return None
    return None if spec is None else importlib.import_module(dotted)


def _resolve(path: str):
    """``"module:attribute"`` -> the object, or a sentinel when it is not there."""
    module_name, attribute = path.split(":")
    module = _import_if_present(module_name)
    return getattr(module, attribute, _MISSING) if module is not None else _MISSING


_MISSING = object()


class TorchModule(types.ModuleType):
    """A ``torch`` module under chainrule: its attributes come from ``target`` (a chainrule module,
    or None), or from ``allowed`` (name -> "module:attribute") when the torch module only answers
    for a list of names; torch submodules are imported through the hook."""

    def __init__(self, name: str, target, allowed=None):
        super().__init__(name)
        self.__dict__["_chainrule_target"] = target
        self.__dict__["_chainrule_allowed"] = allowed
        if target is not None and getattr(target, "__doc__", None):
            self.__doc__ = target.__doc__

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):   # __file__, __wrapped__ ... as any module
            target = self.__dict__["_chainrule_target"]
            if name == "__version__" and target is not None and hasattr(target, name):
                return getattr(target, name)
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        full = f"{self.__name__}.{name}"
        if full in MODULES:
            return importlib.import_module(full)
        value = self._lookup(name)
        if value is _MISSING:
            raise UnsupportedTorchAttribute(full)
        self.__dict__[name] = value
        return value

    def _lookup(self, name: str):
        allowed = self.__dict__["_chainrule_allowed"]
        if allowed is not None:
            return _resolve(allowed[name]) if name in allowed else _MISSING
        target = self.__dict__["_chainrule_target"]
        if target is None or name.startswith("_"):
            return _MISSING
        return getattr(target, name, _MISSING)

    def __dir__(self):
        names = set(self.__dict__)
        allowed, target = self.__dict__["_chainrule_allowed"], self.__dict__["_chainrule_target"]
        if allowed is not None:
            names |= {n for n in allowed if _resolve(allowed[n]) is not _MISSING}
        elif target is not None:
            names |= {n for n in dir(target) if not n.startswith("_")}
        prefix = self.__name__ + "."
        names |= {m[len(prefix):] for m in MODULES if m.startswith(prefix) and "." not in m[len(prefix):]}
        return sorted(names - {"_chainrule_target", "_chainrule_allowed"})

    def __repr__(self):
        target = self.__dict__["_chainrule_target"]
        where = target.__name__ if target is not None else "nothing yet"
        return f"<module {self.__name__!r} (chainrule run: {where})>"


class TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Claims ``torch`` and ``torch.*`` (and refuses torchvision & co. by name)."""

    def find_spec(self, fullname, path=None, target=None):
        if not _owned(fullname):
            return None
        if not _is_torch_name(fullname) or fullname not in MODULES:
            raise UnsupportedTorchModule(fullname)
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec):
        name = spec.name
        return TorchModule(name, _import_if_present(MODULES[name]), ALLOWED.get(name))

    def exec_module(self, module):
        """Nothing to run: the attributes are looked up on use."""


def _set_aside() -> dict:
    return {name: sys.modules.pop(name) for name in list(sys.modules) if _owned(name)}


@contextlib.contextmanager
def torch_as_chainrule():
    """Inside the block, ``import torch`` is chainrule (see the module docstring)."""
    saved = _set_aside()
    finder = TorchFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        _set_aside()
        sys.modules.update(saved)
