"""The lesson's experiment: a 20-layer sigmoid MLP does not learn; ReLU, residual connections and
batch normalisation rescue it. Prints, for each variant, the gradient norm of every layer's
weight at the first step (input side first) and the accuracy after training on the digits.

    python examples/deep_sigmoid_rescue.py [--depth 20] [--epochs 20]

Why: each sigmoid layer multiplies the backward signal by sigma'(z) <= 1/4 (times the weights),
so after 20 layers the first layers get almost nothing -- vanishing gradients. ReLU's slope is
1 where active, a residual block passes g straight through (d(x + f(x))/dx = 1 + f'(x)), and
batch normalisation keeps each layer's inputs where the slope is healthy.
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset, load_digits, train_test_split


def block(width: int, activation: str, batch_norm: bool) -> nn.Module:
    layers = [nn.Linear(width, width)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(width))
    layers.append(nn.ReLU() if activation == "relu" else nn.Sigmoid())
    return nn.Sequential(*layers)


def build(depth: int, width: int, activation="sigmoid", residual=False, batch_norm=False) -> nn.Module:
    layers = [nn.Linear(64, width), nn.Sigmoid() if activation == "sigmoid" else nn.ReLU()]
    for _ in range(depth - 2):
        hidden = block(width, activation, batch_norm)
        layers.append(nn.Residual(hidden) if residual else hidden)
    layers.append(nn.Linear(width, 10))
    model = nn.Sequential(*layers)
    if activation == "relu":  # ReLU's remedy comes with He initialisation: Var(w) = 2 / fan_in
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
    return model


VARIANTS = {
    "sigmoid (plain)": {},
    "relu (He init)": {"activation": "relu"},
    "sigmoid + residual": {"residual": True},
    "sigmoid + batch norm": {"batch_norm": True},
    "sigmoid + residual + batch norm": {"residual": True, "batch_norm": True},
    "relu + residual + batch norm": {"activation": "relu", "residual": True, "batch_norm": True},
}


def weight_grad_norms(model: nn.Module) -> list[float]:
    return [float(np.linalg.norm(p.grad.data)) for name, p in model.named_parameters()
            if name.endswith("weight") and p.ndim == 2]


def run(name, options, data, depth, epochs, seed):
    X_train, X_test, y_train, y_test = data
    cr.manual_seed(seed)
    model = build(depth, 32, **options)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True, seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    first_norms = None
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            if first_norms is None:
                first_norms = weight_grad_norms(model)
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
    model.eval()
    with cr.no_grad():
        accuracy = (model(X_test).argmax(1) == y_test).float().mean().item()
    return first_norms, accuracy


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    X, y = load_digits()
    data = train_test_split(X, y, test_size=0.25, seed=args.seed)
    results = {}
    for name, options in VARIANTS.items():
        norms, accuracy = run(name, options, data, args.depth, args.epochs, args.seed)
        results[name] = (norms, accuracy)
        shown = " ".join(f"{n:.0e}" for n in norms)
        print(f"{name:32s} test accuracy {accuracy:6.1%}   first/last layer grad norm "
              f"{norms[0]:.1e} / {norms[-1]:.1e}   ratio {norms[0] / norms[-1]:.1e}")
        print(f"{'':32s} per-layer |dL/dW| (input -> output): {shown}")
    return results


if __name__ == "__main__":
    main()
