"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, unpad and
unpack) against PyTorch, and the recurrent layers run on PackedSequences: each sequence runs to its
own length, so outputs, final states and every gradient equal PyTorch's."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import ShapeError
from chainrule.nn.utils import rnn as rnn_utils

torch = pytest.importorskip("torch")
from torch.nn.utils import rnn as torch_rnn_utils  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py

LENGTHS = [3, 5, 1, 4]


def sequences(lengths=LENGTHS, features=2, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, features)) for n in lengths]
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_pytorch_and_passes_gradients(batch_first, padding_side):
    ours, theirs = sequences()
    padded = rnn_utils.pad_sequence(ours, batch_first=batch_first, padding_value=-2.0,
                                    padding_side=padding_side)
    expected = torch_rnn_utils.pad_sequence(theirs, batch_first=batch_first, padding_value=-2.0,
                                            padding_side=padding_side)
    np.testing.assert_array_equal(padded.numpy(), expected.detach().numpy())
    v = np.random.default_rng(1).standard_normal(expected.shape)
    (padded * cr.tensor(v)).sum().backward()
    (expected * torch.tensor(v)).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_pad_sequence_keeps_integer_tokens():
    padded = rnn_utils.pad_sequence([cr.tensor([1, 2, 3]), cr.tensor([4])], batch_first=True)
    assert padded.dtype == cr.int64 and padded.tolist() == [[1, 2, 3], [4, 0, 0]]


@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_like_pytorch(enforce_sorted, batch_first):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    ours, theirs = sequences(lengths)
    padded_ours = rnn_utils.pad_sequence(ours, batch_first=batch_first)
    padded_theirs = torch_rnn_utils.pad_sequence(theirs, batch_first=batch_first)
    packed_ours = rnn_utils.pack_padded_sequence(padded_ours, lengths, batch_first, enforce_sorted)
    packed_theirs = torch_rnn_utils.pack_padded_sequence(padded_theirs, lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(packed_ours.data.numpy(), packed_theirs.data.detach().numpy())
    for ours_field, theirs_field in zip(packed_ours[1:], packed_theirs[1:]):
        assert (ours_field is None) == (theirs_field is None)
        if ours_field is not None:
            assert ours_field.tolist() == theirs_field.tolist()
    back_ours, lengths_ours = rnn_utils.pad_packed_sequence(packed_ours, batch_first, 7.0, total_length=6)
    back_theirs, lengths_theirs = torch_rnn_utils.pad_packed_sequence(packed_theirs, batch_first, 7.0,
                                                                      total_length=6)
    np.testing.assert_array_equal(back_ours.numpy(), back_theirs.detach().numpy())
    assert lengths_ours.tolist() == lengths_theirs.tolist() == lengths and lengths_ours.dtype == cr.int64
    v = np.random.default_rng(2).standard_normal(back_theirs.shape)
    (back_ours * cr.tensor(v)).sum().backward()
    (back_theirs * torch.tensor(v)).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_pack_sequence_unpack_and_unpad():
    ours, theirs = sequences()
    packed = rnn_utils.pack_sequence(ours, enforce_sorted=False)
    expected = torch_rnn_utils.pack_sequence(theirs, enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.numpy(), expected.data.detach().numpy())
    assert packed.batch_sizes.tolist() == expected.batch_sizes.tolist() == [4, 3, 3, 2, 1]
    for got, want in zip(rnn_utils.unpack_sequence(packed), ours):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    padded = rnn_utils.pad_sequence(ours)
    for got, want in zip(rnn_utils.unpad_sequence(padded, cr.tensor(LENGTHS)), ours):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert packed.double().data.dtype == cr.float64 and packed.float().data.dtype == cr.float32


def test_bad_lengths_are_named():
    x = cr.zeros(3, 2, 1)
    with pytest.raises(ShapeError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(x, [1, 2])
    with pytest.raises(ShapeError, match="greater than 0"):
        rnn_utils.pack_padded_sequence(x, [0, 2], enforce_sorted=False)
    with pytest.raises(ShapeError, match="longer than the 3 steps"):
        rnn_utils.pack_padded_sequence(x, [4, 2])
    with pytest.raises(ShapeError, match="3 lengths"):
        rnn_utils.pack_padded_sequence(x, [3, 2, 1])
    packed = rnn_utils.pack_padded_sequence(x, [3, 1])
    with pytest.raises(ShapeError, match="total_length"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(ShapeError, match="trailing shape"):
        rnn_utils.pad_sequence([cr.zeros(2, 3), cr.zeros(2, 4)])


CONFIGS = [{}, {"num_layers": 2, "bidirectional": True}, {"bidirectional": True, "batch_first": True},
           {"bias": False, "num_layers": 2}]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_layers_run_each_packed_sequence_to_its_own_length(kind, config, enforce_sorted):
    theirs = getattr(torch.nn, kind)(2, 3, **config).double()
    ours = getattr(nn, kind)(2, 3, **config).double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    rng = np.random.default_rng(3)
    batch_first = config.get("batch_first", False)
    x = rng.standard_normal((4, 5, 2) if batch_first else (5, 4, 2))
    layers = (1 + config.get("bidirectional", False)) * config.get("num_layers", 1)
    leaves = [x] + [rng.standard_normal((layers, 4, 3)) for _ in range(1 + (kind == "LSTM"))]
    ours_leaves = [cr.tensor(a, requires_grad=True) for a in leaves]
    theirs_leaves = [torch.tensor(a, requires_grad=True) for a in leaves]

    def run(lib, utils, module, leaves):
        packed = utils.pack_padded_sequence(leaves[0], lengths, batch_first, enforce_sorted)
        state = tuple(leaves[1:]) if kind == "LSTM" else leaves[1]
        out, final = module(packed, state)
        assert isinstance(out, utils.PackedSequence)
        padded, _ = utils.pad_packed_sequence(out, batch_first, padding_value=0.5)
        return [padded] + (list(final) if kind == "LSTM" else [final])

    ours_out = run(cr, rnn_utils, ours, ours_leaves)
    theirs_out = run(torch, torch_rnn_utils, theirs, theirs_leaves)
    total_ours, total_theirs = 0, 0
    for i, (o, t) in enumerate(zip(ours_out, theirs_out)):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
        v = np.random.default_rng(10 + i).standard_normal(t.shape)
        total_ours = total_ours + (o * cr.tensor(v)).sum()
        total_theirs = total_theirs + (t * torch.tensor(v)).sum()
    total_ours.backward()
    total_theirs.backward()
    for o, t in zip(ours_leaves, theirs_leaves):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_packed_lstm_with_projection_matches_pytorch():
    theirs = torch.nn.LSTM(2, 4, proj_size=2, bidirectional=True).double()
    ours = nn.LSTM(2, 4, proj_size=2, bidirectional=True).double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    ours_seqs, theirs_seqs = sequences()
    out_ours, (h_ours, c_ours) = ours(rnn_utils.pack_sequence(ours_seqs, enforce_sorted=False))
    packed_theirs = torch_rnn_utils.pack_sequence(theirs_seqs, enforce_sorted=False)
    out_theirs, (h_theirs, c_theirs) = theirs(packed_theirs)
    for o, t in [(out_ours.data, out_theirs.data), (h_ours, h_theirs), (c_ours, c_theirs)]:
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    (out_ours.data.sum() + h_ours.sum() * 2 + c_ours.sum() * 3).backward()
    (out_theirs.data.sum() + h_theirs.sum() * 2 + c_theirs.sum() * 3).backward()
    for o, t in zip(ours_seqs, theirs_seqs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
