"""The time loops of the recurrent layers: one primitive runs a whole sequence (one layer, one
direction); its VJP is backpropagation through time.

Before these ops, one linear node computes the input's share of the pre-activations for every
step at once (one GEMM): u_t = x_t W_ih^T + b_ih. The ops then run the recurrence, with h_{t-1}
the state before step t (h0 before the first), and a_t the pre-activations:

Elman RNN            a_t = u_t + h_{t-1} W_hh^T + b_hh        h_t = tanh(a_t)  (or relu)
                     da = dh act'(a_t): act' = 1 - h_t^2 (tanh), [h_t > 0] (relu)
LSTM (i, f, g, o)    a_t = u_t + h_{t-1} W_hh^T + b_hh = [a_i | a_f | a_g | a_o]
                     i, f, o = sigmoid(a_i, a_f, a_o),  g = tanh(a_g)
                     c_t = f c_{t-1} + i g,    m_t = o tanh(c_t),    h_t = m_t (m_t W_hr^T with proj_size)
                     backward, dh and dc being what reaches step t (from the output and from t+1):
                     dm = dh (dh W_hr),  dc += dm o (1 - tanh^2 c_t)
                     da = [dc g i(1-i) | dc c_{t-1} f(1-f) | dc i (1-g^2) | dm tanh(c_t) o(1-o)]
                     dh_{t-1} = da W_hh,   dc_{t-1} = dc f
GRU (r, z, n)        w_t = h_{t-1} W_hh^T + b_hh = [w_r | w_z | w_n]
                     r = sigmoid(u_r + w_r), z = sigmoid(u_z + w_z), n = tanh(u_n + r w_n)
                     h_t = (1 - z) n + z h_{t-1}                          (PyTorch's GRU exactly)
                     backward: dan = dh (1-z) (1-n^2),  dar = dan w_n r(1-r),
                     daz = dh (h_{t-1} - n) z(1-z)
                     du = [dar | daz | dan],  dw = [dar | daz | dan r],  dh_{t-1} = dh z + dw W_hh
Every cell       dL/du_t = da_t;  dL/dW_hh = sum_t da_t^T h_{t-1};  dL/db_hh = sum_t da_t
                 (dw_t for the GRU): one GEMM and one sum over all steps after the loop, so the
                 loop itself only carries dh (and dc) back in time.

What is saved: the output Y stacks what the VJP needs, component-major, each (T, B, hidden):
    RNN  Y = [h]      LSTM  Y = [h, c, i, f, g, o]      GRU  Y = [h, r, z, n, w_n]
so the VJP reads activations instead of recomputing them. The layer hands out views of Y[0]
(with proj_size, h fills the first proj_size columns of Y[0]). The gate components are outputs
like any other: the VJP adds their (normally zero) gradients, so it is the exact VJP of Y.

Why a sequence per node and not a step per node: a step would take its slice u_t of the (T, B, G)
projection, and a slice's VJP is a full-size (T, B, G) array that is zero but for the slice, so T
steps would cost O(T^2) in backward. Here the graph has a few nodes per layer whatever the length,
and the work is O(T) (cuDNN and oneDNN run RNNs the same way).

Packed sequences (``batch_sizes``): the batch is sorted longest first and batch_sizes[t] rows are
still running at step t; the others rest, keeping their state:
    state_t = cell(u_t, state_{t-1}) for rows < batch_sizes[t],   state_{t-1} for the rest
so a forward run ends on each sequence's own last step and a reverse run starts on it, as
PyTorch runs a PackedSequence. The gates of resting rows are stored as 0.

``reverse=True`` runs t = T-1 .. 0 (the backward direction of a bidirectional layer), keeping
the time index of u and Y.

Speed: the loops do only what must follow the time order (the (B, H) x (H, G) product that
carries the state, the activations, and a few small products); whatever does not (the factors
the backward loop multiplies by, dW_hh, db_hh) is computed for all steps at once, in big
vectorised calls. sigmoid(x) = 1 / (1 + e^-x) is computed in place, and the LSTM's
g = tanh(a_g) = 2 sigmoid(2 a_g) - 1 comes from the same call: one exp for all four gates.

The VJPs are written once, with ``xp``: on arrays for a plain backward, and on Tensors under
create_graph (second derivatives), where each step's slices are graph nodes again (fine for the
small problems second derivatives are taken of).
"""

from __future__ import annotations

from ..autograd import Primitive, apply
from ..backend import np
from ..tensor import Tensor
from .indexing import cat, pad, stack


# --- helpers shared by the three cells --------------------------------------------------------
def _steps(length: int, reverse: bool) -> range:
    """The time indices in the order the recurrence visits them."""
    return range(length - 1, -1, -1) if reverse else range(length)


