"""Generated 2-D datasets, train_test_split and the scikit-learn digits loader."""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import data

MAKERS = [data.make_moons, data.make_circles, data.make_spiral, data.make_xor, data.make_gaussians]


@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__)
def test_shapes_dtypes_and_labels(make):
    X, y = make(101, noise=0.1, seed=0)
    assert isinstance(X, cr.Tensor) and isinstance(y, cr.Tensor)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y.numpy())) == {0, 1}
    assert np.isfinite(X.numpy()).all()


@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__)
def test_determinism(make):
    X1, y1 = make(50, noise=0.2, seed=3)
    X2, y2 = make(50, noise=0.2, seed=3)
    X3, _ = make(50, noise=0.2, seed=4)
    np.testing.assert_array_equal(X1.numpy(), X2.numpy())
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    assert not np.array_equal(X1.numpy(), X3.numpy())
    cr.manual_seed(9)
    X4, _ = make(50, noise=0.2)
    cr.manual_seed(9)
    X5, _ = make(50, noise=0.2)
    np.testing.assert_array_equal(X4.numpy(), X5.numpy())


def test_geometry_without_noise():
    X, y = data.make_circles(200, factor=0.3, seed=0)
    radius = np.linalg.norm(X.numpy(), axis=1)
    np.testing.assert_allclose(radius[y.numpy() == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[y.numpy() == 1], 0.3, rtol=1e-6)
    X, y = data.make_xor(300, seed=0)
    np.testing.assert_array_equal(y.numpy(), (X.numpy()[:, 0] > 0) != (X.numpy()[:, 1] > 0))
    X, y = data.make_moons(100, seed=0, shuffle=False)
    assert y.numpy()[:50].tolist() == [0] * 50 and np.allclose(X.numpy()[0], [1, 0])
    X, y = data.make_spiral(90, n_classes=3, seed=0)
    assert np.bincount(y.numpy()).tolist() == [30, 30, 30]
    X, y = data.make_gaussians(400, noise=0.1, centers=[[5, 5], [-5, 5], [0, -5]], seed=0)
    np.testing.assert_allclose(X.numpy()[y.numpy() == 1].mean(0), [-5, 5], atol=0.05)


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="noise"):
        data.make_moons(10, noise=-1)
    with pytest.raises(ValueError, match="factor"):
        data.make_circles(10, factor=1.5)
    with pytest.raises(ValueError, match="n_samples"):
        data.make_spiral(2, n_classes=3)


def test_train_test_split():
    X, y = data.make_moons(100, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=1)
    assert X_train.shape == (75, 2) and X_test.shape == (25, 2) and y_test.shape == (25,)
    assert isinstance(X_train, cr.Tensor)
    combined = np.concatenate([X_train.numpy(), X_test.numpy()])
    assert sorted(map(tuple, combined)) == sorted(map(tuple, X.numpy()))
    again = data.train_test_split(X, y, test_size=0.25, seed=1)
    np.testing.assert_array_equal(again[1].numpy(), X_test.numpy())
    arrays = data.train_test_split(X.numpy(), y.numpy(), test_size=10, seed=1)
    assert isinstance(arrays[0], np.ndarray) and arrays[1].shape == (10, 2)
    with pytest.raises(ValueError, match="examples"):
        data.train_test_split(X, y[:5])
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(X, y, test_size=1.5)


def test_load_digits():
    pytest.importorskip("sklearn")
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.numpy().min() == 0.0 and X.numpy().max() == 1.0
    assert sorted(np.unique(y.numpy())) == list(range(10))
    raw, labels = data.load_digits(as_tensors=False, scale=False)
    assert isinstance(raw, np.ndarray) and raw.max() == 16.0
    np.testing.assert_array_equal(raw / 16, X.numpy())
    images, _ = data.load_digits(images=True)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.numpy().reshape(1797, 64), X.numpy())


def test_load_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[data\]"):
        data.load_digits()


def test_training_loop_end_to_end():
    """The pieces together: generated data, a loader, an optimizer; the loss goes down."""
    X, y = data.make_gaussians(200, noise=0.3, seed=0)
    loader = data.DataLoader(data.TensorDataset(X, y.float()), batch_size=20, shuffle=True, seed=0)
    weight = cr.zeros(2, requires_grad=True)
    bias = cr.zeros(1, requires_grad=True)
    optimizer = cr.optim.SGD([weight, bias], lr=0.5, momentum=0.9)

    def mean_loss():
        logits = X @ weight + bias
        return (cr.log(1 + cr.exp(-logits)) + (1 - y.float()) * logits).mean()

    start = mean_loss().item()
    for _ in range(3):
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            logits = x_batch @ weight + bias
            (cr.log(1 + cr.exp(-logits)) + (1 - y_batch) * logits).mean().backward()
            optimizer.step()
    assert mean_loss().item() < 0.2 * start
