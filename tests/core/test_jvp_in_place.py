"""Forward mode follows in-place writes: after ``z.mul_(y)``, ``z[i] = v``, ``z.copy_(v)`` ... the
tensor's tangent is the JVP of the out-of-place op at the old value (for ``z[i] = v``: z's tangent
with v's at i, zeros where v has none), at every dual level, recorded or not. Every in-place method
chainrule has is checked against torch.func.jvp (2.13) and central differences in float64, and
through nested transforms: forward over reverse (hessian), reverse over forward, forward over
forward. Writes forward mode cannot follow (into a view of another tensor) raise GraphError."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import forward_ad as fwAD
from chainrule import func
from chainrule.errors import GraphError

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("torch_on_one_thread")   # tests/conftest.py


_rng = np.random.default_rng(7)
X, U, Y, V = (_rng.standard_normal((3, 4)) for _ in range(4))
MASK = X > 0.3


def _leaky_relu_(L, z, y):
    return z.leaky_relu_(0.1) if L is cr else torch.nn.functional.leaky_relu_(z, 0.1)


# name: the in-place change of z (a clone of x) with the operand y, written once for both libraries
# (L is the library); every in-place method of chainrule's Tensor, the augmented operators and
# the forms of x[index] = v
WRITES = {
    "add_": lambda L, z, y: z.add_(y), "sub_": lambda L, z, y: z.sub_(y), "mul_": lambda L, z, y: z.mul_(y),
    "div_": lambda L, z, y: z.div_(y.exp()), "remainder_": lambda L, z, y: z.remainder_(y.exp()),
    "add_ number": lambda L, z, y: z.add_(2.5), "mul_ number": lambda L, z, y: z.mul_(3),
    "div_ number": lambda L, z, y: z.div_(4.0),
    # torch 2.13's tangent for z.mul_(z) reads z's tangent after overwriting it (3 z dz, not 2 z dz;
    # and its reverse mode refuses): torch gets z.mul_(z.clone()), what z.mul_(z) means
    "mul_ itself": lambda L, z, y: z.mul_(z if L is cr else z.clone()),
    "+=": lambda L, z, y: z.__iadd__(y), "-=": lambda L, z, y: z.__isub__(y),
    "*=": lambda L, z, y: z.__imul__(y), "/=": lambda L, z, y: z.__itruediv__(y.exp()),
    "%=": lambda L, z, y: z.__imod__(y.exp()),
    "pow_": lambda L, z, y: z.pow_(y), "pow_ number": lambda L, z, y: z.pow_(3),
    "clamp_": lambda L, z, y: z.clamp_(-0.5, 0.5), "clip_": lambda L, z, y: z.clip_(min=-0.2),
    "masked_fill_": lambda L, z, y: z.masked_fill_(L.tensor(MASK), 0.5),
    "relu_": lambda L, z, y: z.relu_(), "sigmoid_": lambda L, z, y: z.sigmoid_(),
    "tanh_": lambda L, z, y: z.tanh_(), "exp_": lambda L, z, y: z.exp_(), "log_": lambda L, z, y: z.log_(),
    "sqrt_": lambda L, z, y: z.sqrt_(), "abs_": lambda L, z, y: z.abs_(), "neg_": lambda L, z, y: z.neg_(),
    "floor_": lambda L, z, y: z.mul_(y).floor_(), "ceil_": lambda L, z, y: z.ceil_(),
    "round_": lambda L, z, y: z.round_(), "trunc_": lambda L, z, y: z.trunc_(),
    "sign_": lambda L, z, y: z.sign_(), "sin_": lambda L, z, y: z.sin_(), "cos_": lambda L, z, y: z.cos_(),
    "log1p_": lambda L, z, y: z.log1p_(), "erf_": lambda L, z, y: z.erf_(), "leaky_relu_": _leaky_relu_,
    "fill_": lambda L, z, y: z.fill_(2.0), "fill_ 0-d tensor": lambda L, z, y: z.fill_(y[1, 2]),
    "zero_": lambda L, z, y: z.zero_(), "copy_": lambda L, z, y: z.copy_(y),
    "z[i] = row": lambda L, z, y: z.__setitem__(1, y[0] * 2),
    "z[1:, [0, 2]] = v": lambda L, z, y: z.__setitem__((slice(1, None), [0, 2]), y[:2, :2]),
    "z[mask] = number": lambda L, z, y: z.__setitem__(L.tensor(MASK), 0.0),
    "z[i, j] = element": lambda L, z, y: z.__setitem__((0, 0), y[1, 1]),
    "z[i] += row": lambda L, z, y: z.__setitem__(2, z[2].__iadd__(y[1])),
    "index_add_": lambda L, z, y: z.index_add_(0, L.tensor([2, 0]), y[:2]),
}
POSITIVE = {"pow_", "log_", "sqrt_", "log1p_"}   # z from x.exp()
NOT_RECORDED = {"index_add_"}   # refuses a tensor that requires grad (as add_ did before the graph had it)


def written(L, name):
    def f(x, y):
        z = (x.exp() if name in POSITIVE else x).clone()
        WRITES[name](L, z, y)
        return z
    return f


def ours(*arrays):
    return tuple(cr.tensor(a, dtype=cr.float64) for a in arrays)


def theirs(*arrays):
    return tuple(torch.tensor(a) for a in arrays)


def assert_close(a, b, rtol=1e-10, atol=1e-12):
    a, b = np.asarray(a), np.asarray(b.detach()) if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --- one write, one level ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", WRITES)
def test_the_tangent_after_an_in_place_write_is_torchs(name):
    value, tangent = func.jvp(written(cr, name), ours(X, Y), ours(U, V))
    their_value, their_tangent = torch.func.jvp(written(torch, name), theirs(X, Y), theirs(U, V))
    assert_close(value.numpy(), their_value)
    assert_close(tangent.numpy(), their_tangent)


@pytest.mark.parametrize("name", WRITES)
def test_the_tangent_after_an_in_place_write_is_the_central_difference(name):
    f, eps = written(cr, name), 1e-6
    _, tangent = func.jvp(f, ours(X, Y), ours(U, V))
    ahead = f(*ours(X + eps * U, Y + eps * V)).numpy()
    behind = f(*ours(X - eps * U, Y - eps * V)).numpy()
    np.testing.assert_allclose(tangent.numpy(), (ahead - behind) / (2 * eps), rtol=1e-6, atol=1e-6)


def test_the_briefs_example_hessian_is_2i():
    x = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)
    assert_close(func.hessian(lambda x: x.clone().mul_(x).sum())(x).numpy(), 2 * np.eye(3))


# --- nested transforms ------------------------------------------------------------------------------
def scalar_of(L, name):
    """A number from the write, with both operands depending on x (so every path is exercised)."""
    f = written(L, name)

    def g(x):
        return (f(x, (x * 0.7).sin() + 0.3) ** 2 * x).sum()
    return g


@pytest.mark.parametrize("name", [n for n in WRITES if n not in NOT_RECORDED])
def test_hessian_through_an_in_place_write_is_torchs(name):
    """Forward over reverse: the tangents go through the recorded backward pass, whose nodes
    read the values from before the write (exp_ and sigmoid_ recompute their outputs from them)."""
    mine = func.hessian(scalar_of(cr, name))(*ours(X))
    torchs = torch.func.hessian(scalar_of(torch, name))(*theirs(X))
    assert_close(mine.numpy(), torchs, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["mul_", "mul_ itself", "sigmoid_", "z[1:, [0, 2]] = v", "copy_", "div_",
                                  "z[i] += row", "exp_"])
def test_reverse_over_forward_through_an_in_place_write_is_torchs(name):
    """The gradient of a tangent, with respect to the point and to the direction."""
    def of(L, jvp):
        f = written(L, name)
        return lambda x, u: (jvp(lambda x: f(x, x.cos()), (x,), (u,))[1] ** 2).sum()
    mine = func.grad(of(cr, func.jvp), argnums=(0, 1))(*ours(X, U))
    torchs = torch.func.grad(of(torch, torch.func.jvp), argnums=(0, 1))(*theirs(X, U))
    for a, b in zip(mine, torchs):
        assert_close(a.numpy(), b, rtol=1e-9, atol=1e-10)
    mixed = func.jacrev(func.jacfwd(scalar_of(cr, name)))(*ours(X))   # reverse over forward: a hessian
    assert_close(mixed.numpy(), torch.func.hessian(scalar_of(torch, name))(*theirs(X)), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["mul_", "sigmoid_", "z[1:, [0, 2]] = v", "pow_", "index_add_"])
def test_forward_over_forward_through_an_in_place_write_is_torchs(name):
    """Two dual levels: the write moves the tangents of both (and the tangent of the tangent)."""
    mine = func.jacfwd(func.jacfwd(scalar_of(cr, name)))(*ours(X))
    torchs = torch.func.jacfwd(torch.func.jacfwd(scalar_of(torch, name)))(*theirs(X))
    assert_close(mine.numpy(), torchs, rtol=1e-9, atol=1e-10)


def test_a_write_moves_the_tangents_of_every_level():
    x, u0, u1 = ours(X[0], U[0], V[0])
    with fwAD.dual_level():
        outer = fwAD.make_dual(x, u0)
        with fwAD.dual_level():
            inner = fwAD.make_dual(outer, u1)
            z = inner.clone()
            z.mul_(3)
            assert_close(fwAD.unpack_dual(z, level=1).tangent.numpy(), 3 * V[0])
            assert_close(fwAD.unpack_dual(z, level=0).tangent.numpy(), 3 * U[0])


# --- the cases torch.func defines -------------------------------------------------------------------
def test_a_buffer_without_a_tangent_gets_one_from_the_value_written():
    """buf = zeros(3); buf[1] = dual: buf (float32, no tangent before) takes the value's tangent."""
    def buffer(L, x):
        buf = L.zeros(3)
        buf[1] = x[0] * 2
        buf.add_(x[2])
        return buf
    with fwAD.dual_level():
        dual = fwAD.make_dual(*ours([1.0, 2.0, 3.0], [1.0, 10.0, 100.0]))
        primal, tangent = fwAD.unpack_dual(buffer(cr, dual))
    assert tangent is not None and tangent.dtype == cr.float32
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(*theirs([1.0, 2.0, 3.0], [1.0, 10.0, 100.0]))
        their_primal, their_tangent = torch.autograd.forward_ad.unpack_dual(buffer(torch, dual))
    assert_close(primal.numpy(), their_primal)
    assert_close(tangent.numpy(), their_tangent)


