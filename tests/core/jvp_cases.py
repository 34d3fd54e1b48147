"""Calls that reach every primitive of the derivative table, for the forward-mode tests.

Each case is a function of float64 tensors that require grad, and how to draw its inputs. Running
a case records its graph; the nodes of that graph are the (primitive, inputs, params) triples the
JVP tests check one by one, and ``test_every_primitive_is_reached`` fails for a primitive no case
reaches -- so a new primitive needs a case here (and a JVP in ``chainrule.ops``).

Second-order primitives (the VJPs of indexing, gather, convolution and avg pooling, which are
primitives themselves) are reached through a gradient recorded with create_graph=True.
"""

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.ops import recurrent as R
from chainrule.ops.activations import elu, silu
from chainrule.ops.indexing import setitem
from chainrule.ops.unary import alias_p


class Case:
    """``function`` of tensors drawn from ``shapes``; ``low``/``high`` bound the values (one pair,
    or one per input); ``fd``: whether central differences apply (False where a definition holds a
    value constant that the arithmetic does depend on); ``eps``/``rtol``: for float32 round trips."""

    def __init__(self, name, function, *shapes, low=-1.0, high=1.0, fd=True, eps=1e-6, rtol=1e-5,
                 zero=None, second_order=True):
        self.name, self.function, self.shapes = name, function, shapes
        self.low, self.high, self.fd, self.eps, self.rtol = low, high, fd, eps, rtol
        self.zero, self.second_order = zero, second_order

    def arrays(self, seed=0):
        rng = np.random.default_rng(seed)
        out = []
        for i, shape in enumerate(self.shapes):
            low = self.low[i] if isinstance(self.low, tuple) else self.low
            high = self.high[i] if isinstance(self.high, tuple) else self.high
            out.append(rng.uniform(low, high, shape))
        if self.zero is not None:   # an exact zero where the formula has a branch for it
            out[0].reshape(-1)[self.zero] = 0.0
        return out

    def leaves(self, seed=0):
        return [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in self.arrays(seed)]

    def __repr__(self):
        return self.name


def grad_of(function):
    """x -> d(sum(function(x)^2))/dx recorded with create_graph: its graph holds the VJP primitives."""
    def gradient(*xs):
        out = function(*xs)
        return cr.grad((out * out).sum(), list(xs), create_graph=True)
    return gradient


TARGETS = np.array([1, 0, 3])
PROBABILITIES = cr.tensor([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]],
                          dtype=cr.float64)
RUNNING_MEAN = cr.tensor([0.1, -0.2, 0.3], dtype=cr.float64)
RUNNING_VAR = cr.tensor([2.0, 0.5, 1.0], dtype=cr.float64)
SHAPES = [((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3))]

CASES = []
for a, b in SHAPES:
    tag = f"{a}x{b}"
    CASES += [
        Case(f"add{tag}", lambda a, b: a + b, a, b),
        Case(f"sub{tag}", lambda a, b: a - b, a, b),
        Case(f"mul{tag}", lambda a, b: a * b, a, b),
        Case(f"div{tag}", lambda a, b: a / b, a, b, low=(-1.0, 0.5), high=(1.0, 1.5)),
        Case(f"pow{tag}", lambda a, b: a ** b, a, b, low=(0.5, -1.0), high=(1.5, 2.0)),
        Case(f"maximum{tag}", cr.maximum, a, b),
        Case(f"minimum{tag}", cr.minimum, a, b),
        Case(f"where{tag}", lambda a, b: cr.where(a > 0, a, b), a, b),
        Case(f"atan2{tag}", cr.atan2, a, b),
        Case(f"hypot{tag}", cr.hypot, a, b),
        Case(f"logaddexp{tag}", cr.logaddexp, a, b),
    ]

