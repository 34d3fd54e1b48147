"""Random tensors, with PyTorch's argument forms and ``generator=`` on every function.

    rand(*size)                 uniform on [0, 1)
    randn(*size)                standard normal
    randint(high, size)         integers in [0, high)
    randint(low, high, size)    integers in [low, high)
    randperm(n)                 a random permutation of 0..n-1
    normal(mean, std[, size])   normal with tensor or number mean/std
    bernoulli(p)                1 with probability p, elementwise
    multinomial(p, k[, replacement])   k category indices per row, drawn with weights p

Without ``generator=`` the draws come from the default generator (``cr.manual_seed``); see
``chainrule.backend.Generator``. None of these records a gradient (sampling is not
differentiable; write the reparameterised form, ``mean + std * randn(...)``, for that).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from . import backend as B
from .backend import np
from .creation import finish, float_dtype, sizes
from .errors import ArgumentError, ShapeError
from .tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from ._typing import DeviceLike, DTypeLike, Size
    from .backend import Generator


def rand(*size: Size, generator: Generator | None = None, out: Tensor | None = None,
         dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
         requires_grad: bool = False, pin_memory: bool = False, **size_keyword: Size) -> Tensor:
    """Uniform samples on [0, 1): ``rand(2, 3)``, ``rand((2, 3))``, ``rand(3, generator=g)``."""
    shape = sizes(size, size_keyword, "rand")
    values = B.rng(generator).random(shape, dtype=np.float64)
    return finish(values.astype(float_dtype(dtype, "rand")), "rand", out=out, device=device,
                  requires_grad=requires_grad)


def randn(*size: Size, generator: Generator | None = None, out: Tensor | None = None,
          dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
          requires_grad: bool = False, pin_memory: bool = False, **size_keyword: Size) -> Tensor:
    """Standard normal samples: ``randn(2, 3)``, ``randn((27, 27), generator=g)``."""
    shape = sizes(size, size_keyword, "randn")
    values = B.rng(generator).standard_normal(shape)
    return finish(values.astype(float_dtype(dtype, "randn")), "randn", out=out, device=device,
                  requires_grad=requires_grad)


def randint(*args: int | Sequence[int], generator: Generator | None = None, out: Tensor | None = None,
            dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
            requires_grad: bool = False, low: int | None = None, high: int | None = None,
            size: Size | None = None) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``
    (``size`` a tuple, as in PyTorch: ``randint(5, (100,))`` gives 100 values below 5)."""
    positional: list[Any] = list(args)
    if size is None:
        if not positional or not isinstance(positional[-1], (tuple, list)):
            raise ArgumentError("randint() needs a size tuple: randint(high, size) or "
                                "randint(low, high, size), "
                            f"e.g. randint(5, (100,)); got randint{tuple(args)!r}")
        size = positional.pop()
    if len(positional) == 2:
        if low is not None or high is not None:
            raise ArgumentError("randint(): low/high given both positionally and by keyword")
        low, high = positional
    elif len(positional) == 1:
        if high is not None:
            low, high = positional[0], high
        else:
            high = positional[0]
    elif positional:
        raise ArgumentError("randint() takes randint(high, size) or randint(low, high, size); got "
                            f"{len(args)} "
                        "positional arguments")
    if high is None:
        raise ArgumentError("randint() missing the upper bound 'high'")
    low = 0 if low is None else int(low)
    high = int(high)
    if low >= high:
        raise ArgumentError(f"randint(): random_ expects 'from' to be less than 'to', but got from={low} >= "
                         f"to={high}")
    shape = sizes((size,), {}, "randint")
    values = B.rng(generator).integers(low, high, size=shape)
    kind = B.int64 if dtype is None else B.to_dtype(dtype)
    return finish(values.astype(kind), "randint", out=out, device=device, requires_grad=requires_grad)


