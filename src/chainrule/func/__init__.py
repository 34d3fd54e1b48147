"""Function transforms, as in HIPS autograd, JAX and torch.func: derivatives as functions.

    from chainrule import func

    func.grad(f)(x)                  df/dx for f returning one number        (reverse mode)
    func.grad_and_value(f)(x)        (df/dx, f(x))
    func.vjp(f, x)                   (f(x), vjp_fn), vjp_fn(v) = vᵀJ        (reverse mode)
    func.jvp(f, (x,), (u,))          (f(x), J u)                             (forward mode)
    func.jacrev(f)(x)                J, one backward pass per output element (rows)
    func.jacfwd(f)(x)                J, one forward pass per input element   (columns)
    func.hessian(f)(x)               jacfwd(jacrev(f)): forward over reverse
    func.vmap(f)(xs)                 f over the leading axis of xs, results stacked (a loop)

``argnums`` picks the argument(s) to differentiate (an int, or a tuple: then tuples come back);
arguments and results may be tuples, lists and dicts of Tensors. The transforms nest
(``grad(grad(f))``, ``jacfwd(jacrev(f))``, ``vmap(grad(f))``) and compose with ``backward``.

Reverse mode is ``chainrule.autograd`` (the lesson's backpropagation), forward mode is
``chainrule.forward_ad`` (tangents pushed through each op's JVP, beside its VJP in
``chainrule.ops``). For f from n numbers to m numbers, a Jacobian costs m backward passes or n
forward ones: reverse mode for a loss (m = 1), forward mode for few inputs and many outputs.
"""

from .forward import hessian, jacfwd, jvp
from .reverse import grad, grad_and_value, jacrev, vjp
from .vmap import vmap

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp", "vmap"]
