"""Which chainrule module answers for each ``torch`` module (the map ``chainrule run`` follows).

Each entry is ``torch module -> chainrule module`` (a dotted import path). A torch module's names
are looked up in its chainrule module; a name chainrule lacks is an ``UnsupportedTorchAPI``
naming the torch spelling (``torch.nn.functional.grid_sample is not supported by chainrule
yet``). ``None`` marks a torch module chainrule has no counterpart for (yet): importing it works,
so ``from torch.x import y`` fails on ``y`` by its full name.

Every ``torch.nn.modules.<file>`` (PyTorch's class-per-file layout: ``torch.nn.modules.linear``,
``.conv``, ``.batchnorm``, ``.container`` ...) maps to the whole of ``chainrule.nn``, whose files
are cut differently; ``torch.nn.modules.batchnorm.BatchNorm1d`` is ``chainrule.nn.BatchNorm1d``.
The same holds for ``torch.optim.<file>``. A torch module not listed here (``torch._dynamo``,
``torch.ao.quantization``) cannot be imported: it is unsupported, by name.

``ALLOWED`` lists, for a torch module whose chainrule counterpart holds other machinery under
the same names (``chainrule.autograd`` is the engine itself: its ``backward(tensor, ...)`` is
not ``torch.autograd.backward(tensors, ...)``), the only names it answers for, as
``"module:attribute"`` paths.
"""

from __future__ import annotations

NN_MODULE_FILES = (   # torch/nn/modules/*.py in PyTorch 2.x
    "activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv", "distance",
    "dropout", "flatten", "fold", "instancenorm", "lazy", "linear", "loss", "module", "normalization",
    "padding", "pixelshuffle", "pooling", "rnn", "sparse", "transformer", "upsampling", "utils",
)
OPTIM_FILES = ("adadelta", "adagrad", "adam", "adamax", "adamw", "asgd", "lbfgs", "nadam", "optimizer",
               "radam", "rmsprop", "rprop", "sgd", "sparse_adam")

MODULES = {
    "torch": "chainrule",
    "torch.nn": "chainrule.nn",
    "torch.nn.functional": "chainrule.nn.functional",
    "torch.nn.init": "chainrule.nn.init",
    "torch.nn.utils": "chainrule.nn.utils",
    "torch.nn.utils.rnn": "chainrule.nn.utils.rnn",
    "torch.nn.utils.parametrize": None,
    "torch.nn.parameter": "chainrule.nn",
    "torch.nn.modules": "chainrule.nn",
    **{f"torch.nn.modules.{name}": "chainrule.nn" for name in NN_MODULE_FILES},
    "torch.nn.attention": None,
    "torch.nn.parallel": "chainrule.nn.parallel",
    "torch.nn.parallel.distributed": "chainrule.nn.parallel",   # torch's file for the class
    "torch.optim": "chainrule.optim",
    "torch.optim.lr_scheduler": "chainrule.optim.lr_scheduler",
    **{f"torch.optim.{name}": "chainrule.optim" for name in OPTIM_FILES},
    "torch.optim.swa_utils": None,
    "torch.utils": "chainrule.utils",
    "torch.utils.data": "chainrule.utils.data",
    "torch.utils.data.dataset": "chainrule.utils.data.dataset",
    "torch.utils.data.dataloader": "chainrule.utils.data.dataloader",
    "torch.utils.data.sampler": "chainrule.utils.data.sampler",
    "torch.utils.data._utils": "chainrule.utils.data._utils",
    "torch.utils.data._utils.collate": "chainrule.utils.data._utils.collate",
    "torch.utils.data.distributed": "chainrule.utils.data.distributed",
    "torch.utils.tensorboard": "chainrule.utils.tensorboard",
    "torch.utils.tensorboard.writer": "chainrule.utils.tensorboard.writer",
    "torch.utils.tensorboard.summary": "chainrule.utils.tensorboard.summary",
    "torch.utils.checkpoint": None,
    "torch.autograd": None,            # names from ALLOWED only
    "torch.autograd.forward_ad": "chainrule.forward_ad",   # names from ALLOWED only
    "torch.autograd.functional": None,   # chainrule.func has torch.func's signatures, not these
    "torch.autograd.graph": None,
    "torch.cuda": "chainrule.cuda",
    "torch.cuda.amp": None,
    "torch.amp": None,
    "torch.backends": "chainrule.backends",
    "torch.backends.cudnn": "chainrule.backends.cudnn",
    "torch.backends.mps": "chainrule.backends.mps",
    "torch.backends.cuda": "chainrule.backends.cuda",
    "torch.backends.mkldnn": None,
    "torch.accelerator": "chainrule.accelerator",
    "torch.random": "chainrule.random",
    "torch.linalg": "chainrule.ops.linalg",
    "torch.func": "chainrule.func",
    "torch.testing": "chainrule.testing",
    "torch.distributions": "chainrule.distributions",
    "torch.fft": "chainrule.fft",
    "torch.special": "chainrule.special",
    "torch.distributed": "chainrule.distributed",
    "torch.multiprocessing": None,
    "torch.jit": None,
    "torch.onnx": None,
    "torch.hub": None,
    "torch.profiler": None,
    "torch.compiler": None,
    "torch.types": None,
}

ALLOWED = {
    "torch.autograd": {
        "grad": "chainrule:grad",
        "Function": "chainrule.autograd:Function",
        "gradcheck": "chainrule.insight.gradcheck:gradcheck",
        "detect_anomaly": "chainrule:detect_anomaly",
        "set_detect_anomaly": "chainrule:set_detect_anomaly",
        "no_grad": "chainrule:no_grad",
        "enable_grad": "chainrule:enable_grad",
        "set_grad_enabled": "chainrule:set_grad_enabled",
        "inference_mode": "chainrule:inference_mode",
    },
    "torch.autograd.forward_ad": {
        name: f"chainrule.forward_ad:{name}"
        for name in ("dual_level", "make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level",
                     "UnpackedDualTensor")
    },
}

# Packages built on PyTorch's internals: under `chainrule run` they would find chainrule where
# they expect torch, so they are refused by name instead of failing somewhere inside.
TORCH_ECOSYSTEM = ("torchvision", "torchaudio", "torchtext", "torchdata")