def randperm(n: int, *, generator: Generator | None = None, out: Tensor | None = None,
             dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0, 1, ..., n - 1 (int64)."""
    n = int(n)
    if n < 0:
        raise ArgumentError(f"randperm(): n must be non-negative, got {n}")
    values = B.rng(generator).permutation(n).astype(B.int64 if dtype is None else B.to_dtype(dtype))
    return finish(values, "randperm", out=out, device=device, requires_grad=requires_grad)


def _like(input: Tensor, dtype: DTypeLike | None, op: str) -> tuple[tuple[int, ...], np.dtype]:  # noqa: A002
    if not isinstance(input, Tensor):
        raise ArgumentError(f"{op}(): expected a Tensor, got {type(input).__name__}")
    return input.shape, input.dtype if dtype is None else B.to_dtype(dtype)


def rand_like(input: Tensor, *, generator: Generator | None = None,  # noqa: A002
              dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
              requires_grad: bool = False, memory_format: object = None) -> Tensor:
    shape, kind = _like(input, dtype, "rand_like")
    return finish(B.rng(generator).random(shape).astype(kind), "rand_like", device=device,
                  requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator: Generator | None = None,  # noqa: A002
               dtype: DTypeLike | None = None, layout: object = None, device: DeviceLike | None = None,
               requires_grad: bool = False, memory_format: object = None) -> Tensor:
    shape, kind = _like(input, dtype, "randn_like")
    return finish(B.rng(generator).standard_normal(shape).astype(kind), "randn_like", device=device,
                  requires_grad=requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *,  # noqa: A002
                 generator: Generator | None = None, dtype: DTypeLike | None = None, layout: object = None,
                 device: DeviceLike | None = None, requires_grad: bool = False,
                 memory_format: object = None) -> Tensor:
    """``randint_like(t, high)`` or ``randint_like(t, low, high)``: t's shape and dtype."""
    if high is None:
        low, high = 0, low
    shape, kind = _like(input, dtype, "randint_like")
    return finish(B.rng(generator).integers(int(low), int(high), size=shape).astype(kind), "randint_like",
                  device=device, requires_grad=requires_grad)


def normal(mean: float | Tensor = 0.0, std: float | Tensor = 1.0, size: Size | None = None, *,
           generator: Generator | None = None, out: Tensor | None = None, dtype: DTypeLike | None = None,
           layout: object = None, device: DeviceLike | None = None, requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor, 1.0)``,
    ``normal(0.0, std_tensor)`` or ``normal(0.0, 1.0, size=(2, 3))``."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise ArgumentError("normal(): size= is only for a number mean and std")
        m: Any = mean._data if isinstance(mean, Tensor) else mean
        s: Any = std._data if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise ArgumentError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        kind = tensors[0].dtype if dtype is None else B.to_dtype(dtype)
    else:
        if size is None:
            raise ArgumentError("normal(mean, std) with numbers needs size=, e.g. "
                                "normal(0.0, 1.0, size=(3,))")
        if std < 0:
            raise ArgumentError(f"normal expects std >= 0.0, but found std {std}")
        m, s, shape, kind = mean, std, sizes((size,), {}, "normal"), float_dtype(dtype, "normal")
    values = B.rng(generator).normal(m, s, size=shape)
    return finish(values.astype(kind), "normal", out=out, device=device, requires_grad=requires_grad)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """1.0 with probability ``input`` (or ``p``) per element, else 0.0; the result has input's dtype."""
    probabilities = input._data if p is None else np.broadcast_to(np.asarray(p, np.float64), input.shape)
    if np.any((probabilities < 0) | (probabilities > 1)) or np.isnan(probabilities).any():
        raise ArgumentError("bernoulli(): every probability must be in [0, 1]")
    values = B.rng(generator).random(input.shape) < probabilities
    return finish(values.astype(input.dtype), "bernoulli", out=out)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Generator | None = None, out: Tensor | None = None) -> Tensor:
    """Draw ``num_samples`` category indices per row of non-negative weights ``input`` (1-D or 2-D,
    need not sum to 1): with replacement, or each category at most once (the default)."""
    weights = np.asarray(input._data, dtype=np.float64)
    if weights.ndim not in (1, 2):
        raise ShapeError(f"multinomial(): prob_dist must be 1 or 2 dim, got shape {input.shape}")
    rows = weights.reshape(-1, weights.shape[-1])
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise ArgumentError(f"multinomial(): cannot sample n_sample <= 0 samples (got {num_samples})")
    if not replacement and num_samples > rows.shape[1]:
        raise ArgumentError(f"multinomial(): cannot sample n_sample ({num_samples}) > prob_dist.size(-1) "
                         f"({rows.shape[1]}) samples without replacement")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ArgumentError("multinomial(): probability tensor contains either inf, nan or element < 0")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ArgumentError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and ((rows > 0).sum(axis=1) < num_samples).any():
        raise ArgumentError("multinomial(): invalid multinomial distribution (with replacement=False, not "
                         "enough non-negative category to sample)")
    generator_ = B.rng(generator)
    drawn = np.stack([generator_.choice(rows.shape[1], size=num_samples, replace=replacement, p=row / total)
                      for row, total in zip(rows, totals)])
    result = drawn.reshape(weights.shape[:-1] + (num_samples,)).astype(B.int64)
    return finish(result, "multinomial", out=out)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:  # noqa: A002
    """Poisson samples with rate ``input`` per element (input's dtype)."""
    return Tensor._wrap(B.rng(generator).poisson(input._data).astype(input.dtype))


# --- the default generator, as torch.random has it ------------------------------------------
def seed() -> int:
    """Reseed the default generator from the operating system; returns the seed."""
    return B.default_generator.seed()


def initial_seed() -> int:
    return B.default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as a uint8 tensor (``set_rng_state`` puts it back)."""
    return Tensor._wrap(B.default_generator.get_state())


def set_rng_state(new_state: Tensor) -> None:
    B.default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: object = None, enabled: bool = True, **kwargs: object) -> Iterator[None]:
    """Inside the block draws may use the default generator; afterwards its state is restored."""
    state = B.default_generator.get_state()
    try:
        yield
    finally:
        if enabled:
            B.default_generator.set_state(state)