def _running(batch_sizes, t: int, batch: int) -> int:
    """How many rows (sequences) step at time t; the rows after them rest."""
    return batch if batch_sizes is None else int(batch_sizes[t])


def _join(parts, axis: int):
    """np.concatenate on arrays; the differentiable cat on Tensors (create_graph)."""
    if isinstance(parts[0], Tensor):
        return cat(parts, axis)
    return np.concatenate(parts, axis=axis)


def _stack(parts):
    if isinstance(parts[0], Tensor):
        return stack(parts)
    return np.stack(parts)


def _with_zero_rows(x, rows: int):
    """x (n, k) completed with zero rows to (rows, k): resting rows get no gradient."""
    if x.shape[0] == rows:
        return x
    if isinstance(x, Tensor):
        return pad(x, (0, 0, 0, rows - x.shape[0]))
    return np.concatenate([x, np.zeros((rows - x.shape[0],) + x.shape[1:], x.dtype)])


def _then_resting(running, everyone, n: int):
    """Rows [:n] from ``running``, the others from ``everyone`` (what resting rows keep)."""
    return running if n == everyone.shape[0] else _join([running, everyone[n:]], 0)


def _previous(states, first, reverse: bool):
    """The state before each step: ``states`` shifted one step along the visiting order."""
    first = first.reshape((1,) + first.shape)
    return _join([states[1:], first], 0) if reverse else _join([first, states[:-1]], 0)


