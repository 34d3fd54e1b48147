"""A training script written as a user writes one, checked by mypy (tests/test_types.py), not run
by pytest (its name does not start with test_).

Every ``assert_type`` pins what a type checker must infer from chainrule's annotations: if an
annotation regresses (``model(x)`` no longer a Tensor, ``loss.item()`` no longer a float, a Tensor
method missing from _tensor_methods.pyi), ``python -m mypy`` fails. The lines without an
assert_type still have to type-check, as a user's script would. mypy's strict flags apply here too.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from typing_extensions import assert_type

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import Tensor, nn, optim
from chainrule.data import DataLoader, TensorDataset, make_moons
from chainrule.utils.data import random_split


class MLP(nn.Module):
    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 2)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Sequential(OrderedDict(flatten=nn.Flatten(), out=nn.Linear(4 * 4 * 4, 10)))

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        assert_type(x, Tensor)
        return self.head(x)   # Sequential: Any, returned as the declared Tensor


def train() -> float:
    cr.manual_seed(0)
    X, y = make_moons(200, noise=0.1, seed=0)
    assert_type(X, Tensor)
    train_set, test_set = random_split(TensorDataset(X, y), [0.8, 0.2])
    loader = DataLoader(train_set, batch_size=32, shuffle=True)

    model = MLP()
    optimizer = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()

    total = 0.0
    for _epoch in range(2):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            logits = model(xb)
            assert_type(logits, Tensor)
            loss = loss_fn(logits, yb)
            assert_type(loss, Tensor)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            total += loss.item()
            assert_type(loss.item(), float)
        scheduler.step()
    assert_type(scheduler.get_last_lr(), list[float])

    model.eval()
    with cr.no_grad():
        out = model(X)
        predicted = out.argmax(dim=1)
        accuracy = (predicted == y).float().mean().item()
        assert_type(accuracy, float)
    return total + accuracy + len(test_set)


def tensors() -> None:
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    z = cr.zeros((2, 3)) + cr.ones(2, 3) * 2.0 - 1.0
    assert_type(z, Tensor)
    assert_type(1.0 - z, Tensor)             # reflected operators
    assert_type(x @ x.T, Tensor)
    assert_type(x ** 2, Tensor)
    assert_type(-x, Tensor)
    assert_type(x > 0, Tensor)               # comparisons give bool tensors, as in PyTorch
    assert_type(x[0, 1:], Tensor)
    assert_type(x[x > 2], Tensor)
    assert_type(x.shape, tuple[int, ...])
    assert_type(x.size(), tuple[int, ...])
    assert_type(x.size(0), int)
    assert_type(x.dtype, np.dtype[Any])
    assert_type(x.grad, Tensor | None)
    assert_type(x.numpy(), np.ndarray)
    assert_type(x.tolist(), Any)
    assert_type(float(x.sum()), float)

    loss = (x.exp().log1p() * x.sigmoid()).sum(dim=1, keepdim=True).mean()
    assert_type(loss, Tensor)
    loss.backward()
    grad = x.grad
    if grad is not None:
        assert_type(grad.norm(), Tensor)

    values, indices = x.max(dim=1)           # (values, indices) along a dim; a tensor without one
    assert_type(values, Tensor)
    assert_type(x.max(), Tensor)
    assert_type(cr.max(x, 0).indices, Tensor)
    top = x.topk(1)
    assert_type(top.values, Tensor)
    assert_type(x.reshape(4), Tensor)
    assert_type(x.view(-1, 1), Tensor)
    assert_type(x.permute(1, 0).contiguous(), Tensor)
    assert_type(x.split(1), tuple[Tensor, ...])
    assert_type(cr.cat([x, x], dim=0), Tensor)
    assert_type(cr.stack((x, x)), Tensor)
    assert_type(cr.where(x > 2, x, 0.0), Tensor)
    assert_type(x.to(cr.float64).double().long(), Tensor)
    assert_type(x.detach().clone().requires_grad_(), Tensor)
    assert_type(w.t(), Tensor)
    assert_type(cr.einsum("ij,jk->ik", x, w.float()), Tensor)
    assert_type(cr.arange(10).float().unsqueeze(0), Tensor)

    with cr.no_grad():
        x.add_(1.0)
        x -= 0.5
        x.mul_(2).clamp_(min=0.0)
    handle = x.register_hook(lambda g: g * 2)
    handle.remove()

    gx, gw = cr.grad((x * w[:, :2]).sum(), [x, w], allow_unused=True)
    assert_type(gx, Tensor | None)


@cr.no_grad()
def evaluate(model: nn.Module, x: Tensor) -> Tensor:
    return model(x)


@cr.no_grad
def evaluate_bare(model: MLP, x: Tensor) -> Tensor:
    return model(x)


def modules() -> None:
    model = MLP()
    x = cr.randn(4, 2)
    assert_type(evaluate_bare(model, x), Tensor)
    assert_type(model.train(), MLP)          # the fluent methods keep the model's own class
    assert_type(model.to(cr.float32).eval(), MLP)
    state = model.state_dict()
    keys = model.load_state_dict(state, strict=True)
    assert_type(keys.missing_keys, list[str])
    for name, p in model.named_parameters():
        assert_type(name, str)
        assert_type(p, nn.Parameter)

    seq = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    assert_type(seq[0], nn.Module)
    assert_type(seq[1:], nn.Sequential)
    blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
    for block in blocks:
        assert_type(block, nn.Module)

    lstm = nn.LSTM(8, 16, batch_first=True)
    out, (h, c) = lstm(cr.randn(2, 5, 8))
    attention = nn.MultiheadAttention(16, 4, batch_first=True)
    attended, weights = attention(out, out, out)
    assert_type(attended, Tensor)
    assert_type(weights, Tensor | None)

    conv = ConvNet()
    assert_type(conv(cr.randn(2, 1, 8, 8)), Tensor)
    assert_type(nn.Linear(3, 4)(cr.randn(5, 3)), Tensor)

    compiled = cr.compile(model)
    assert_type(compiled(x), Tensor)         # compiled: called as the model's forward

    path = "model.safetensors"
    if not path:                             # (not run: mypy only reads this file)
        cr.save(model.state_dict(), path)
        model.load_state_dict(cr.load(path))
    text = cr.explain((x.requires_grad_() * 2).sum())
    assert_type(text, cr.insight.Explanation)
    assert_type(cr.gradcheck(lambda t: (t * t).sum(), (cr.randn(3, dtype=cr.float64, requires_grad=True),)),
                bool)


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx: cr.autograd.FunctionCtx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        ctx.constant = 3.0                   # any attribute forward keeps for backward
        return x ** 3

    @staticmethod
    def backward(ctx: cr.autograd.FunctionCtx, grad_output: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        assert x is not None
        return grad_output * ctx.constant * x ** 2


def custom_function() -> None:
    y = Cube.apply(cr.tensor(2.0, requires_grad=True))
    y.backward()


if __name__ == "__main__":   # tests/test_types.py also runs it: the types asserted are the ones it meets
    train()
    tensors()
    modules()
    custom_function()
