"""A small CNN learns scikit-learn's handwritten digits (1x8x8 images, 10 classes) with chainrule.

    python examples/digits_cnn.py [--epochs 20] [--seed 0]

Same fixed 25% test split as digits_mlp.py; prints test accuracy and training time.
"""

from __future__ import annotations

import argparse
import time

from digits_mlp import accuracy, train

import chainrule as cr
from chainrule import nn
from chainrule.data import load_digits, train_test_split


def build_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),                                   # 32 x 4 x 4
        nn.Flatten(),
        nn.Dropout(0.25),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cr.manual_seed(args.seed)
    X, y = load_digits(images=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=args.seed)
    model = build_cnn()
    start = time.perf_counter()
    train(model, X_train, y_train, args.epochs, args.seed)
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(model, X_test, y_test)
    print(f"CNN on digits: train accuracy {accuracy(model, X_train, y_train):.4f}, "
          f"test accuracy {test_accuracy:.4f} ({len(y_test)} test images), trained in {seconds:.1f} s")
    return test_accuracy


if __name__ == "__main__":
    main()
