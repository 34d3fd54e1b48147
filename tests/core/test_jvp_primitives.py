"""Forward mode, primitive by primitive: every Primitive in ``chainrule.ops`` has a JVP, and every
JVP is checked, in float64, on the nodes the cases of ``jvp_cases.py`` record (broadcasting
shapes included):

    against central differences      J u  ~  (f(x + eps u) - f(x - eps u)) / (2 eps)
    against the VJP (the adjoint)    <v, J u> = <Jᵀ v, u>     (u, v random; Jᵀ v by backward)
    on Tensors as on arrays          the recorded JVP (what nested transforms run) = the plain one

and each case as a whole: its JVP against central differences, and forward-over-reverse
Hessian-vector products against reverse-over-reverse ones.
"""

import importlib
import pkgutil

import numpy as np
import pytest
from tests.core.jvp_cases import CASES

import chainrule as cr
import chainrule.ops as ops
from chainrule import forward_ad as fwAD
from chainrule import func
from chainrule.engine import _topological_order
from chainrule.errors import GraphError
from chainrule.ops.attention import attention_p, attention_probs
from chainrule.ops.normalization import normalize_p
from chainrule.primitive import Primitive, apply


def _all_primitives() -> dict:
    """{variable name: primitive} for every Primitive in a module of chainrule.ops."""
    found = {}
    for module in pkgutil.iter_modules(ops.__path__):
        for name, value in vars(importlib.import_module(f"chainrule.ops.{module.name}")).items():
            if isinstance(value, Primitive) and all(value is not p for p in found.values()):
                found[name] = value
    return found


PRIMITIVES = _all_primitives()


@pytest.fixture(scope="module")
def recorded() -> dict:
    """{primitive: [(inputs, params, case), ...]}: the nodes every case's graph holds."""
    nodes = {}
    for case in CASES:
        result = case.function(*case.leaves())
        outputs = [result] if isinstance(result, cr.Tensor) else list(result)
        for node in _topological_order([o for o in outputs if o.grad_fn is not None]):
            nodes.setdefault(node._prim, []).append((node._inputs(), node._params, case))
    return nodes


def _dual_output(prim, inputs, params, tangents, requires_grad=False):
    """The op's output tangent by forward mode (on arrays; on Tensors when requires_grad)."""
    values = [cr.tensor(t._data, requires_grad=requires_grad and t.dtype.kind == "f") for t in inputs]
    with fwAD.dual_level():
        duals = [v if u is None else fwAD.make_dual(v, cr.tensor(u)) for v, u in zip(values, tangents)]
        tangent = fwAD.unpack_dual(apply(prim, tuple(duals), params)).tangent
    return np.zeros(0) if tangent is None else tangent.numpy()


def _forward(prim, arrays, params):
    if prim is normalize_p and not params["fixed"]:   # batch statistics are functions of x, not constants
        x, axes, eps = arrays[0], params["axes"], params["eps"]
        params = dict(params, mean=x.mean(axis=axes, keepdims=True),
                      inv_std=1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps))
    if prim is attention_p:   # the node keeps P = softmax(c q k^T + M) as a param: a function of q, k, M
        q, k, mask = arrays[0], arrays[1], arrays[3] if len(arrays) == 4 else None
        with np.errstate(invalid="ignore", divide="ignore"):
            params = dict(params, probs=attention_probs(q, k, mask, params["causal"], params["scale"]))
    return np.asarray(prim.forward(*arrays, **params), dtype=np.float64)


def _random_like(rng, inputs):
    return [rng.standard_normal(t.shape) if t.dtype.kind == "f" else None for t in inputs]


def _check_node(prim, inputs, params, case, rng):
    tangents = _random_like(rng, inputs)
    jvp = _dual_output(prim, inputs, params, tangents)
    arrays = [t._data for t in inputs]
    output = _forward(prim, arrays, params)
    assert jvp.shape == output.shape, f"{prim.name}: tangent shape {jvp.shape}, output {output.shape}"
    if case.fd:
        ahead = [a if u is None else a + case.eps * u for a, u in zip(arrays, tangents)]
        behind = [a if u is None else a - case.eps * u for a, u in zip(arrays, tangents)]
        differences = (_forward(prim, ahead, params) - _forward(prim, behind, params)) / (2 * case.eps)
        np.testing.assert_allclose(jvp, differences, rtol=case.rtol, atol=1e-6,
                                   err_msg=f"{prim.name} ({case}): JVP against central differences")
    leaves = [cr.tensor(t._data, requires_grad=t.dtype.kind == "f") for t in inputs]
    out = apply(prim, tuple(leaves), params)
    v = rng.standard_normal(out.shape)
    differentiable = [t for t in leaves if t.requires_grad]
    grads = cr.grad(out, differentiable, grad_outputs=cr.tensor(v), allow_unused=True)
    transposed = sum(0.0 if g is None else float(np.sum(g.numpy() * u))
                     for g, u in zip(grads, [u for u in tangents if u is not None]))
    exact = 1e-8 if case.rtol <= 1e-5 else case.rtol   # float32 round trips round both sides apart
    assert np.isclose(float(np.sum(v * jvp)), transposed, rtol=exact, atol=1e-9), \
        f"{prim.name} ({case}): <v, J u> = {np.sum(v * jvp)} but <Jᵀ v, u> = {transposed}"
    on_tensors = _dual_output(prim, inputs, params, tangents, requires_grad=True)
    np.testing.assert_allclose(on_tensors, jvp, rtol=1e-10, atol=1e-12,
                               err_msg=f"{prim.name} ({case}): the recorded JVP differs from the plain one")


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_has_a_jvp_checked_against_differences_and_its_vjp(name, recorded):
    prim = PRIMITIVES[name]
    if prim.gradient_free:   # no derivative either way: see test_gradient_free_ops_give_no_tangent
        return
    assert prim.jvp is not None, f"'{prim.name}' ({name}) has no JVP: write it beside its VJPs"
    nodes = recorded.get(prim)
    assert nodes, f"no case in tests/core/jvp_cases.py reaches '{prim.name}' ({name}): add one"
    rng = np.random.default_rng(sum(map(ord, name)))
    for inputs, params, case in nodes[:4]:
        if name in ("floor_divide_p", "trunc_divide_p"):   # no derivative either way, as PyTorch
            with pytest.raises(GraphError, match="not implemented"):
                _dual_output(prim, inputs, params, _random_like(rng, inputs))
            continue
        _check_node(prim, inputs, params, case, rng)


