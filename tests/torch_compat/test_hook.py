"""The import hook of ``chainrule run``: ``torch`` and its modules resolve to chainrule inside the
block (and only there), and a torch name chainrule lacks is one clear error naming it."""

import importlib
import sys

import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.torch_compat import (
    TorchModule,
    UnsupportedTorchAPI,
    UnsupportedTorchAttribute,
    UnsupportedTorchModule,
    torch_as_chainrule,
)
from chainrule.torch_compat.table import MODULES


def test_torch_and_its_modules_are_chainrules():
    with torch_as_chainrule():
        import torch
        import torch.nn as tnn
        import torch.nn.functional as F
        from torch.nn.modules.batchnorm import BatchNorm1d
        from torch.nn.modules.container import Sequential
        from torch.nn.modules.linear import Linear
        from torch.optim.adam import Adam
        from torch.optim.lr_scheduler import StepLR
        from torch.utils.data import DataLoader, TensorDataset
        from torch.utils.data.sampler import WeightedRandomSampler

        assert isinstance(torch, TorchModule) and torch.__name__ == "torch"
        assert torch.Tensor is cr.Tensor and torch.tensor is cr.tensor and torch.float32 is cr.float32
        assert tnn.Linear is Linear is nn.Linear and BatchNorm1d is nn.BatchNorm1d
        assert Sequential is nn.Sequential
        assert F.cross_entropy is nn.functional.cross_entropy and torch.nn.functional is F
        assert Adam is optim.Adam and StepLR is optim.lr_scheduler.StepLR
        assert DataLoader is cr.data.DataLoader and TensorDataset is cr.data.TensorDataset
        assert WeightedRandomSampler is cr.data.WeightedRandomSampler
        assert torch.nn.init.zeros_ is nn.init.zeros_ and torch.cuda.is_available() is False
        assert torch.testing.assert_close is cr.testing.assert_close
        assert torch.autograd.grad is cr.grad and torch.linalg.vector_norm is cr.linalg.vector_norm
        assert torch.pi == pytest.approx(3.141592653589793) and torch.inf == float("inf")
        assert torch.__version__ == cr.__version__


def test_a_name_chainrule_lacks_is_one_error_naming_the_torch_api():
    with torch_as_chainrule():
        import torch
        import torch.nn.functional as F

        with pytest.raises(UnsupportedTorchAttribute) as caught:
            _ = F.grid_sample
        assert str(caught.value) == "torch.nn.functional.grid_sample is not supported by chainrule yet"
        assert caught.value.api == "torch.nn.functional.grid_sample"
        assert isinstance(caught.value, (AttributeError, NotImplementedError, cr.ChainruleError))
        with pytest.raises(UnsupportedTorchAPI, match=r"^torch\.nn\.LazyLinear is"):
            _ = torch.nn.LazyLinear
        with pytest.raises(ImportError, match="torch.nn.Conv3d is not supported"):
            from torch.nn import Conv3d  # noqa: F401
        # an AttributeError, so feature tests in scripts read "no"
        assert not hasattr(torch, "stft") and getattr(torch, "stft", None) is None


def test_chainrule_only_names_and_private_names_are_not_torch_names():
    with torch_as_chainrule():
        import torch
        import torch.autograd

        with pytest.raises(UnsupportedTorchAttribute):
            _ = torch._C
        # torch.autograd answers only for torch.autograd's names, not for the engine's internals
        with pytest.raises(UnsupportedTorchAttribute, match="torch.autograd.apply"):
            _ = torch.autograd.apply
        assert torch.autograd.no_grad is cr.no_grad
        assert "grad" in dir(torch.autograd) and "apply" not in dir(torch.autograd)
        assert {"nn", "optim", "utils", "cuda"} <= set(dir(torch))


def test_a_torch_module_chainrule_lacks_imports_and_its_names_fail_by_name():
    with torch_as_chainrule():
        import torch.jit

        with pytest.raises(UnsupportedTorchAttribute, match="^torch.jit.script is not supported"):
            _ = torch.jit.script
        assert "nothing yet" in repr(torch.jit)


@pytest.mark.parametrize("name", ["torch._dynamo", "torch.ao.quantization", "torchvision",
                                  "torchvision.models"])
def test_a_module_outside_the_table_is_an_import_error_naming_it(name):
    with torch_as_chainrule():
        with pytest.raises(UnsupportedTorchModule) as caught:
            importlib.import_module(name)
        assert caught.value.api == name.split(".models")[0] if name.startswith("torchvision") else name
        assert isinstance(caught.value, ModuleNotFoundError)


def test_every_module_in_the_table_imports():
    with torch_as_chainrule():
        for name in MODULES:
            module = importlib.import_module(name)
            assert isinstance(module, TorchModule) and module.__name__ == name


def test_the_hook_leaves_no_trace_and_puts_an_imported_torch_back():
    real = sys.modules.get("torch")
    with torch_as_chainrule() as finder:
        import torch

        assert finder in sys.meta_path and isinstance(torch, TorchModule)
    assert finder not in sys.meta_path
    assert sys.modules.get("torch") is real
    assert not any(isinstance(m, TorchModule) for m in sys.modules.values())


def test_the_hook_never_imports_an_installed_pytorch():
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] == "torch"}
    try:
        with torch_as_chainrule():
            import torch
            import torch.nn  # noqa: F401
            import torch.utils.data  # noqa: F401

            loaded = [m for name, m in sys.modules.items() if name.split(".")[0] == "torch"]
            assert loaded and all(isinstance(m, TorchModule) for m in loaded)
    finally:
        sys.modules.update(saved)
