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

Forward mode (the JVPs): the tangent of a recurrence is a recurrence of tangents, run forward
beside the saved states. With d the tangent of each input (du, dh0, dc0, dW_hh, db_hh, dW_hr; an
absent one is zero) and the gate values read from Y:
RNN     da_t = du_t + dh_{t-1} W_hh^T + h_{t-1} dW_hh^T + db_hh,      dh_t = act'(a_t) da_t
LSTM    da_t as for the RNN,  [di | df | dg | do] = [i(1-i) | f(1-f) | 1-g^2 | o(1-o)] * da_t
        dc_t = df c_{t-1} + f dc_{t-1} + di g + i dg
        dm_t = do tanh(c_t) + o (1 - tanh^2 c_t) dc_t
        dh_t = dm_t   (dm_t W_hr^T + m_t dW_hr^T with proj_size)
GRU     dw_t = dh_{t-1} W_hh^T + h_{t-1} dW_hh^T + db_hh = [dw_r | dw_z | dw_n]
        dr = r(1-r) (du_r + dw_r),   dz = z(1-z) (du_z + dw_z),   dn = (1-n^2) (du_n + dr w_n + r dw_n)
        dh_t = (1-z) dn + dz (h_{t-1} - n) + z dh_{t-1}
dY stacks the same components as Y (resting rows: the state's tangent carried, gates' 0). The
shares that do not follow the time order (du + h_{t-1} dW_hh^T for every step, the slopes) are
computed for all steps at once; the loop carries dh (and dc) forward. The helpers the cells
share (visiting order, packed rows, joins on arrays or Tensors) are in ``recurrent_steps.py``.

