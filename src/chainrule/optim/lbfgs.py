"""L-BFGS: a quasi-Newton method that steps along an approximate Newton direction built from the
last few gradient changes, with PyTorch's algorithm step for step (so trajectories agree).

All parameters are treated as one flat vector w with gradient g. Each ``step(closure)`` runs up
to ``max_iter`` iterations (and ``max_eval`` evaluations of the closure):

    1. direction d: the first time d = -g. Later, with s = t d (the last step) and y = g - g_prev,
       keep (s, y) when y.s > 1e-10 (the last ``history_size`` pairs, rho_i = 1 / y_i.s_i) and
       apply the inverse-Hessian estimate to -g by the two-loop recursion:

           q = -g;  for i newest..oldest:  a_i = rho_i s_i.q;   q = q - a_i y_i
           r = H0 q, H0 = y.s / y.y (newest pair)
           for i oldest..newest:  b = rho_i y_i.r;  r = r + (a_i - b) s_i
           d = r

    2. step length t: lr (the very first iteration: min(1, 1 / sum|g|) * lr, as the scale of
       w is unknown); with line_search_fn='strong_wolfe', a search from there for a t with

           f(w + t d) <= f(w) + c1 t g.d   and   |g(w + t d).d| <= c2 |g.d|      (c1 = 1e-4, c2 = 0.9)

       by cubic interpolation (bracketing, then zooming; at most max_eval - evaluations so far).
    3. w = w + t d; re-evaluate f and g (without a line search: except on the last iteration).
    4. stop when: g.d > -tolerance_change (not a descent direction), max_iter or max_eval reached,
       max|g| <= tolerance_grad, max|t d| <= tolerance_change, or |f - f_prev| < tolerance_change.

The closure must clear the gradients, compute the loss, call backward() and return the loss; it
is called several times per step. Everything (the history, the last direction and step) lives in
``state`` of the first parameter, as in PyTorch, so ``state_dict()`` round trips resume exactly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..autograd import enable_grad
from ..backend import np
from ..errors import ArgumentError, ChainruleError
from ..tensor import Tensor
from .optimizer import Optimizer

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from .._typing import ParamsT


def _cubic_minimum(t1: float, f1: float, slope1: float, t2: float, f2: float, slope2: float,
                   bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (t1, f1) and (t2, f2) with slopes slope1 and slope2,
    clipped to ``bounds`` (default: between t1 and t2); the bounds' middle if it has none."""
    low, high = bounds if bounds is not None else (min(t1, t2), max(t1, t2))
    d1 = slope1 + slope2 - 3 * (f1 - f2) / (t1 - t2)
    d2_squared = d1 * d1 - slope1 * slope2
    if d2_squared < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_squared)
    if t1 <= t2:
        t = t2 - (t2 - t1) * ((slope2 + d2 - d1) / (slope2 - slope1 + 2 * d2))
    else:
        t = t1 - (t1 - t2) * ((slope1 + d2 - d1) / (slope1 - slope2 + 2 * d2))
    return min(max(t, low), high)


def _strong_wolfe(evaluate: Callable[[float], tuple[float, np.ndarray]], t: float, d: np.ndarray, f: float,
                  g: np.ndarray, gd: float, c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                  max_evaluations: int = 25) -> tuple[float, np.ndarray, float, int]:
    """A step t along d satisfying the strong Wolfe conditions: returns (f, g, t, evaluations).
    ``evaluate(t)`` gives the loss and flat gradient at w + t d (and leaves w as it was)."""
    d_size = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evaluations, tries = 1, 0
    gd_new = g_new.dot(d)
    t_prev: float
    t_prev, f_prev, g_prev, gd_prev = 0, f, g, gd
    done = False
    # phase 1: grow t until [t_prev, t] brackets a point that satisfies the conditions
    while tries < max_evaluations:
        sufficient = abs(gd_new) <= -c2 * gd
        if f_new > f + c1 * t * gd or (tries > 1 and f_new >= f_prev) or (gd_new >= 0 and not sufficient):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]   # overshot: a minimum lies in between
            bracket_g, bracket_gd = [g_prev, g_new], [gd_prev, gd_new]
            break
        if sufficient:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        bounds = (t + 0.01 * (t - t_prev), t * 10)
        t_next = _cubic_minimum(t_prev, f_prev, gd_prev, t, f_new, gd_new, bounds=bounds)
        t_prev, f_prev, g_prev, gd_prev = t, f_new, g_new, gd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evaluations += 1
        gd_new = g_new.dot(d)
        tries += 1
    if tries == max_evaluations:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # phase 2: shrink the bracket by cubic interpolation until a point satisfies the conditions
    stalled = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and tries < max_evaluations:
        if abs(bracket[1] - bracket[0]) * d_size < tolerance_change:
            break
        t = _cubic_minimum(bracket[0], bracket_f[0], bracket_gd[0], bracket[1], bracket_f[1], bracket_gd[1])
        # keep away from the ends of the bracket: a step there would make little progress
        margin = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < margin:
            if stalled or t >= max(bracket) or t <= min(bracket):
                nearer_top = abs(t - max(bracket)) < abs(t - min(bracket))
                t = max(bracket) - margin if nearer_top else min(bracket) + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = evaluate(t)
        evaluations += 1
        gd_new = g_new.dot(d)
        tries += 1
        if f_new > f + c1 * t * gd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gd[high] = t, f_new, g_new, gd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gd_new) <= -c2 * gd:
                done = True
            elif gd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gd[high] = bracket_g[low], bracket_gd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gd[low] = t, f_new, g_new, gd_new
    return bracket_f[low], bracket_g[low], bracket[low], evaluations


