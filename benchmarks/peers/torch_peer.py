"""PyTorch CPU, written the way its users write it: nn layers, F.cross_entropy, optim.SGD.

Threads: PyTorch's default (torch.get_num_threads(), one per core here); the count is reported.
"""

from __future__ import annotations

import gpt_model  # benchmarks/gpt_model.py: the worker runs from benchmarks/, as for problems.py
import problems
import torch
import torch.nn.functional as F
from torch import nn

from . import Infeasible


def version() -> str:
    threads = f"threads {torch.get_num_threads()}, interop {torch.get_num_interop_threads()}"
    return f"{torch.__version__} ({threads})"


def _load_linear(layer: nn.Linear, weight, bias) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))


def _mlp(sizes, layers) -> nn.Sequential:
    modules = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        _load_linear(linear, *layers[i])
        modules += [linear, nn.ReLU()] if i < len(sizes) - 2 else [linear]
    return nn.Sequential(*modules)


class _Plain:
    """The optimisers as users write them (the torch.compile peer swaps in fused ones)."""

    @staticmethod
    def sgd(params, lr):
        return torch.optim.SGD(params, lr=lr)

    @staticmethod
    def adamw(params, lr):
        return torch.optim.AdamW(params, lr=lr)


_SETUP = {"step": None, "optimizers": _Plain}   # set by build()


def _training_step(model, optimizer, compute_loss):
    return (_SETUP["step"] or training_step)(model, optimizer, compute_loss)


def training_step(model, optimizer, compute_loss):
    def step():
        optimizer.zero_grad()
        loss = compute_loss(model)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def _w1(problem):
    model = _mlp([784, 512, 512, 10], problem["layers"])
    x, labels = torch.from_numpy(problem["x"]), torch.from_numpy(problem["labels"])
    optimizer = _SETUP["optimizers"].sgd(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(x), labels))


def _w2(problem):
    model = _mlp([2, 16, 16, 1], problem["layers"])
    x, y = torch.from_numpy(problem["x"]), torch.from_numpy(problem["y"])
    optimizer = _SETUP["optimizers"].sgd(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.mse_loss(m(x)[:, 0], y))


def _w3(problem):
    a = torch.tensor(problem["a"], requires_grad=True)
    b = torch.tensor(problem["b"], requires_grad=True)
    optimizer = _SETUP["optimizers"].sgd([a, b], problem["lr"])
    depth, x0 = problem["depth"], torch.tensor(problem["x0"])

    def step():
        optimizer.zero_grad()
        x = x0
        for _ in range(depth):
            x = torch.tanh(a * x + b)
        x.backward()
        optimizer.step()
        return x.item()

    return step


def _w4(problem):
    conv = nn.Conv2d(1, 8, 3)
    fc = nn.Linear(8 * 13 * 13, 10)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(problem["conv_weight"]))
        conv.bias.copy_(torch.from_numpy(problem["conv_bias"]))
    _load_linear(fc, problem["fc_weight"], problem["fc_bias"])
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), fc)
    x, labels = torch.from_numpy(problem["x"]), torch.from_numpy(problem["labels"])
    optimizer = _SETUP["optimizers"].sgd(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(x), labels))


def _lstm(problem):
    (classes, hidden), features = problem["head"][0].shape, problem["x"].shape[-1]
    lstm, head = nn.LSTM(features, hidden), nn.Linear(hidden, classes)
    lstm.load_state_dict({name: torch.from_numpy(value) for name, value in problem["lstm"].items()})
    _load_linear(head, *problem["head"])
    model = nn.ModuleDict({"lstm": lstm, "head": head})
    x, labels = torch.from_numpy(problem["x"]), torch.from_numpy(problem["labels"])
    optimizer = _SETUP["optimizers"].sgd(model.parameters(), problem["lr"])

    def compute_loss(m):
        states, _ = m["lstm"](x)
        return F.cross_entropy(m["head"](states).reshape(-1, classes), labels)

    return _training_step(model, optimizer, compute_loss)



class _GPT(nn.Module):
    """W6: token + position embeddings, pre-norm Transformer layers under a causal mask, a head."""

    def __init__(self, p):
        super().__init__()
        self.tok = nn.Embedding(p["vocab"], p["d_model"])
        self.pos = nn.Embedding(p["length"], p["d_model"])
        layer = nn.TransformerEncoderLayer(p["d_model"], p["nhead"], p["dim_feedforward"], dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, p["layers"], enable_nested_tensor=False)
        self.norm = nn.LayerNorm(p["d_model"])
        self.head = nn.Linear(p["d_model"], p["vocab"])
        self.mask = nn.Transformer.generate_square_subsequent_mask(p["length"])

    def forward(self, tokens):
        x = self.tok(tokens) + self.pos.weight[: tokens.shape[1]]
        return self.head(self.norm(self.blocks(x, mask=self.mask, is_causal=True)))


def _w6(problem):
    model = _GPT(problem)
    model.load_state_dict({name: torch.from_numpy(problem["initial_value"](name, tuple(value.shape)))
                           for name, value in model.state_dict().items()})
    tokens = torch.from_numpy(problem["tokens"])
    targets = torch.from_numpy(problem["targets"].reshape(-1))
    optimizer = _SETUP["optimizers"].adamw(model.parameters(), problem["lr"])
    vocab = problem["vocab"]
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(tokens).reshape(-1, vocab), targets))


def _m1d(problem):
    """MNIST-1D's CNN (problems.M1D_CONVS): three Conv1d + ReLU, a linear layer, AdamW."""
    layers = []
    for (cin, cout, k, stride, padding), (weight, bias) in zip(problems.M1D_CONVS, problem["convs"]):
        conv = nn.Conv1d(cin, cout, k, stride=stride, padding=padding)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(weight))
            conv.bias.copy_(torch.from_numpy(bias))
        layers += [conv, nn.ReLU()]
    fc = nn.Linear(problems.M1D_FLAT, 10)
    _load_linear(fc, *problem["fc"])
    model = nn.Sequential(*layers, nn.Flatten(), fc)
    x, labels = torch.from_numpy(problem["x"]), torch.from_numpy(problem["labels"])
    optimizer = _SETUP["optimizers"].adamw(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(x), labels))


def build(workload, problem, step=None, optimizers=_Plain):
    builders = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4, "M1D": _m1d, "LSTM": _lstm, "W6": _w6,
                "GPT": lambda problem: gpt_model.training_step(torch, problem)}
    if workload not in builders:
        raise Infeasible(f"no PyTorch version of {workload}")
    _SETUP.update(step=step, optimizers=optimizers)
    return builders[workload](problem)