@pytest.mark.parametrize("case", [c for c in CASES if c.second_order], ids=repr)
def test_each_case_by_forward_mode_against_differences_and_reverse_mode(case):
    """The whole case: J u against central differences (composition, batch statistics), and the
    Hessian-vector product forward-over-reverse (every VJP's ops pushed through their JVPs)
    against reverse-over-reverse."""
    rng = np.random.default_rng(3)
    leaves = case.leaves()
    tangents = [cr.tensor(rng.standard_normal(x.shape)) for x in leaves]
    weights = None

    def scalar(*xs):
        nonlocal weights
        result = case.function(*xs)
        outputs = [result] if isinstance(result, cr.Tensor) else list(result)
        if weights is None:
            weights = [cr.tensor(rng.standard_normal(o.shape)) for o in outputs]
        return sum((o * w).sum() for o, w in zip(outputs, weights))

    value, jvp = func.jvp(scalar, tuple(leaves), tuple(tangents))
    if case.fd:
        arrays = case.arrays()
        shifted = [[cr.tensor(a + s * case.eps * u.numpy(), requires_grad=True)
                    for a, u in zip(arrays, tangents)] for s in (1, -1)]
        differences = (scalar(*shifted[0]).item() - scalar(*shifted[1]).item()) / (2 * case.eps)
        assert np.isclose(jvp.item(), differences, rtol=case.rtol, atol=1e-6), (jvp.item(), differences)
    argnums = tuple(range(len(leaves)))
    _, forward_over_reverse = func.jvp(func.grad(scalar, argnums), tuple(leaves), tuple(tangents))
    def along_tangents(*xs):   # <grad(x), u>, whose gradient is H u
        return sum((g * u).sum() for g, u in zip(func.grad(scalar, argnums)(*xs), tangents))

    reverse_over_reverse = func.grad(along_tangents, argnums)(*leaves)
    for a, b in zip(forward_over_reverse, reverse_over_reverse):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-10)


def test_the_padding_row_of_an_embedding_has_no_tangent_as_it_has_no_gradient():
    weight = cr.tensor(np.arange(6.0).reshape(3, 2))
    _, tangent = func.jvp(lambda w: cr.nn.functional.embedding(cr.tensor([0, 2, 1]), w, padding_idx=2),
                          (weight,), (cr.ones(3, 2, dtype=cr.float32),))
    np.testing.assert_array_equal(tangent.numpy(), [[1, 1], [0, 0], [1, 1]])


def test_a_primitive_without_a_jvp_says_so_in_forward_mode():
    bare = Primitive("bare", lambda x: x * 2, lambda xp, g, y, x: g * 2)
    with fwAD.dual_level():
        x = fwAD.make_dual(cr.tensor([1.0]), cr.tensor([1.0]))
        with pytest.raises(GraphError, match="'bare' has no JVP"):
            bare(x)


def test_gradient_free_ops_give_no_tangent():
    """Comparisons, argmax and masks have no derivative: under forward mode their outputs carry no
    tangent (as in torch.func), and the ops built on them (dropout's keep-mask, batch statistics) still
    get the tangent their own rule gives."""
    import chainrule.nn.functional as F

    x = cr.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, cr.ones_like(x))
        for result in (dual.argmax(), dual.argmin(dim=1), dual > 0, (dual > 0).logical_not(),
                       dual.max(dim=1)[1]):
            assert fwAD.unpack_dual(result).tangent is None
        cr.manual_seed(0)
        dropped = F.dropout(dual, p=0.5, training=True)
        kept = dropped.detach().numpy() / x.numpy()   # 0 or 2 where x != 0
        np.testing.assert_allclose(fwAD.unpack_dual(dropped).tangent.numpy(), kept)