def test_the_tangent_a_write_gave_leaves_with_its_level():
    buf = cr.zeros(3, dtype=cr.float64)
    with fwAD.dual_level():
        buf[0] = fwAD.make_dual(*ours(1.0, 5.0))
        assert fwAD.unpack_dual(buf).tangent is not None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(buf).tangent is None
    assert_close(buf.numpy(), [1.0, 0.0, 0.0])


def test_a_write_under_no_grad_is_followed_too():
    """Grad mode is about the reverse graph; forward mode goes on (as in PyTorch)."""
    with fwAD.dual_level():
        dual = fwAD.make_dual(*ours([1.0, 2.0], [1.0, 10.0]))
        with cr.no_grad():
            z = dual.clone()
            z.mul_(3)
        assert_close(fwAD.unpack_dual(z).tangent.numpy(), [3.0, 30.0])


def test_writing_into_the_input_of_jvp_follows_as_in_torch():
    def f(x):
        x.mul_(2)
        return x
    value, tangent = func.jvp(f, ours([1.0, 2.0]), ours([1.0, 10.0]))
    their_value, their_tangent = torch.func.jvp(f, theirs([1.0, 2.0]), theirs([1.0, 10.0]))
    assert_close(value.numpy(), their_value)
    assert_close(tangent.numpy(), their_tangent)