CASES += [
    Case("pow_scalar", lambda x: x ** 3 + x ** 0.5 + x ** -2 + x ** 1 + x ** 0, (2, 3), low=0.5, high=1.5),
    Case("neg", lambda x: -x, (2, 3)),
    Case("matmul_2d", lambda a, b: a @ b, (3, 4), (4, 5)),
    Case("matmul_broadcast", lambda a, b: a @ b, (2, 1, 3, 4), (3, 4, 2)),
    Case("matmul_vectors", lambda a, b, c: (a @ b) @ c + (c @ a) @ b, (3, 4), (4,), (3,)),
    Case("clamp", lambda x: x.clamp(-0.3, 0.4) + x.clamp(min=0.1), (4, 5)),
    Case("remainder", lambda a, b: a % b, (3, 4), (4,), low=(1.0, 0.6), high=(3.0, 0.9)),
    Case("fmod", cr.fmod, (3, 4), (4,), low=(-3.0, 0.6), high=(3.0, 0.9)),
    Case("floor_divide", lambda a, b: a // b, (3,), (3,), low=(1.0, 0.6), high=(3.0, 0.9),
         second_order=False),
    Case("trunc_divide", lambda a, b: cr.div(a, b, rounding_mode="trunc"), (3,), (3,), second_order=False),
    Case("exp_log", lambda x: cr.exp(x) + cr.log(x) + cr.log1p(x) + cr.sqrt(x), (3, 4), low=0.5, high=1.5),
    Case("trig", lambda x: cr.sin(x) * cr.cos(x) + cr.erf(x) + cr.abs(x), (3, 4)),
    Case("clone_alias", lambda x: x.clone() * alias_p(x), (3,)),
    Case("piecewise_constant", lambda x: cr.sign(x) + cr.floor(x) + cr.ceil(x) + cr.trunc(x) + cr.round(x, 1)
         + x, (3, 4), low=-3.0, high=3.0),
    Case("cast", lambda x: x.float().double() * x, (3,), eps=1e-2, rtol=1e-4),
    Case("activations", lambda x: cr.relu(x) + F.leaky_relu(x, 0.1) + elu(x) + silu(x) + cr.sigmoid(x)
         + cr.tanh(x) + cr.gelu(x) + cr.gelu(x, approximate="tanh") + cr.softplus(x, beta=2.0, threshold=1.0),
         (3, 4), low=-2.0, high=2.0),
    Case("softmax", lambda x: cr.softmax(x, -1) * cr.log_softmax(x, 0), (3, 4)),
    Case("logsumexp", lambda x: cr.logsumexp(x) + cr.logsumexp(x, dim=1, keepdim=True), (3, 4)),
    Case("sum_mean", lambda x: x.sum(dim=0) + x.mean(-1).sum() + x.sum(axis=(0, 1), keepdims=True), (3, 4)),
    Case("extremes", lambda x: x.amax(dim=(0, 1)) + x.amin(dim=1).sum() + x.max() + x.min(), (3, 4, 2)),
    Case("var_std", lambda x: x.var() + x.var(1, unbiased=False) + x.std(0, keepdim=True).sum(), (3, 4)),
    Case("shape", lambda x: x.reshape(4, -1).T.expand(2, 3, 4) + x.permute(1, 0).reshape(3, 4), (4, 3)),
    Case("gather", lambda x: x.gather(1, cr.tensor([[0, 0], [1, 3], [2, 2]])), (3, 4)),
    Case("getitem", lambda x: x[1:, ::2].sum() + x[[0, 2, 0]] * x[x > 0].sum(), (4, 5)),
    Case("cat_stack", lambda a, b: cr.cat([a, b, a], dim=1).sum(1) + cr.stack([a, b], 0).sum((0, 2)),
         (2, 3), (2, 3)),
    Case("pad", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (2, 3)),
    Case("index_put", grad_of(lambda x: x[[0, 0, 2]]), (4, 3)),
    Case("scatter_add", grad_of(lambda x: x.gather(1, cr.tensor([[0, 0], [1, 3], [2, 2]]))), (3, 4)),
    Case("logs", lambda x: cr.log10(x) + cr.log2(x) + cr.exp2(x) + cr.expm1(x) + cr.rsqrt(x)
         + cr.reciprocal(x) + cr.square(x), (3, 4), low=0.5, high=1.5),
    Case("trigonometry", lambda x: cr.tan(x) + cr.asin(x) + cr.acos(x) + cr.atan(x) + cr.sinh(x)
         + cr.cosh(x) + cr.asinh(x) + cr.atanh(x), (3, 4), low=-0.9, high=0.9),
    Case("acosh_frac", lambda x: cr.acosh(x) + cr.frac(x) + cr.nan_to_num(x), (3, 4), low=1.2, high=1.9),
    Case("logaddexp2_lerp", lambda a, b, w: cr.logaddexp2(a, b) + cr.lerp(a, b, w) + cr.lerp(a, b, 0.7),
         (3, 4), (4,), (3, 1)),
    Case("xlogy", lambda x, z: cr.xlogy(x, z), (3, 4), (4,), low=(-1.0, 0.5), high=(1.0, 1.5)),
    Case("scans", lambda x: x.cumsum(1) + x.cumprod(0) + cr.logcumsumexp(x, 1), (3, 4)),
    Case("cumprod_zero", lambda x: x.cumprod(1), (2, 5), zero=2),
    Case("prod", lambda x: x.prod() + x.prod(1).sum() + x.prod(0, keepdim=True).sum(), (3, 4)),
    Case("prod_zero", lambda x: x.prod() + x.prod(1).sum(), (3, 4), zero=5),
    Case("median_sort", lambda x: x.median() + x.sort(1).values.sum(0) + x.topk(2).values.sum(), (3, 4)),
    Case("einsum", lambda a, b: cr.einsum("ij,jk->ik", a, b).sum() + cr.einsum("ii->", a @ b)
         + cr.einsum("bi,bi->b", a, a).sum(), (3, 4), (4, 3)),
    Case("triangles", lambda x: x.tril() + x.triu(1), (4, 4)),
    Case("norms", lambda x: cr.linalg.vector_norm(x) + cr.linalg.vector_norm(x, 1, dim=0).sum()
         + cr.linalg.vector_norm(x, 3, dim=1).sum() + cr.linalg.vector_norm(x, float("inf"))
         + cr.linalg.vector_norm(x, 0), (3, 4)),
    Case("cosine", lambda a, b: F.cosine_similarity(a, b, dim=1), (3, 4), (4,)),
    Case("distances", lambda a, b: F.pairwise_distance(a, b) + F.pairwise_distance(a, b, p=1)
         + F.pairwise_distance(a, b, p=3, keepdim=True).sum() + F.pairwise_distance(a, b, p=float("inf")),
         (3, 4), (3, 4)),
    Case("cross_entropy_index", lambda x: F.cross_entropy(x, cr.tensor(TARGETS))
         + F.cross_entropy(x, cr.tensor([1, -100, 2]), reduction="sum"), (3, 4)),
    Case("cross_entropy_general", lambda x: F.cross_entropy(x, PROBABILITIES, label_smoothing=0.1)
         + F.cross_entropy(x, cr.tensor(TARGETS), weight=cr.tensor([1.0, 2.0, 0.5, 1.0]),
                           reduction="none").sum(), (3, 4)),
    Case("binary_cross_entropy", lambda p, y: F.binary_cross_entropy(p, y, reduction="none")
         + F.binary_cross_entropy_with_logits(p, y, pos_weight=cr.tensor([2.0, 1.0, 0.5, 1.0])),
         (3, 4), (3, 4), low=0.1, high=0.9),
    Case("regression_losses", lambda x, y: F.mse_loss(x, y) + F.l1_loss(x, y, reduction="sum")
         + F.smooth_l1_loss(x, y, beta=0.5) + F.huber_loss(x, y, delta=0.5, reduction="none").sum(),
         (3, 4), (3, 4)),
    Case("kl_div", lambda x, t: F.kl_div(x, t, reduction="batchmean")
         + F.kl_div(x, t.log(), reduction="none", log_target=True).sum(), (3, 4), (3, 4), low=0.1, high=1.0),
    Case("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         (4, 3, 2), (3,), (3,)),
    Case("batch_norm_eval", lambda x, w, b: F.batch_norm(x, RUNNING_MEAN, RUNNING_VAR, w, b),
         (4, 3), (3,), (3,)),
    Case("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), (2, 3, 4), (4,), (4,)),
    Case("linear", lambda x, w, b: F.linear(x, w, b) + F.linear(x, w), (2, 3, 4), (5, 4), (5,)),
    Case("embedding", lambda w: F.embedding(cr.tensor([[0, 2], [2, 1]]), w), (3, 4)),
    Case("embedding_padding", lambda w: F.embedding(cr.tensor([[0, 2], [2, 1]]), w, padding_idx=2), (3, 4),
         fd=False),
    Case("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (2, 2, 7), (3, 2, 3), (3,)),
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2), (1, 4, 5, 5), (2, 2, 3, 3), (2,)),
    Case("conv_grads", grad_of(lambda x, w: F.conv2d(x, w, stride=2)), (1, 2, 5, 5), (3, 2, 3, 3)),
    Case("max_pool", lambda x, y: F.max_pool2d(x, 2, padding=1).sum() + F.max_pool1d(y, 3, stride=2),
         (1, 2, 4, 5), (2, 2, 7)),
    Case("avg_pool", lambda x, y: F.avg_pool2d(x, 3, stride=2, padding=1).sum() + F.avg_pool1d(y, 2),
         (1, 2, 5, 5), (2, 2, 6)),
    Case("avg_pool_backward", grad_of(lambda x: F.avg_pool2d(x, 2)), (1, 2, 4, 4)),
    Case("rearrange", lambda x: x.flip(0) + x.roll(1, 1) + x.repeat(2, 1)[:3] + x.roll(2), (3, 4)),
    Case("hard_activations", lambda x: F.hardtanh(x, -0.5, 0.7) + F.relu6(x * 2 + 3) + F.hardsigmoid(x)
         + F.hardswish(x), (3, 5), low=-4.0, high=4.0),
    Case("setitem", lambda x, v: setitem(x, (slice(1, None), [0, 2]), v) * setitem(x, 0, 0.5 * v[0, :1]),
         (3, 4), (2, 2)),
    Case("setitem_broadcast", lambda x, v: setitem(x, (x.detach() > 0,), v[0]), (3, 4), (1,)),
    Case("conv_transpose", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
         .sum((2, 3)) + F.conv_transpose1d(x[:, :, 0], w[:, :, 0], stride=2, dilation=2).sum(2),
         (2, 4, 3, 3), (4, 3, 2, 2), (3,)),
    Case("conv_transpose_groups", lambda x, w: F.conv_transpose2d(x, w, groups=2, padding=1), (1, 4, 3, 3),
         (4, 1, 3, 3)),
    Case("conv_transpose_grads", grad_of(lambda x, w: F.conv_transpose2d(x, w, stride=2)), (1, 2, 3, 3),
         (2, 3, 2, 2)),
    Case("interpolate", lambda x: F.interpolate(x, scale_factor=2, mode="bilinear").sum(1)
         + F.interpolate(x, size=(6, 6), mode="bicubic", align_corners=True).sum(1)
         + F.interpolate(x, size=(6, 6), mode="nearest")[:, 0], (1, 2, 3, 3)),
    Case("interpolate_1d_area", lambda x: F.interpolate(x, size=5, mode="linear")
         + F.interpolate(F.interpolate(x, size=10, mode="nearest-exact"), size=5, mode="area"), (2, 2, 4)),
]


def _attention_with_dropout(q, k, v):
    """Dropout draws its keep-mask from the default generator: a fixed seed keeps it one mask."""
    with cr.random.fork_rng():
        cr.manual_seed(5)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, scale=0.7)