class LBFGS(Optimizer):
    r"""L-BFGS (limited-memory BFGS), as PyTorch's ``torch.optim.LBFGS`` (full algorithm in the
    module docstring). With all parameters as one vector w and gradient g, each iteration::

        d = -H g          H: the inverse Hessian estimated from the last history_size pairs
                          s = w_new - w_old, y = g_new - g_old (two-loop recursion)
        w = w + t d       t = lr, or found by line_search_fn='strong_wolfe'

    up to ``max_iter`` iterations and ``max_eval`` loss evaluations per ``step``, stopping early
    once max|g| <= tolerance_grad or the step or loss changes by less than tolerance_change.

    ``step(closure)`` needs the closure::

        optimizer = optim.LBFGS(model.parameters(), lr=0.8)
        def closure():
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            return loss
        optimizer.step(closure)

    One parameter group only; memory grows with ``history_size`` copies of all parameters.
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if lr < 0.0:
            raise ArgumentError(f"LBFGS: invalid learning rate {lr} (must be >= 0)")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ArgumentError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                                f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ArgumentError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # --- the parameters as one flat vector ---------------------------------------------------
    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p._data.size, p.dtype) if p.grad is None else p.grad._data.ravel()
                               for p in self._params])

    def _move(self, t: float, direction: np.ndarray) -> None:
        """w = w + t * direction, in place."""
        offset = 0
        for p in self._params:
            size = p._data.size
            p._data += t * direction[offset:offset + size].reshape(p.shape)
            p._version += 1
            offset += size

    def _set(self, arrays: Sequence[np.ndarray]) -> None:
        for p, array in zip(self._params, arrays):
            p._data[...] = array
            p._version += 1

    def _evaluate(self, closure: Callable[[], Any]) -> float:
        with enable_grad():
            loss = closure()
        return float(loss)

    # --- the step ------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss from the closure's first call."""
        if closure is None:
            raise ArgumentError("LBFGS.step() needs a closure that clears the gradients, computes the loss, "
                            "calls backward() and returns the loss: optimizer.step(closure)")
        if len(self.param_groups) != 1:
            raise ChainruleError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._opt_called = True
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            first_loss = closure()
        loss = float(first_loss)
        evaluations = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= tolerance_grad:   # already optimal
            return first_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_g, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        iteration = 0
        while iteration < max_iter:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_stps, ro, h_diag = -g, [], [], [], 1
            else:
                d, h_diag = self._direction(state, g, prev_g, d, t, old_dirs, old_stps, ro, h_diag,  # type: ignore[arg-type]
                                            history_size)
            prev_g = g.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if state["n_iter"] == 1 else lr
            gd = g.dot(d)
            if gd > -tolerance_change:   # not a descent direction
                break

            step_evaluations = 0
            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in self._params]

                def evaluate(step_length: float, direction: np.ndarray = d,
                             start: list[np.ndarray] = start) -> tuple[float, np.ndarray]:
                    self._move(step_length, direction)
                    value = self._evaluate(closure)
                    gradient = self._flat_grad()
                    self._set(start)
                    return value, gradient

                loss, g, t, step_evaluations = _strong_wolfe(evaluate, t, d, loss, g, gd,
                                                             max_evaluations=max_eval - evaluations)
                self._move(t, d)
                optimal = np.abs(g).max() <= tolerance_grad
            else:
                self._move(t, d)
                optimal = False
                if iteration != max_iter:   # the last iteration's loss is not needed
                    loss = self._evaluate(closure)
                    g = self._flat_grad()
                    optimal = np.abs(g).max() <= tolerance_grad
                    step_evaluations = 1
            evaluations += step_evaluations
            state["func_evals"] += step_evaluations

            if iteration == max_iter or evaluations >= max_eval or optimal:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_g, prev_loss=prev_loss)
        return first_loss

    @staticmethod
    def _direction(state: dict[str, Any], g: np.ndarray, prev_g: np.ndarray, d: np.ndarray, t: float,
                   old_dirs: list[np.ndarray], old_stps: list[np.ndarray], ro: list[float], h_diag: float,
                   history_size: int) -> tuple[np.ndarray, float]:
        """The two-loop recursion: d = -H g with the curvature pairs kept so far (updated here)."""
        y = g - prev_g
        s = d * t
        ys = y.dot(s)
        if ys > 1e-10:   # keep the pair only if the curvature is positive
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            h_diag = ys / y.dot(y)
        alphas = state.setdefault("al", [None] * history_size)
        q = -g
        for i in range(len(old_dirs) - 1, -1, -1):
            alphas[i] = old_stps[i].dot(q) * ro[i]
            q = q - alphas[i] * old_dirs[i]
        r = q * h_diag
        for i in range(len(old_dirs)):
            beta = old_dirs[i].dot(r) * ro[i]
            r = r + (alphas[i] - beta) * old_stps[i]
        return r, h_diag

    # --- saving ----------------------------------------------------------------------------------
    def _restored_state(self, value: Any, param: Tensor, key: str, index: Any) -> Any:
        """L-BFGS keeps flat vectors (and lists of them) of all parameters, not per-parameter buffers."""
        if isinstance(value, list):
            return [self._restored_state(item, param, key, index) for item in value]
        if isinstance(value, Tensor):
            value = value._data
        if isinstance(value, np.ndarray):
            return np.array(value, dtype=param.dtype if value.dtype.kind == "f" else value.dtype, copy=True)
        return value.item() if isinstance(value, np.generic) else value