def test_earlier_users_keep_the_old_tangent():
    def f(x):
        z = x.clone()
        before = z * 2
        z.mul_(x)
        return before, z
    mine, torchs = func.jvp(f, ours(X), ours(U))[1], torch.func.jvp(f, theirs(X), theirs(U))[1]
    for a, b in zip(mine, torchs):
        assert_close(a.numpy(), b)


def test_random_fills_leave_a_zero_tangent():
    with fwAD.dual_level():
        for fill in (lambda z: z.uniform_(-1.0, 1.0), lambda z: z.normal_()):
            z = fwAD.make_dual(*ours(X, U)).clone()
            fill(z)
            assert_close(fwAD.unpack_dual(z).tangent.numpy(), np.zeros_like(X))


def test_writes_without_tangents_are_left_as_they_were():
    """Under a dual level, a write with no tangent around gets none (and integer tensors work)."""
    with fwAD.dual_level():
        fwAD.make_dual(*ours(X, U))
        count = cr.tensor([1, 2])
        count += 1
        buf = cr.zeros(3)
        buf.add_(1.0)
        buf[0] = 5.0
        assert fwAD.unpack_dual(buf).tangent is None and fwAD.unpack_dual(count).tangent is None
    assert count.tolist() == [2, 3] and buf.tolist() == [5.0, 1.0, 1.0]