NO_KEY_ROW_1 = cr.tensor([[True, False, True, True, False], [False] * 5, [True] * 5])

CASES += [
    Case("attention", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)
         + F.scaled_dot_product_attention(q, k, v, is_causal=True), (2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)),
    Case("attention_masks", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=NO_KEY_ROW_1)
         + _attention_with_dropout(q, k, v), (2, 3, 4), (2, 5, 4), (2, 5, 3)),
    Case("attention_broadcast", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
         (2, 1, 3, 4), (2, 5, 4), (5, 3), (1, 5)),
]

PACKED = np.array([3, 2, 2, 1])   # packed batches of 3 sequences (lengths 4, 3, 1), as batch_sizes


def _rnns(u, h0, w, b):
    return (R.rnn_layer(u, h0, w, b).sum(0) + R.rnn_layer(u, h0, w, reverse=True, batch_sizes=PACKED).sum(0)
            + R.rnn_layer(u, h0, w, b, nonlinearity="relu", batch_sizes=PACKED).sum(0))


def _lstms(u, h0, c0, w, b, w_hr):   # u (4, 3, 8), hidden 2; h0 and w_hr for proj_size 1
    return (R.lstm_layer(u, h0, c0, w, b, w_hr, reverse=True, batch_sizes=PACKED).sum(0)
            + R.lstm_layer(u, h0[:, :1].expand(3, 2) * 0.5, c0, w[:, :1].expand(8, 2), None, None,
                           batch_sizes=PACKED).sum(0)
            + R.lstm_layer(u, h0, c0, w, b, w_hr).sum(0))


def _grus(u, h0, w, b):
    return (R.gru_layer(u, h0, w, b, reverse=True, batch_sizes=PACKED).sum(0)
            + R.gru_layer(u, h0, w).sum(0) + R.gru_layer(u, h0, w, b, batch_sizes=PACKED).sum(0))


def _bidirectional_lstm(x, h0, c0):
    with cr.random.fork_rng():
        cr.manual_seed(2)
        layer = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2).double()
    output, (h_n, c_n) = layer(x, (h0, c0))
    return output.sum(-1) + h_n.sum() + c_n.sum()


CASES += [
    Case("rnn", _rnns, (4, 3, 2), (3, 2), (2, 2), (2,)),
    Case("lstm", _lstms, (4, 3, 8), (3, 1), (3, 2), (8, 1), (8,), (1, 2)),
    Case("gru", _grus, (4, 3, 6), (3, 2), (6, 2), (6,)),
    Case("lstm_module", _bidirectional_lstm, (3, 2, 2), (4, 2, 2), (4, 2, 3)),
]
