"""chainrule, written the way a PyTorch user would write it: nn layers, F.cross_entropy, optim.SGD
(W6: nn.TransformerEncoder and optim.AdamW)."""

from __future__ import annotations

import gpt_model  # benchmarks/gpt_model.py: the worker runs from benchmarks/, as for problems.py
import problems

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.optim import SGD, AdamW

from . import Infeasible


def version() -> str:
    return cr.__version__


class _Plain:
    """The optimisers as a user writes them (the compiled peer swaps in fused ones)."""

    @staticmethod
    def sgd(params, lr):
        return SGD(params, lr=lr)

    @staticmethod
    def adamw(params, lr):
        return AdamW(params, lr=lr)


_SETUP = {"step": None, "optimizers": _Plain}   # set by build(): how steps and optimisers are made


def _sgd(params, lr):
    return _SETUP["optimizers"].sgd(params, lr)


def _load(parameter, array) -> None:
    with cr.no_grad():
        parameter.copy_(cr.from_numpy(array))


def _mlp(sizes, layers) -> nn.Sequential:
    modules = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        _load(linear.weight, layers[i][0])
        _load(linear.bias, layers[i][1])
        modules += [linear, nn.ReLU()] if i < len(sizes) - 2 else [linear]
    return nn.Sequential(*modules)


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
    x, labels = cr.from_numpy(problem["x"]), cr.from_numpy(problem["labels"])
    optimizer = _sgd(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(x), labels))


def _w2(problem):
    model = _mlp([2, 16, 16, 1], problem["layers"])
    x, y = cr.from_numpy(problem["x"]), cr.from_numpy(problem["y"])
    optimizer = _sgd(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.mse_loss(m(x)[:, 0], y))


def _w3(problem):
    a = cr.tensor(problem["a"], requires_grad=True)
    b = cr.tensor(problem["b"], requires_grad=True)
    optimizer = _sgd([a, b], problem["lr"])
    depth, x0 = problem["depth"], cr.tensor(problem["x0"])

    def step():
        optimizer.zero_grad()
        x = x0
        for _ in range(depth):
            x = cr.tanh(a * x + b)
        x.backward()
        optimizer.step()
        return x.item()

    return step


def _w4(problem):
    conv = nn.Conv2d(1, 8, 3)
    fc = nn.Linear(8 * 13 * 13, 10)
    _load(conv.weight, problem["conv_weight"])
    _load(conv.bias, problem["conv_bias"])
    _load(fc.weight, problem["fc_weight"])
    _load(fc.bias, problem["fc_bias"])
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), fc)
    x, labels = cr.from_numpy(problem["x"]), cr.from_numpy(problem["labels"])
    optimizer = _sgd(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(x), labels))


def _lstm(problem):
    (classes, hidden), features = problem["head"][0].shape, problem["x"].shape[-1]
    lstm, head = nn.LSTM(features, hidden), nn.Linear(hidden, classes)
    lstm.load_state_dict(problem["lstm"])
    _load(head.weight, problem["head"][0])
    _load(head.bias, problem["head"][1])
    model = nn.ModuleDict({"lstm": lstm, "head": head})
    x, labels = cr.from_numpy(problem["x"]), cr.from_numpy(problem["labels"])
    optimizer = _sgd(model.parameters(), problem["lr"])

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
    model.load_state_dict({name: problem["initial_value"](name, tuple(value.shape))
                           for name, value in model.state_dict().items()})
    tokens, targets = cr.from_numpy(problem["tokens"]), cr.from_numpy(problem["targets"].reshape(-1))
    optimizer = _SETUP["optimizers"].adamw(model.parameters(), problem["lr"])
    vocab = problem["vocab"]
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(tokens).reshape(-1, vocab), targets))


def _m1d(problem):
    """MNIST-1D's CNN (problems.M1D_CONVS): three Conv1d + ReLU, a linear layer, AdamW."""
    layers = []
    for (cin, cout, k, stride, padding), (weight, bias) in zip(problems.M1D_CONVS, problem["convs"]):
        conv = nn.Conv1d(cin, cout, k, stride=stride, padding=padding)
        _load(conv.weight, weight)
        _load(conv.bias, bias)
        layers += [conv, nn.ReLU()]
    fc = nn.Linear(problems.M1D_FLAT, 10)
    _load(fc.weight, problem["fc"][0])
    _load(fc.bias, problem["fc"][1])
    model = nn.Sequential(*layers, nn.Flatten(), fc)
    x, labels = cr.from_numpy(problem["x"]), cr.from_numpy(problem["labels"])
    optimizer = _SETUP["optimizers"].adamw(model.parameters(), problem["lr"])
    return _training_step(model, optimizer, lambda m: F.cross_entropy(m(x), labels))


def build(workload, problem, step=None, optimizers=_Plain):
    builders = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4, "M1D": _m1d, "LSTM": _lstm, "W6": _w6,
                "GPT": lambda problem: gpt_model.training_step(cr, problem)}
    if workload not in builders:
        raise Infeasible(f"no chainrule version of {workload}")
    _SETUP.update(step=step, optimizers=optimizers)
    return builders[workload](problem)