def _sigmoid_(a):
    """a <- 1 / (1 + e^-a), in place (e^-a overflows to inf for very negative a: the result is 0)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def _gates_unread(g, first: int) -> bool:
    """True when the gradient of Y's gate components (first..) is an array of zeros, as it is
    unless something reads them (gradcheck of the op does); never on Tensors (create_graph)."""
    return isinstance(g, np.ndarray) and not g[first:].any()


def _optional(extra, bias: bool, proj: bool = False):
    """(b_hh, w_hr) from the inputs after the required ones; None where absent."""
    extra = list(extra)
    b_hh = extra.pop(0) if bias else None
    w_hr = extra.pop(0) if proj else None
    return b_hh, w_hr


def _hidden_grads(da_steps, h_prev, needs_w: bool, needs_b: bool):
    """dL/dW_hh = sum over steps and rows of da^T h_{t-1}; dL/db_hh = sum of da."""
    rows = da_steps.shape[-1]
    grad_w = (da_steps.reshape(-1, rows).swapaxes(0, 1) @ h_prev.reshape(-1, h_prev.shape[-1])
              if needs_w else None)
    grad_b = da_steps.sum(axis=(0, 1)) if needs_b else None
    return grad_w, grad_b


# --- Elman RNN --------------------------------------------------------------------------------
def _rnn_forward(u, h0, w_hh, *optional, bias, relu, reverse, batch_sizes):
    (b_hh, _), (steps, batch, _) = _optional(optional, bias), u.shape
    y = np.zeros((1, steps, batch, h0.shape[-1]), u.dtype)
    h = h0
    for t in _steps(steps, reverse):
        n = _running(batch_sizes, t, batch)
        a = u[t, :n] + h[:n] @ w_hh.T
        if b_hh is not None:
            a += b_hh
        y[0, t, :n] = np.maximum(a, 0) if relu else np.tanh(a)
        y[0, t, n:] = h[n:]
        h = y[0, t]
    return y


def _rnn_vjp(xp, g, y, inputs, needs, bias, relu, reverse, batch_sizes):
    u, h0, w_hh = inputs[:3]
    steps, batch = u.shape[:2]
    hs, grad_h = y[0], g[0]
    slope = (hs > 0) if relu else 1 - hs * hs
    da_steps, dh_next = [None] * steps, h0 * 0
    for t in reversed(_steps(steps, reverse)):
        n = _running(batch_sizes, t, batch)
        dh = grad_h[t] + dh_next
        da = dh[:n] * slope[t, :n]
        da_steps[t] = _with_zero_rows(da, batch)
        dh_next = _then_resting(da @ w_hh, dh, n)
    da_steps = _stack(da_steps)
    grad_w, grad_b = _hidden_grads(da_steps, _previous(hs, h0, reverse), needs[2], bias and needs[3])
    return [da_steps, dh_next, grad_w] + ([grad_b] if bias else [])


rnn_p = Primitive("rnn", _rnn_forward, vjp_all=_rnn_vjp)


# --- LSTM -------------------------------------------------------------------------------------
def _lstm_forward(u, h0, c0, w_hh, *optional, bias, proj, reverse, batch_sizes):
    (b_hh, w_hr), (steps, batch, _) = _optional(optional, bias, proj), u.shape
    hidden, width = c0.shape[-1], h0.shape[-1]
    y = np.zeros((6, steps, batch, hidden), u.dtype)
    h, c = h0, c0
    for t in _steps(steps, reverse):
        n = _running(batch_sizes, t, batch)
        a = h[:n] @ w_hh.T
        a += u[t, :n]
        if b_hh is not None:
            a += b_hh
        a[:, 2 * hidden:3 * hidden] *= 2
        gates = _sigmoid_(a)                                 # [i | f | . | o]: one exp for all four
        i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
        g *= 2
        g -= 1                                               # tanh(x) = 2 sigmoid(2x) - 1
        c_t = f * c[:n]
        c_t += i * g
        m = np.tanh(c_t)
        m *= o
        y[0, t, :n, :width] = m if w_hr is None else m @ w_hr.T
        y[1, t, :n] = c_t
        y[2:, t, :n] = gates.reshape(n, 4, hidden).swapaxes(0, 1)
        if n < batch:
            y[0, t, n:, :width], y[1, t, n:] = h[n:], c[n:]
        h, c = y[0, t, :, :width], y[1, t]
    return y


def _lstm_vjp(xp, g, y, inputs, needs, bias, proj, reverse, batch_sizes):
    u, h0, c0, w_hh = inputs[:4]
    b_hh, w_hr = _optional(inputs[4:], bias, proj)
    width = h0.shape[-1]
    hs, cs, i, f, gg, o = y[0][..., :width], y[1], y[2], y[3], y[4], y[5]
    grad_h, grad_c = g[0][..., :width], g[1]
    steps, batch, hidden = cs.shape
    # everything the loop multiplies by, for all steps at once (big vectorised ops, not T small ones):
    # da_[i,f,g] = dc * ifg_per_dc,  da_o = dm * o_per_dm,  dc += dm * c_per_dm
    tanh_c = xp.tanh(cs)
    c_per_dm = o * (1 - tanh_c * tanh_c)
    ifg_per_dc = _join([gg * (i * (1 - i)), _previous(cs, c0, reverse) * (f * (1 - f)), i * (1 - gg * gg)],
                       -1).reshape(steps, batch, 3, hidden)
    o_per_dm = tanh_c * (o * (1 - o))
    own = None if _gates_unread(g, 2) else (   # the gate components' own gradients, times their slopes
        _join([g[2], g[3], g[4], g[5]], -1) * _join([i * (1 - i), f * (1 - f), 1 - gg * gg, o * (1 - o)], -1))
    da_steps, dh_steps = [None] * steps, [None] * steps
    dh_next, dc_next = h0 * 0, c0 * 0
    for t in reversed(_steps(steps, reverse)):
        n = _running(batch_sizes, t, batch)
        dh, dc = grad_h[t] + dh_next, grad_c[t] + dc_next
        dm = dh[:n] if w_hr is None else dh[:n] @ w_hr
        dc_run = dc[:n] + dm * c_per_dm[t, :n]
        da = _join([(ifg_per_dc[t, :n] * dc_run.reshape(n, 1, hidden)).reshape(n, 3 * hidden),
                    dm * o_per_dm[t, :n]], -1)
        if own is not None:
            da = da + own[t, :n]
        da_steps[t] = _with_zero_rows(da, batch)
        if w_hr is not None:
            dh_steps[t] = _with_zero_rows(dh[:n], batch)
        dh_next = _then_resting(da @ w_hh, dh, n)
        dc_next = _then_resting(dc_run * f[t, :n], dc, n)
    da_steps = _stack(da_steps)
    grad_w, grad_b = _hidden_grads(da_steps, _previous(hs, h0, reverse), needs[3], bias and needs[4])
    grads = [da_steps, dh_next, dc_next, grad_w] + ([grad_b] if bias else [])
    if w_hr is not None:  # dL/dW_hr = sum over steps of dh^T m,  m = o tanh(c)  (0 on resting rows)
        grads.append(_stack(dh_steps).reshape(-1, width).swapaxes(0, 1)
                     @ (o * tanh_c).reshape(-1, cs.shape[-1]) if needs[-1] else None)
    return grads


lstm_p = Primitive("lstm", _lstm_forward, vjp_all=_lstm_vjp)


# --- GRU --------------------------------------------------------------------------------------
def _gru_forward(u, h0, w_hh, *optional, bias, reverse, batch_sizes):
    (b_hh, _), (steps, batch, _) = _optional(optional, bias), u.shape
    hidden = h0.shape[-1]
    y = np.zeros((5, steps, batch, hidden), u.dtype)
    h = h0
    for t in _steps(steps, reverse):
        n = _running(batch_sizes, t, batch)
        w = h[:n] @ w_hh.T
        if b_hh is not None:
            w += b_hh
        rz = _sigmoid_(u[t, :n, :2 * hidden] + w[:, :2 * hidden])
        r, z, w_n = rz[:, :hidden], rz[:, hidden:], w[:, 2 * hidden:]
        new = r * w_n
        new += u[t, :n, 2 * hidden:]
        np.tanh(new, out=new)
        y[0, t, :n] = new + z * (h[:n] - new)
        y[1:3, t, :n] = rz.reshape(n, 2, hidden).swapaxes(0, 1)
        y[3, t, :n], y[4, t, :n] = new, w_n
        y[0, t, n:] = h[n:]
        h = y[0, t]
    return y


def _gru_vjp(xp, g, y, inputs, needs, bias, reverse, batch_sizes):
    u, h0, w_hh = inputs[:3]
    steps, batch = u.shape[:2]
    hs, r, z, new, w_n = y[0], y[1], y[2], y[3], y[4]
    hidden = hs.shape[-1]
    h_prev = _previous(hs, h0, reverse)
    # what the loop multiplies by, for all steps at once: dan = dh * n_per_dh, dar = dan * r_per_dan,
    # daz = dh * z_per_dh; the components' own gradients (normally zero) join in through `own`
    slope_n = 1 - new * new
    n_per_dh, r_per_dan = (1 - z) * slope_n, w_n * (r * (1 - r))
    z_per_dh = (h_prev - new) * (z * (1 - z))
    own = None if _gates_unread(g, 1) else [g[1] * (r * (1 - r)), g[2] * (z * (1 - z)), g[3] * slope_n, g[4]]
    dan_steps, dw_steps, dh_next = [None] * steps, [None] * steps, h0 * 0
    for t in reversed(_steps(steps, reverse)):
        n = _running(batch_sizes, t, batch)
        dh = g[0][t] + dh_next
        d = dh[:n]
        dan, daz = d * n_per_dh[t, :n], d * z_per_dh[t, :n]
        if own is not None:
            dan, daz = dan + own[2][t, :n], daz + own[1][t, :n]
        dar, dwn = dan * r_per_dan[t, :n], dan * r[t, :n]
        if own is not None:
            dar, dwn = dar + own[0][t, :n], dwn + own[3][t, :n]
        dw = _join([dar, daz, dwn], -1)
        dan_steps[t], dw_steps[t] = _with_zero_rows(dan, batch), _with_zero_rows(dw, batch)
        dh_next = _then_resting(d * z[t, :n] + dw @ w_hh, dh, n)
    dw_steps = _stack(dw_steps)
    grad_w, grad_b = _hidden_grads(dw_steps, h_prev, needs[2], bias and needs[3])
    grad_u = _join([dw_steps[..., :2 * hidden], _stack(dan_steps)], -1)   # du = [dar | daz | dan]
    return [grad_u, dh_next, grad_w] + ([grad_b] if bias else [])


gru_p = Primitive("gru", _gru_forward, vjp_all=_gru_vjp)


# --- the functions the layers call ------------------------------------------------------------
def rnn_layer(u: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None, *, nonlinearity="tanh",
              reverse=False, batch_sizes=None) -> Tensor:
    """Y (1, T, B, H) of an Elman RNN over u (T, B, H) = x W_ih^T + b_ih; Y[0] are the states."""
    inputs = (u, h0, w_hh) if b_hh is None else (u, h0, w_hh, b_hh)
    return apply(rnn_p, inputs, {"bias": b_hh is not None, "relu": nonlinearity == "relu",
                                 "reverse": reverse, "batch_sizes": batch_sizes})


def lstm_layer(u: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None,
               w_hr: Tensor | None = None, *, reverse=False, batch_sizes=None) -> Tensor:
    """Y (6, T, B, H) = [h, c, i, f, g, o] of an LSTM over u (T, B, 4H) = x W_ih^T + b_ih."""
    inputs = (u, h0, c0, w_hh) + ((b_hh,) if b_hh is not None else ()) + ((w_hr,) if w_hr is not None else ())
    return apply(lstm_p, inputs, {"bias": b_hh is not None, "proj": w_hr is not None,
                                  "reverse": reverse, "batch_sizes": batch_sizes})


def gru_layer(u: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None, *, reverse=False,
              batch_sizes=None) -> Tensor:
    """Y (5, T, B, H) = [h, r, z, n, w_n] of a GRU over u (T, B, 3H) = x W_ih^T + b_ih."""
    inputs = (u, h0, w_hh) if b_hh is None else (u, h0, w_hh, b_hh)
    return apply(gru_p, inputs, {"bias": b_hh is not None, "reverse": reverse, "batch_sizes": batch_sizes})
