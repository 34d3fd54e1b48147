"""Recurrent layers in use: a character-level LSTM language model learns a generated text; long
sequences (1,000 steps) backpropagate with a graph whose size does not grow with the length and
work that grows linearly; truncated backpropagation through time (detached states) matches
PyTorch's; dropout between layers; clear errors for bad shapes."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import DTypeError, ShapeError
from chainrule.ops import recurrent

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "char_lstm.py"


def load_example():
    spec = importlib.util.spec_from_file_location("char_lstm", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_char_lstm_language_model_learns_the_generated_text():
    example = load_example()
    cr.manual_seed(0)
    text = example.make_text(600, seed=0)
    alphabet = "".join(sorted(set(text)))
    ids = np.array([alphabet.index(ch) for ch in text], dtype=np.int64)
    model = example.CharLM(len(alphabet), hidden=48)
    losses = example.train(model, ids, steps=80, batch=16, chunk=24)
    assert losses[0] > 2.5                      # ln(21 characters) = 3.0 for a uniform guess
    assert np.mean(losses[-10:]) < 0.6          # the grammar's own entropy is about 0.2 nats/char
    sample = example.continue_text(model, "the cat ", 60, alphabet)
    sentences = [s.split() for s in sample.split(".")[:-1]]    # the complete ones
    assert len(sentences) >= 2
    for words in sentences:                                     # each follows the grammar
        assert len(words) == len(example.GRAMMAR), sample
        assert all(w in choices or w + "." in choices for w, choices in zip(words, example.GRAMMAR)), sample


def graph_size(root):
    """How many op-made tensors (graph nodes) the backward of ``root`` will visit."""
    seen, stack = set(), [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen or tensor._prim is None:
            continue
        seen.add(id(tensor))
        stack.extend(tensor._inputs())
    return len(seen)


def long_sequence_loss(steps, kind="LSTM"):
    cr.manual_seed(0)
    layer = getattr(nn, kind)(3, 8, num_layers=2, bidirectional=True)
    x = cr.randn(steps, 2, 3, requires_grad=True)
    out, _ = layer(x)
    return (out * out).mean(), x, layer


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_thousand_steps_backpropagate_in_a_graph_that_does_not_grow(kind):
    loss, x, layer = long_sequence_loss(1000, kind)
    assert graph_size(loss) == graph_size(long_sequence_loss(2000, kind)[0])
    loss.backward()   # no RecursionError, and every gradient finite
    assert x.grad.shape == (1000, 2, 3) and np.isfinite(x.grad.numpy()).all()
    assert all(np.isfinite(p.grad.numpy()).all() for p in layer.parameters())
    assert np.abs(x.grad.numpy()[0]).sum() > 0   # the first step is reached from the end


def test_the_work_grows_linearly_with_the_length(monkeypatch):
    """Each visit of a time step, forward or backward, asks ``_running`` once: twice the length
    must mean exactly twice the visits (time linear in T, counted, not timed)."""
    visits = []
    counted = recurrent._running

    def counting(batch_sizes, t, batch):
        visits.append(t)
        return counted(batch_sizes, t, batch)

    monkeypatch.setattr(recurrent, "_running", counting)
    counts = {}
    for steps in (1000, 2000):
        visits.clear()
        long_sequence_loss(steps)[0].backward()
        counts[steps] = len(visits)
    assert counts[1000] == 1000 * 2 * 2 * 2   # steps x (forward + backward) x layers x directions
    assert counts[2000] == 2 * counts[1000]


def test_a_thousand_cell_steps_make_a_deep_graph_that_backpropagates():
    cell = nn.LSTMCell(2, 4)
    x = cr.randn(2000, 1, 2)

    def run(steps):
        h = c = None
        for t in range(steps):
            h, c = cell(x[t], None if h is None else (h, c))
        return h.sum()

    loss = run(1000)
    nodes = graph_size(loss)
    assert graph_size(run(2000)) == 2 * nodes and nodes >= 4000   # a few nodes per step, linear
    loss.backward()
    assert np.isfinite(cell.weight_hh.grad.numpy()).all()


def truncated_bptt(lib, layer, head, x, y, chunk, lr):
    """SGD over a long sequence in chunks; the state is carried between chunks but detached."""
    optimizer = lib.optim.SGD(list(layer.parameters()) + list(head.parameters()), lr=lr)
    state, losses = None, []
    for start in range(0, x.shape[0], chunk):
        out, state = layer(x[start:start + chunk], state)
        loss = ((head(out) - y[start:start + chunk]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state = tuple(s.detach() for s in state)
        losses.append(loss.item())
    return losses


def test_truncated_bptt_over_a_thousand_steps_matches_pytorch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # 1,000 tiny steps: PyTorch's threads only add waiting (10x on 2 busy cores)
    try:
        compare_truncated_bptt(torch)
    finally:
        torch.set_num_threads(threads)


def compare_truncated_bptt(torch):
    torch.manual_seed(0)   # the weights both start from: seeded, so that "it learned" below cannot flake
    theirs, their_head = torch.nn.LSTM(2, 6).double(), torch.nn.Linear(6, 1).double()
    ours, our_head = nn.LSTM(2, 6).double(), nn.Linear(6, 1).double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    our_head.load_state_dict({k: v.detach().numpy().copy() for k, v in their_head.state_dict().items()})
    t = np.arange(1000)[:, None, None] * 0.05
    x = np.concatenate([np.sin(t), np.cos(3 * t)], axis=2).repeat(2, axis=1)   # (1000, 2, 2)
    y = np.sin(t + 0.3).repeat(2, axis=1)
    ours_losses = truncated_bptt(cr, ours, our_head, cr.tensor(x), cr.tensor(y), 50, 0.2)
    their_losses = truncated_bptt(torch, theirs, their_head, torch.tensor(x), torch.tensor(y), 50, 0.2)
    np.testing.assert_allclose(ours_losses, their_losses, rtol=1e-8)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).numpy(), p.detach().numpy(), rtol=1e-8, atol=1e-10)
    assert np.mean(ours_losses[-5:]) < 0.5 * np.mean(ours_losses[:5])   # and it learned


def test_a_detached_state_stops_the_gradient_at_the_chunk():
    layer = nn.GRU(2, 3)
    x = cr.randn(20, 1, 2, requires_grad=True)
    _, state = layer(x[:10])
    out, _ = layer(x[10:], state.detach())
    out.sum().backward()
    assert np.all(x.grad.numpy()[:10] == 0) and np.abs(x.grad.numpy()[10:]).sum() > 0


def test_dropout_between_layers_in_training():
    """Layer 2 computes relu(dropout(h1) I) with no recurrence, so its output is layer 1's state,
    zeroed with probability p and scaled by 1/(1-p) elsewhere."""
    rnn = nn.RNN(4, 64, num_layers=2, nonlinearity="relu", dropout=0.5).double()
    with cr.no_grad():
        rnn.weight_ih_l1.copy_(cr.eye(64, dtype=cr.float64))
        for name in ("weight_hh_l1", "bias_ih_l1", "bias_hh_l1"):
            getattr(rnn, name).zero_()
    x = cr.randn(10, 8, 4, dtype=cr.float64)
    rnn.eval()
    expected, _ = rnn(x)
    rnn.train()
    out, h_n = rnn(x)
    assert out.shape == expected.shape == (10, 8, 64) and h_n.shape == (2, 8, 64)
    active = expected.numpy() > 0
    ratio = out.numpy()[active] / expected.numpy()[active]
    assert np.all(np.isclose(ratio, 0) | np.isclose(ratio, 2))
    assert 0.4 < np.isclose(ratio, 0).mean() < 0.6           # about half dropped (thousands of values)
    again, _ = rnn(x)
    assert not np.array_equal(again.numpy(), out.numpy())     # a new mask each call
    out.sum().backward()
    assert np.isfinite(rnn.weight_ih_l0.grad.numpy()).all()


def test_training_reduces_the_loss_for_every_layer_kind():
    for kind in ("RNN", "LSTM", "GRU"):
        cr.manual_seed(1)
        layer, head = getattr(nn, kind)(1, 16, batch_first=True), nn.Linear(16, 1)
        optimizer = optim.Adam(list(layer.parameters()) + list(head.parameters()), lr=0.02)
        x = cr.randn(32, 10, 1)
        y = x.cumsum(dim=1)   # a running sum: needs memory
        losses = []
        for _ in range(60):
            out, _ = layer(x)
            loss = ((head(out) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert losses[-1] < 0.2 * losses[0], kind


def test_bad_shapes_and_dtypes_are_named():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ShapeError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 6"):
        lstm(cr.randn(5, 2, 6))
    with pytest.raises(ShapeError, match=r"Expected hidden\[0\] size \(1, 2, 4\), got \[2, 2, 4\]"):
        lstm(cr.randn(5, 2, 3), (cr.zeros(2, 2, 4), cr.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match="sequence length to be larger than 0"):
        lstm(cr.randn(0, 2, 3))
    assert lstm(cr.randn(5, 0, 3))[0].shape == (5, 0, 4)   # an empty batch is fine, as in PyTorch
    with pytest.raises(ShapeError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(cr.randn(5, 2, 3, 1))
    with pytest.raises(ShapeError, match="hx should also be 2-D"):
        lstm(cr.randn(5, 3), (cr.zeros(1, 2, 4), cr.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match="tuple"):
        lstm(cr.randn(5, 2, 3), cr.zeros(1, 2, 4))
    with pytest.raises(ShapeError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        nn.GRU(3, 4)(cr.randn(5, 2, 3), cr.zeros(1, 3, 4))
    with pytest.raises(DTypeError, match="float64"):
        nn.RNN(3, 4)(cr.randn(5, 2, 3, dtype=cr.float64))
    with pytest.raises(ShapeError, match="inconsistent input_size: got 2 expected 3"):
        nn.LSTMCell(3, 4)(cr.randn(5, 2))
    with pytest.raises(ShapeError, match="tuple"):
        nn.LSTMCell(3, 4)(cr.randn(5, 3), (cr.zeros(5, 4),))
    with pytest.raises(ShapeError, match=r"must be \(5, 4\)"):
        nn.GRUCell(3, 4)(cr.randn(5, 3), cr.zeros(4, 4))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="proj_size has to be"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="must be positive"):
        nn.LSTM(3, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.LSTM(3, 4, dropout=0.3)
    assert any("non-zero dropout expects num_layers greater than 1" in str(w.message) for w in caught)