The VJPs and JVPs are written once, with ``xp``: on arrays for a plain backward, and on Tensors
under create_graph (second derivatives) or nested transforms, where each step's slices are graph
nodes again (fine for the small problems second derivatives are taken of).
"""

from __future__ import annotations

from ..backend import np
from ..primitive import Primitive, apply
from ..tensor import Tensor
from .recurrent_steps import (
    _carried,
    _gates_unread,
    _hidden_grads,
    _input_shares,
    _join,
    _optional,
    _previous,
    _running,
    _sigmoid_,
    _stack,
    _steps,
    _then_resting,
    _with_zero_rows,
    _zero_columns_to,
)


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


def _rnn_jvp(xp, tangents, y, u, h0, w_hh, *optional, bias, relu, reverse, batch_sizes):
    du, dh0, dw_hh = tangents[:3]
    db_hh = tangents[3] if bias else None
    steps, batch = u.shape[:2]
    hs = y[0]
    slope = (hs > 0) if relu else 1 - hs * hs
    shares = _input_shares(du, _previous(hs, h0, reverse), dw_hh)
    dh = h0 * 0 if dh0 is None else dh0
    d_states = [None] * steps
    for t in _steps(steps, reverse):
        n = _running(batch_sizes, t, batch)
        da = _carried(dh, w_hh, shares, db_hh, t, n)
        dh = d_states[t] = _then_resting(da * slope[t, :n], dh, n)
    return _stack(d_states).reshape((1,) + tuple(y.shape[1:]))


rnn_p = Primitive("rnn", _rnn_forward, vjp_all=_rnn_vjp, jvp=_rnn_jvp)


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


def _lstm_jvp(xp, tangents, y, u, h0, c0, w_hh, *optional, bias, proj, reverse, batch_sizes):
    du, dh0, dc0, dw_hh = tangents[:4]
    (_, w_hr), (db_hh, dw_hr) = _optional(optional, bias, proj), _optional(tangents[4:], bias, proj)
    width = h0.shape[-1]
    hs, cs, i, f, gg, o = y[0][..., :width], y[1], y[2], y[3], y[4], y[5]
    steps, batch, hidden = cs.shape
    # for all steps at once: the gates' slopes (d gate / d a), tanh(c), c_{t-1}, and the shares of
    # the tangents that do not wait for the previous step (du + h_{t-1} dW_hh^T, m dW_hr^T)
    slopes = _join([i * (1 - i), f * (1 - f), 1 - gg * gg, o * (1 - o)], -1)
    tanh_c = xp.tanh(cs)
    c_prev = _previous(cs, c0, reverse)
    shares = _input_shares(du, _previous(hs, h0, reverse), dw_hh)
    projected = None if dw_hr is None else (o * tanh_c) @ dw_hr.T
    dh = h0 * 0 if dh0 is None else dh0
    dc = c0 * 0 if dc0 is None else dc0
    d_h, d_c, d_gates = [None] * steps, [None] * steps, [None] * steps
    for t in _steps(steps, reverse):
        n = _running(batch_sizes, t, batch)
        gates = _carried(dh, w_hh, shares, db_hh, t, n) * slopes[t, :n]     # [di | df | dg | do]
        di, df, dg, do = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
        dc_run = df * c_prev[t, :n] + f[t, :n] * dc[:n] + di * gg[t, :n] + i[t, :n] * dg
        dm = do * tanh_c[t, :n] + o[t, :n] * (1 - tanh_c[t, :n] * tanh_c[t, :n]) * dc_run
        dh_run = dm if w_hr is None else dm @ w_hr.T
        if projected is not None:
            dh_run = dh_run + projected[t, :n]
        dh, dc = d_h[t], d_c[t] = _then_resting(dh_run, dh, n), _then_resting(dc_run, dc, n)
        d_gates[t] = _with_zero_rows(gates, batch)
    d_gates = _stack(d_gates).reshape(steps, batch, 4, hidden)
    components = [_zero_columns_to(_stack(d_h), hidden), _stack(d_c)] + [d_gates[:, :, k] for k in range(4)]
    return _stack(components)


lstm_p = Primitive("lstm", _lstm_forward, vjp_all=_lstm_vjp, jvp=_lstm_jvp)


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


def _gru_jvp(xp, tangents, y, u, h0, w_hh, *optional, bias, reverse, batch_sizes):
    du, dh0, dw_hh = tangents[:3]
    db_hh = tangents[3] if bias else None
    steps, batch = u.shape[:2]
    hs, r, z, new, w_n = y[0], y[1], y[2], y[3], y[4]
    hidden = hs.shape[-1]
    h_prev = _previous(hs, h0, reverse)
    # for all steps at once: the slopes, and the share h_{t-1} dW_hh^T of dw (du joins per gate)
    r_slope, z_slope, n_slope, z_lever = r * (1 - r), z * (1 - z), 1 - new * new, h_prev - new
    shares = _input_shares(None, h_prev, dw_hh)
    dh = h0 * 0 if dh0 is None else dh0
    d_parts = [[None] * steps for _ in range(5)]                  # dh, dr, dz, dn, dw_n per step
    for t in _steps(steps, reverse):
        n = _running(batch_sizes, t, batch)
        dw = _carried(dh, w_hh, shares, db_hh, t, n)
        dw_r, dw_z, dw_n = dw[:, :hidden], dw[:, hidden:2 * hidden], dw[:, 2 * hidden:]
        if du is not None:
            du_r, du_z, du_n = (du[t, :n, k * hidden:(k + 1) * hidden] for k in range(3))
            dw_r, dw_z = dw_r + du_r, dw_z + du_z
        dr, dz = r_slope[t, :n] * dw_r, z_slope[t, :n] * dw_z
        dn_pre = dr * w_n[t, :n] + r[t, :n] * dw_n
        dn = n_slope[t, :n] * (dn_pre if du is None else dn_pre + du_n)
        dh_run = (1 - z[t, :n]) * dn + dz * z_lever[t, :n] + z[t, :n] * dh[:n]
        dh = d_parts[0][t] = _then_resting(dh_run, dh, n)
        for part, value in zip(d_parts[1:], (dr, dz, dn, dw_n)):
            part[t] = _with_zero_rows(value, batch)
    return _stack([_stack(part) for part in d_parts])


gru_p = Primitive("gru", _gru_forward, vjp_all=_gru_vjp, jvp=_gru_jvp)


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
