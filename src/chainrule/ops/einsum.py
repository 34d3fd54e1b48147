"""einsum: sums of products named by subscripts, y[out] = sum over the other letters of
prod_j A_j[s_j] (``"ij,jk->ik"`` is a matrix product, ``"ii->"`` a trace, ``"bi,bi->b"`` rowwise dots).

The VJP of every operand is an einsum again. For operand i with subscripts s_i:

    dL/dA_i[s_i] = sum over the letters not in s_i of  g[out] * prod_{j != i} A_j[s_j]
                 = einsum("out, s_j (j != i), deltas, ones -> s_i", g, A_j..., eye..., ones...)

with two constants so that one einsum covers every case:
    a letter repeated in s_i ("ii"): the gradient lives on the diagonal only, so the repeat gets a
        fresh letter b and the identity eye[a, b] joins the product;
    a letter only in s_i (summed away in the forward, "ij->i"): every position got the same
        gradient, so ones[j] joins the product (einsum cannot output a letter no input has).
The gradient has every letter at its full (broadcast) size; where the input had size 1 the
engine sums it back to the input's shape.

Forward mode: y is linear in each operand, so its tangent is one einsum per operand that has a
tangent, that operand replaced by its tangent (the product rule):

    dy = sum_i einsum(equation, A_1, ..., dA_i, ..., A_n)
``...`` is replaced by letters before the primitive sees the equation (right-aligned, broadcasting).
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

from ..backend import np
from ..errors import ArgumentError, ShapeError
from ..primitive import Primitive, apply
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Sequence


def einsum_arrays(equation: str, *arrays):
    """np.einsum on an explicit equation; the contraction order is optimised when it pays (BLAS
    for big operands, a good pairing for three or more)."""
    optimize = len(arrays) > 2 or sum(a.size for a in arrays) > 4096
    return np.einsum(equation, *arrays, optimize=optimize)


def _split(equation: str):
    inputs, output = equation.split("->")
    return inputs.split(","), output


def _letter_sizes(terms, shapes) -> dict:
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for letter, size in zip(term, shape):
            if sizes.get(letter, 1) == 1:
                sizes[letter] = size
    return sizes


def _einsum_vjp_all(xp, g, y, inputs, needs, equation):
    terms, output = _split(equation)
    sizes = _letter_sizes(terms + [output], [x.shape for x in inputs] + [g.shape])
    unused = [c for c in string.ascii_letters if c not in equation]
    grads: list[Any] = []
    for i, (term, need) in enumerate(zip(terms, needs)):
        if not need:
            grads.append(None)
            continue
        subscripts, operands, target = [output], [g], ""
        for j, (other, x) in enumerate(zip(terms, inputs)):
            if j != i:
                subscripts.append(other)
                operands.append(x)
        elsewhere = set(output).union(*[set(t) for j, t in enumerate(terms) if j != i])
        for letter in term:
            if letter in target:  # a repeat: a fresh letter on the identity's second axis
                fresh = unused.pop()
                subscripts.append(letter + fresh)
                operands.append(np.eye(sizes[letter], dtype=g.dtype))
                target += fresh
                continue
            if letter not in elsewhere:
                subscripts.append(letter)
                operands.append(np.ones(sizes[letter], dtype=g.dtype))
            target += letter
        grad = xp.einsum(",".join(subscripts) + "->" + target, *operands)
        full = tuple(sizes[letter] for letter in term)  # a letter of size 1 in every other operand
        grads.append(grad if tuple(grad.shape) == full else xp.broadcast_to(grad, full))
    return grads


def _einsum_jvp(xp, tangents, y, *inputs, equation):
    total = None
    for i, tangent in enumerate(tangents):
        if tangent is not None:
            term = xp.einsum(equation, *inputs[:i], tangent, *inputs[i + 1:])
            total = term if total is None else total + term
    return total


einsum_p = Primitive("einsum", lambda *arrays, equation: einsum_arrays(equation, *arrays),
                     vjp_all=_einsum_vjp_all, jvp=_einsum_jvp)


# --- the function users call ----------------------------------------------------------------
def _explicit(equation: str, shapes) -> str:
    """The equation with spaces gone, ``...`` spelled as letters and the output written out."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: '{equation}' names {len(terms)} operands but {len(shapes)} were given")
    for term in terms + ([rhs] if arrow else []):
        rest = term.replace("...", "", 1)
        if any(c not in string.ascii_letters for c in rest):
            raise ArgumentError(f"einsum: '{equation}': subscripts must be letters a-z, A-Z (and one '...')")
    spare = [c for c in string.ascii_letters if c not in equation]
    widths = []
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        width = len(shape) - named if "..." in term else 0
        if width < 0 or ("..." not in term and named != len(shape)):
            raise ShapeError(f"einsum: subscripts '{term}' do not fit an operand of shape {tuple(shape)}")
        widths.append(width)
    ellipsis = "".join(spare[:max(widths, default=0)])
    terms = [t.replace("...", ellipsis[len(ellipsis) - w:] if w else "") for t, w in zip(terms, widths)]
    if arrow:
        rhs = rhs.replace("...", ellipsis)
    else:
        counts = {c: "".join(terms).count(c) for c in set("".join(terms))}
        rhs = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis))
    missing = [c for c in rhs if c not in "".join(terms)]
    if missing or len(set(rhs)) != len(rhs):
        raise ShapeError(f"einsum: output subscripts '{rhs}' must be distinct letters of the inputs "
                         f"('{equation}')")
    return ",".join(terms) + "->" + rhs


def _check_sizes(equation: str, shapes) -> None:
    terms, _ = _split(equation)
    seen: dict[str, tuple[int, int]] = {}
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        for letter, size in zip(term, shape):
            if letter in seen and size != seen[letter][0] and 1 not in (size, seen[letter][0]):
                raise ShapeError(f"einsum: subscript '{letter}' has size {seen[letter][0]} in operand "
                                 f"{seen[letter][1]} but {size} in operand {k} (shapes "
                                 f"{', '.join(str(tuple(s)) for s in shapes)})")
            if letter not in seen or seen[letter][0] == 1:
                seen[letter] = (size, k)


def einsum(equation: str, *operands: Tensor | Sequence[Tensor]) -> Tensor:
    """Einstein summation (torch.einsum): ``einsum("ij,jk->ik", a, b)`` is a @ b.

    Letters shared by operands are multiplied along; letters missing from the output are summed.
    Without ``->`` the output is the letters used once, in alphabetical order. ``...`` stands for
    the remaining (broadcast) dims. Operands may be given one by one or as one list."""
    given = operands[0] if len(operands) == 1 and isinstance(operands[0], (list, tuple)) else operands
    tensors = tuple(t if isinstance(t, Tensor) else Tensor._wrap(np.asarray(t)) for t in given)
    if not tensors:
        raise ShapeError("einsum: needs at least one operand")
    shapes = [t.shape for t in tensors]
    explicit = _explicit(equation, shapes)
    _check_sizes(explicit, shapes)
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        common = np.result_type(*dtypes)
        tensors = tuple(t if t.dtype == common else t.to(common) for t in tensors)
    return apply(einsum_p, tensors, {"equation": explicit})