# --- what forward mode cannot follow ----------------------------------------------------------------
@pytest.mark.parametrize("write", [lambda z, x: z[0].mul_(2), lambda z, x: z.T.add_(x.T),
                                   lambda z, x: z[1:].copy_(x[:2]), lambda z, x: z.reshape(12).zero_(),
                                   lambda z, x: z[0].__setitem__(1, x[0, 0])])
def test_a_write_into_a_view_of_a_live_tensor_is_refused(write):
    """z[0].mul_(2) would change z's values but not its tangent: a clear error, not a wrong number."""
    with fwAD.dual_level():
        x = fwAD.make_dual(*ours(X, U))
        z = x.clone()
        with pytest.raises(GraphError, match="view of another one"):
            write(z, x)


def test_a_write_into_a_view_made_before_the_level_is_refused():
    """Forward mode did not see buf[0:3] made: it cannot know whether buf lives, so it refuses."""
    buf = cr.zeros(6, dtype=cr.float64)
    part = buf[0:3]
    with fwAD.dual_level():
        dual = fwAD.make_dual(*ours([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]))
        with pytest.raises(GraphError, match="before the dual level"):
            part.add_(dual)
    assert buf.tolist() == [0.0] * 6


def test_augmented_assignment_through_an_index_works():
    """z[0] += v is z[0] = z[0] + v to Python: the write goes through z itself."""
    def f(x):
        z = x.clone()
        z[0] += x[1]
        z[1:, 2] *= x[0, 1:3]
        return z
    mine, torchs = func.jvp(f, ours(X), ours(U)), torch.func.jvp(f, theirs(X), theirs(U))
    for a, b in zip(mine, torchs):
        assert_close(a.numpy(), b)


def test_a_view_of_a_tensor_gone_can_be_written():
    def f(x):
        z = x.clone().reshape(4, 3)   # the clone itself is not kept
        z.mul_(x.reshape(4, 3))
        return z
    mine, torchs = func.jvp(f, ours(X), ours(U)), torch.func.jvp(f, theirs(X), theirs(U))
    for a, b in zip(mine, torchs):
        assert_close(a.numpy(), b)


def test_floor_divide_in_place_has_no_derivative():
    with fwAD.dual_level():
        z = fwAD.make_dual(*ours(X, U)).clone()
        with pytest.raises(GraphError, match="floor_divide"):
            z.floor_divide_(2.0)
