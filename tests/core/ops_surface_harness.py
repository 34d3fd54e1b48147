"""Shared checks for the ops-surface tests: every case is a function ``f(M, *tensors)`` written
once for both libraries (M is chainrule or torch) and the float64 arrays to call it with.

    gradcheck_case     chainrule's gradients against central differences (cr.gradcheck)
    second_order_case  the gradient, recorded with create_graph=True, against central differences
    torch_case         values of every output and gradients of every input against torch 2.13
"""

import numpy as np

import chainrule as cr


def case(name, function, *arrays, second_order=False, finite_differences=True):
    """A test case: (name, function, arrays, flags). ``second_order`` adds a gradcheck of the
    gradient; ``finite_differences=False`` leaves the case to the torch comparison only (for a
    point where PyTorch's chosen subgradient is not the finite-difference slope)."""
    flags = {"second_order": second_order, "finite_differences": finite_differences}
    return (name, function, [np.asarray(a, dtype=np.float64) for a in arrays], flags)


def uniform(*shape, low=-1.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _leaves(M, arrays):
    return [M.tensor(a, dtype=M.float64, requires_grad=True) for a in arrays]


def _differentiable(M, result):
    return [o for o in _outputs(result) if o.dtype == M.float64 and o.requires_grad]


def gradcheck_case(function, arrays):
    def differentiable_only(*tensors):
        return _differentiable(cr, function(cr, *tensors))

    assert cr.gradcheck(differentiable_only, _leaves(cr, arrays))


def second_order_case(function, arrays):
    """The gradient of sum(f(x) * w) is itself gradchecked: Hessian-vector products."""
    leaves = _leaves(cr, arrays)
    weights = [np.random.default_rng(5).standard_normal(o.shape)
               for o in _differentiable(cr, function(cr, *leaves))]

    def gradient(*tensors):
        total = None
        for o, w in zip(_differentiable(cr, function(cr, *tensors)), weights):
            term = (o * cr.tensor(w, dtype=cr.float64)).sum()
            total = term if total is None else total + term
        grads = cr.grad(total, list(tensors), create_graph=True, allow_unused=True)
        return [g for g in grads if g is not None]

    assert cr.gradcheck(gradient, leaves)


def _run(M, function, arrays):
    leaves = _leaves(M, arrays)
    result = function(M, *leaves)
    outputs = _outputs(result)
    total = None
    for k, o in enumerate(outputs):
        if o.dtype == M.float64 and o.requires_grad:
            w = M.tensor(np.random.default_rng(k).standard_normal(tuple(o.shape)), dtype=M.float64)
            term = (o * w).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    values = [o.detach().numpy() if hasattr(o, "detach") else np.asarray(o) for o in outputs]
    grads = [np.zeros(a.shape) if t.grad is None else t.grad.numpy() for t, a in zip(leaves, arrays)]
    return values, grads


def torch_case(torch, function, arrays, rtol=1e-10, atol=1e-12):
    ours, our_grads = _run(cr, function, arrays)
    theirs, their_grads = _run(torch, function, arrays)
    assert len(ours) == len(theirs), f"{len(ours)} outputs vs torch's {len(theirs)}"
    for k, (mine, reference) in enumerate(zip(ours, theirs)):
        assert mine.shape == reference.shape, f"output {k}: shape {mine.shape} vs torch's {reference.shape}"
        assert mine.dtype == reference.dtype, f"output {k}: dtype {mine.dtype} vs torch's {reference.dtype}"
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol, err_msg=f"output {k}")
    for i, (mine, reference) in enumerate(zip(our_grads, their_grads)):
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
