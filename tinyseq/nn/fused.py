"""The fast path of the recurrent layers: one Function per layer and direction, with the whole
time loop (forward) and backpropagation through time (backward) written out.

The composed path (nn/cells.py's rnn_step, lstm_step, gru_step) is the reference: it records
about a dozen ops per time step, and the autograd engine derives the gradient. Here the same
equations run inside a single op. What costs time, and how this file keeps it down:
  - the matmuls: the input projection of all steps is one matmul before this op (nn/rnn.py), the
    recurrent weights' gradient is one matmul over all steps after the loop, and each step's
    recurrent matmul writes into a preallocated buffer (np.matmul(..., out=));
  - the gate nonlinearities: one vectorised np.tanh over all gates of a step, since
    sigmoid(x) = tanh(x / 2) / 2 + 1/2 (numpy's tanh is vectorised; a compiled scalar loop is not);
  - everything else elementwise (adding the input projection, the cell update, masking past a
    sequence's end, and the whole backward chain rule of a step) is a small Numba loop per step that
    writes into preallocated arrays: no Python allocation inside the time loop. The loops stay
    readable Python; NUMBA_DISABLE_JIT=1 runs them as such.
Under no_grad (or when no input requires a gradient) forward keeps nothing for backward.

tests/test_fused_recurrence.py checks, on random small layers under Hypothesis (float64, every
layer kind, with and without lengths=, one or two layers and directions, hx given or not, with and
without gradients), that both paths give the same outputs, final states and gradients to 1e-10.

Shapes, for one layer and direction:
    x_proj: (T, B, G*H)  the input projection x W_ih^T + b_ih of every step (G gates)
    h0, c0: (B, H)       initial states          weight_hh: (G*H, H)    bias_hh: (G*H,) or None
    active: (T, B) bool, or None when every sequence spans all T steps
Outputs: the output sequence (T, B, H) (zero past a sequence's end), then the final state(s).

Past a sequence's end (active false) the state is carried unchanged, so in backward its gradient
passes straight through that step.
"""

import numba
import numpy as np

from ..function import Function
from ..grad_mode import is_grad_enabled


def _keeps_graph(ctx):
    """Whether backward will run: only then does forward keep its intermediate arrays."""
    return is_grad_enabled() and any(ctx.needs_input_grad)


def _hidden_matmul(h, weight_hh, bias_hh):
    out = h @ weight_hh.T
    return out if bias_hh is None else out + bias_hh


def _select(active_t, new, old):
    """new where the sequence is still running at this step, else old; active_t: (B,) or None."""
    return new if active_t is None else np.where(active_t[:, None], new, old)


def _weight_gradients(grad_pre, inputs, needs_weight, needs_bias):
    """d weight = sum_t grad_pre_t^T inputs_t, d bias = sum_t grad_pre_t, as one matmul over all steps."""
    rows = grad_pre.reshape(-1, grad_pre.shape[-1])
    grad_weight = rows.T @ inputs.reshape(-1, inputs.shape[-1]) if needs_weight else None
    grad_bias = rows.sum(axis=0) if needs_bias else None
    return grad_weight, grad_bias


def _active_steps(active, seq_len):
    """Per step: None when every sequence is running (no masking needed), else the (B,) mask."""
    if active is None:
        return [None] * seq_len
    return [None if row.all() else row for row in active]


def _carry_inactive(new, old, active_t):
    """Rows of sequences that have ended keep their old value (in place, only on masked steps)."""
    if active_t is not None:
        np.copyto(new, old, where=~active_t[:, None])


class RNNSequence(Function):
    """h_t = act(x_proj_t + h_{t-1} W_hh^T + b_hh), act = tanh or relu, over all T steps."""

    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, bias_hh, active, nonlinearity):
        seq_len = x_proj.shape[0]
        steps = _active_steps(active, seq_len)
        outputs = np.zeros(x_proj.shape[:2] + (h0.shape[1],), dtype=x_proj.dtype)
        previous = np.empty_like(outputs)
        h = h0
        for t in range(seq_len):
            previous[t] = h
            pre = x_proj[t] + _hidden_matmul(h, weight_hh, bias_hh)
            new = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
            outputs[t] = _select(steps[t], new, 0)
            h = _select(steps[t], new, h)
        if _keeps_graph(ctx):
            ctx.save_for_backward(outputs, previous, weight_hh)
            ctx.steps, ctx.nonlinearity, ctx.has_bias = steps, nonlinearity, bias_hh is not None
        return outputs, h

    @staticmethod
    def backward(ctx, grad_outputs, grad_h):
        outputs, previous, weight_hh = ctx.saved_tensors
        grad_pre = np.zeros_like(outputs)
        for t in reversed(range(outputs.shape[0])):
            active_t = ctx.steps[t]
            grad_new = grad_outputs[t] + grad_h
            if ctx.nonlinearity == "tanh":
                grad_pre[t] = grad_new * (1 - outputs[t] * outputs[t])
            else:
                grad_pre[t] = grad_new * (outputs[t] > 0)
            if active_t is not None:
                grad_pre[t] *= active_t[:, None]
            grad_h = _select(active_t, grad_pre[t] @ weight_hh, grad_h)
        grad_weight, grad_bias = _weight_gradients(grad_pre, previous, ctx.needs_input_grad[2], ctx.has_bias)
        return grad_pre, grad_h, grad_weight, grad_bias, None, None


# ---------------------------------------------------------------------------------------------
# LSTM. Gate columns i, f, g, o, each H wide; the forward keeps the gates after their
# nonlinearities, the cell states and tanh(C_t) for backward.
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _lstm_gate_inputs(gate, x_proj, bias, hidden):
    """gate <- (h_{t-1} W_hh^T + x_proj_t + b_hh) * scale, where gate holds the matmul on entry and the
    scale is 1/2 for i, f, o (so that one tanh gives sigmoid(a) = tanh(a / 2) / 2 + 1/2) and 1 for g."""
    batch, width = gate.shape
    for b in range(batch):
        for j in range(width):
            value = gate[b, j] + x_proj[b, j] + bias[j]
            gate[b, j] = value if 2 * hidden <= j < 3 * hidden else 0.5 * value


@numba.njit(cache=True)
def _lstm_cell_update(gate, c_prev, cell):
    """gate holds tanh of the scaled pre-activations; turn i, f, o into sigmoids in place and compute
    the new cell state C_t = f C_{t-1} + i C~_t into cell (B, H)."""
    batch, hidden = c_prev.shape
    for b in range(batch):
        for j in range(hidden):
            input_gate = 0.5 * gate[b, j] + 0.5
            forget_gate = 0.5 * gate[b, hidden + j] + 0.5
            gate[b, j], gate[b, hidden + j] = input_gate, forget_gate
            gate[b, 3 * hidden + j] = 0.5 * gate[b, 3 * hidden + j] + 0.5
            cell[b, j] = forget_gate * c_prev[b, j] + input_gate * gate[b, 2 * hidden + j]


@numba.njit(cache=True)
def _lstm_hidden_update(gate, tanh_c, cell, h_prev, c_prev, active, output, h_next, c_next):
    """h_t = o tanh(C_t) for running sequences (output and carried state); past a sequence's end the
    output is zero and both states are carried over."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        for j in range(hidden):
            if active[b]:
                h = gate[b, 3 * hidden + j] * tanh_c[b, j]
                output[b, j], h_next[b, j], c_next[b, j] = h, h, cell[b, j]
            else:
                output[b, j], h_next[b, j], c_next[b, j] = 0.0, h_prev[b, j], c_prev[b, j]


@numba.njit(cache=True)
def _lstm_cell_backward(grad_output, grad_h, grad_c, gate, c_prev, tanh_c, active, grad_pre, grad_c_prev):
    """The chain rule through one step's elementwise part: from d h_t (output and carried) and
    d C_t to the gates' pre-activations (B, 4H) and to C_{t-1} (B, H)."""
    batch, hidden = grad_h.shape
    for b in range(batch):
        for j in range(hidden):
            if not active[b]:
                grad_c_prev[b, j] = grad_c[b, j]  # the state passed through unchanged
                for gate_index in range(4):
                    grad_pre[b, gate_index * hidden + j] = 0.0
                continue
            input_gate, forget_gate = gate[b, j], gate[b, hidden + j]
            candidate, output_gate = gate[b, 2 * hidden + j], gate[b, 3 * hidden + j]
            grad_hidden = grad_output[b, j] + grad_h[b, j]
            grad_cell = grad_c[b, j] + grad_hidden * output_gate * (1 - tanh_c[b, j] * tanh_c[b, j])
            grad_pre[b, j] = grad_cell * candidate * input_gate * (1 - input_gate)
            grad_pre[b, hidden + j] = grad_cell * c_prev[b, j] * forget_gate * (1 - forget_gate)
            grad_pre[b, 2 * hidden + j] = grad_cell * input_gate * (1 - candidate * candidate)
            grad_pre[b, 3 * hidden + j] = grad_hidden * tanh_c[b, j] * output_gate * (1 - output_gate)
            grad_c_prev[b, j] = grad_cell * forget_gate


class LSTMSequence(Function):
    """The LSTM recurrence (equations in cells.lstm_step) over all T steps.

    Forward, per step: the recurrent matmul into the step's gate buffer, one compiled loop adding the
    input projection, one np.tanh over all four gates, a compiled cell update, np.tanh(C_t), and a
    compiled output update. Backward, per step: one compiled loop for the elementwise chain rule
    (_lstm_cell_backward), then one matmul into a buffer."""

    @staticmethod
    def forward(ctx, x_proj, h0, c0, weight_hh, bias_hh, active):
        seq_len, batch, hidden = x_proj.shape[0], h0.shape[0], h0.shape[1]
        dtype, keep = x_proj.dtype, _keeps_graph(ctx)
        bias = np.zeros(4 * hidden, dtype) if bias_hh is None else bias_hh
        weight_hh_t = np.ascontiguousarray(weight_hh.T)
        mask = np.ones((seq_len, batch), dtype=bool) if active is None else np.ascontiguousarray(active)
        outputs = np.empty(x_proj.shape[:2] + (hidden,), dtype=dtype)
        # Without backward, one step's gates and tanh(C) are all that is ever needed at a time.
        gates = np.empty((seq_len if keep else 1, batch, 4 * hidden), dtype)  # after their nonlinearities
        tanh_c = np.empty((seq_len if keep else 1, batch, hidden), dtype)
        h_all, c_all = (np.empty((seq_len + 1, batch, hidden), dtype) for _ in range(2))
        h_all[0], c_all[0] = h0, c0  # h_all[t], c_all[t]: the state before step t
        cell = np.empty((batch, hidden), dtype)
        for t in range(seq_len):
            gate, tanh_c_t = gates[t if keep else 0], tanh_c[t if keep else 0]
            np.matmul(h_all[t], weight_hh_t, out=gate)
            _lstm_gate_inputs(gate, x_proj[t], bias, hidden)
            np.tanh(gate, out=gate)
            _lstm_cell_update(gate, c_all[t], cell)  # C_t = f C_{t-1} + i C~_t
            np.tanh(cell, out=tanh_c_t)
            _lstm_hidden_update(gate, tanh_c_t, cell, h_all[t], c_all[t], mask[t], outputs[t], h_all[t + 1],
                                c_all[t + 1])  # h_t = o tanh(C_t)
        if keep:
            ctx.save_for_backward(gates, h_all, c_all, tanh_c, weight_hh)
            ctx.active, ctx.steps, ctx.has_bias = mask, _active_steps(active, seq_len), bias_hh is not None
        return outputs, h_all[-1].copy(), c_all[-1].copy()

    @staticmethod
    def backward(ctx, grad_outputs, grad_h, grad_c):
        gates, h_all, c_all, tanh_c, weight_hh = ctx.saved_tensors
        grad_pre = np.empty_like(gates)  # every entry written by _lstm_cell_backward
        grad_outputs = np.ascontiguousarray(grad_outputs)
        # Two buffers each for d h and d C, swapped every step: step t reads one and writes the other.
        grad_h_buffers = [np.array(grad_h, order="C"), np.empty_like(h_all[0])]
        grad_c_buffers = [np.array(grad_c, order="C"), np.empty_like(c_all[0])]
        for step, t in enumerate(reversed(range(gates.shape[0]))):
            grad_h, grad_h_prev = grad_h_buffers[step % 2], grad_h_buffers[1 - step % 2]
            grad_c, grad_c_prev = grad_c_buffers[step % 2], grad_c_buffers[1 - step % 2]
            _lstm_cell_backward(grad_outputs[t], grad_h, grad_c, gates[t], c_all[t], tanh_c[t], ctx.active[t],
                                grad_pre[t], grad_c_prev)
            np.matmul(grad_pre[t], weight_hh, out=grad_h_prev)
            _carry_inactive(grad_h_prev, grad_h, ctx.steps[t])
        grad_h, grad_c = grad_h_buffers[gates.shape[0] % 2], grad_c_buffers[gates.shape[0] % 2]
        grad_weight, grad_bias = _weight_gradients(grad_pre, h_all[:-1], ctx.needs_input_grad[3], ctx.has_bias)
        return grad_pre, grad_h, grad_c, grad_weight, grad_bias, None


# ---------------------------------------------------------------------------------------------
# GRU. Gate columns r, z, n, each H wide. hidden_n is what the n gate takes from h_{t-1}:
# W_hn h_{t-1} + b_hn with reset_after, r_t * h_{t-1} without.
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _gru_reset_update_inputs(gate, recurrent, x_proj, bias, hidden):
    """gate[:, :2H] <- (x_proj + h W_hh^T + b_hh) / 2 for r and z, so that one tanh gives the sigmoids."""
    batch = gate.shape[0]
    for b in range(batch):
        for j in range(2 * hidden):
            gate[b, j] = 0.5 * (recurrent[b, j] + x_proj[b, j] + bias[j])


@numba.njit(cache=True)
def _gru_candidate_inputs(gate, recurrent, x_proj, h_prev, bias, reset_after, hidden_n):
    """Turn r, z into sigmoids in place; then, with reset_after, hidden_n = W_hn h + b_hn (from the
    matmul in `recurrent`) and gate n <- x_n + r * hidden_n; without, hidden_n = r * h (the n gate's
    matmul comes after this loop)."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        for j in range(hidden):
            reset = 0.5 * gate[b, j] + 0.5
            gate[b, j] = reset
            gate[b, hidden + j] = 0.5 * gate[b, hidden + j] + 0.5
            if reset_after:
                hidden_n[b, j] = recurrent[b, 2 * hidden + j] + bias[2 * hidden + j]
                gate[b, 2 * hidden + j] = x_proj[b, 2 * hidden + j] + reset * hidden_n[b, j]
            else:
                hidden_n[b, j] = reset * h_prev[b, j]


@numba.njit(cache=True)
def _gru_candidate_inputs_reset_before(gate, recurrent_n, x_proj, bias, hidden):
    """gate n <- x_n + W_hn (r * h) + b_hn, the matmul already in recurrent_n (B, H)."""
    batch = gate.shape[0]
    for b in range(batch):
        for j in range(hidden):
            gate[b, 2 * hidden + j] = x_proj[b, 2 * hidden + j] + recurrent_n[b, j] + bias[2 * hidden + j]


@numba.njit(cache=True)
def _gru_hidden_update(gate, h_prev, active, output, h_next):
    """h_t = n + z (h_{t-1} - n) = z h_{t-1} + (1 - z) n for running sequences; past a sequence's end
    the output is zero and the state is carried over."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        for j in range(hidden):
            if active[b]:
                n = gate[b, 2 * hidden + j]
                h = n + gate[b, hidden + j] * (h_prev[b, j] - n)
                output[b, j], h_next[b, j] = h, h
            else:
                output[b, j], h_next[b, j] = 0.0, h_prev[b, j]


@numba.njit(cache=True)
def _gru_cell_backward(grad_output, grad_h, gate, h_prev, hidden_n, active, reset_after, grad_x, grad_recurrent,
                       grad_h_prev):
    """The chain rule through one step's elementwise part. Writes d x_proj_t (B, 3H), d (the
    recurrent matmul's output) (B, 3H) and the part of d h_{t-1} that does not go through a matmul.
    Without reset_after, d r needs d (r * h), which needs a matmul: that part is left to
    _gru_reset_backward."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        for j in range(hidden):
            if not active[b]:
                grad_h_prev[b, j] = grad_h[b, j]  # the state passed through unchanged
                for gate_index in range(3):
                    grad_x[b, gate_index * hidden + j] = 0.0
                    grad_recurrent[b, gate_index * hidden + j] = 0.0
                continue
            reset, update, candidate = gate[b, j], gate[b, hidden + j], gate[b, 2 * hidden + j]
            grad_new = grad_output[b, j] + grad_h[b, j]
            grad_n = grad_new * (1 - update) * (1 - candidate * candidate)
            grad_z = grad_new * (h_prev[b, j] - candidate) * update * (1 - update)
            grad_x[b, hidden + j], grad_x[b, 2 * hidden + j] = grad_z, grad_n
            grad_recurrent[b, hidden + j] = grad_z
            grad_h_prev[b, j] = grad_new * update
            if reset_after:
                grad_r = grad_n * hidden_n[b, j] * reset * (1 - reset)
                grad_x[b, j], grad_recurrent[b, j] = grad_r, grad_r
                grad_recurrent[b, 2 * hidden + j] = grad_n * reset
            else:
                grad_recurrent[b, 2 * hidden + j] = grad_n


@numba.njit(cache=True)
def _gru_reset_backward(grad_reset_h, gate, h_prev, active, grad_x, grad_recurrent, grad_h_prev):
    """reset_after=False: from d (r * h) (B, H) to d r's pre-activation and the direct part of d h."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        if not active[b]:
            continue
        for j in range(hidden):
            reset = gate[b, j]
            grad_r = grad_reset_h[b, j] * h_prev[b, j] * reset * (1 - reset)
            grad_x[b, j], grad_recurrent[b, j] = grad_r, grad_r
            grad_h_prev[b, j] += grad_reset_h[b, j] * reset


class GRUSequence(Function):
    """The GRU recurrence (both variants, equations in cells.gru_step) over all T steps.

    Forward, per step: the recurrent matmul into a buffer, compiled loops for the gates' inputs, one
    np.tanh for r and z together and one for n, a compiled output update (reset_after=False adds
    the n gate's own matmul of r * h). Backward, per step: one compiled loop for the elementwise
    chain rule, one matmul into a buffer (reset_after=False: two, and a second small loop)."""

    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, bias_hh, active, reset_after):
        seq_len, batch, hidden = x_proj.shape[0], h0.shape[0], h0.shape[1]
        dtype, keep = x_proj.dtype, _keeps_graph(ctx)
        bias = np.zeros(3 * hidden, dtype) if bias_hh is None else bias_hh
        weight_rz_t = np.ascontiguousarray(weight_hh[: 2 * hidden].T)
        weight_n_t = np.ascontiguousarray(weight_hh[2 * hidden:].T)
        weight_hh_t = np.ascontiguousarray(weight_hh.T)
        mask = np.ones((seq_len, batch), dtype=bool) if active is None else np.ascontiguousarray(active)
        outputs = np.empty(x_proj.shape[:2] + (hidden,), dtype=dtype)
        gates = np.empty((seq_len if keep else 1, batch, 3 * hidden), dtype)  # r, z, n after their nonlinearities
        hidden_n = np.empty((seq_len if keep else 1, batch, hidden), dtype)
        h_all = np.empty((seq_len + 1, batch, hidden), dtype)
        h_all[0] = h0
        recurrent = np.empty((batch, 3 * hidden if reset_after else 2 * hidden), dtype)
        recurrent_n = np.empty((batch, hidden), dtype)
        for t in range(seq_len):
            gate, hidden_n_t = gates[t if keep else 0], hidden_n[t if keep else 0]
            np.matmul(h_all[t], weight_hh_t if reset_after else weight_rz_t, out=recurrent)
            _gru_reset_update_inputs(gate, recurrent, x_proj[t], bias, hidden)
            np.tanh(gate[:, : 2 * hidden], out=gate[:, : 2 * hidden])
            _gru_candidate_inputs(gate, recurrent, x_proj[t], h_all[t], bias, reset_after, hidden_n_t)
            if not reset_after:
                np.matmul(hidden_n_t, weight_n_t, out=recurrent_n)
                _gru_candidate_inputs_reset_before(gate, recurrent_n, x_proj[t], bias, hidden)
            np.tanh(gate[:, 2 * hidden:], out=gate[:, 2 * hidden:])
            _gru_hidden_update(gate, h_all[t], mask[t], outputs[t], h_all[t + 1])
        if keep:
            ctx.save_for_backward(gates, h_all, hidden_n, weight_hh)
            ctx.active, ctx.steps = mask, _active_steps(active, seq_len)
            ctx.reset_after, ctx.has_bias = reset_after, bias_hh is not None
        return outputs, h_all[-1].copy()

    @staticmethod
    def backward(ctx, grad_outputs, grad_h):
        gates, h_all, hidden_n, weight_hh = ctx.saved_tensors
        seq_len, batch, hidden = h_all.shape[0] - 1, h_all.shape[1], h_all.shape[2]
        weight_rz, weight_n = weight_hh[: 2 * hidden], np.ascontiguousarray(weight_hh[2 * hidden:])
        grad_outputs = np.ascontiguousarray(grad_outputs)
        # Every entry of these two is written, by _gru_cell_backward (and _gru_reset_backward for r).
        grad_x = np.empty_like(gates)  # d loss / d x_proj
        grad_recurrent = np.empty_like(gates)  # d loss / d (the W_hh matmul's output), per gate
        grad_h_buffers = [np.array(grad_h, order="C"), np.empty_like(h_all[0])]
        matmul_part, grad_reset_h = np.empty_like(h_all[0]), np.empty_like(h_all[0])
        for step, t in enumerate(reversed(range(seq_len))):
            grad_h, grad_h_prev = grad_h_buffers[step % 2], grad_h_buffers[1 - step % 2]
            _gru_cell_backward(grad_outputs[t], grad_h, gates[t], h_all[t], hidden_n[t], ctx.active[t],
                               ctx.reset_after, grad_x[t], grad_recurrent[t], grad_h_prev)
            if ctx.reset_after:
                np.matmul(grad_recurrent[t], weight_hh, out=matmul_part)
            else:
                np.matmul(grad_recurrent[t, :, 2 * hidden:], weight_n, out=grad_reset_h)  # d (r * h)
                _gru_reset_backward(grad_reset_h, gates[t], h_all[t], ctx.active[t], grad_x[t], grad_recurrent[t],
                                    grad_h_prev)
                np.matmul(grad_recurrent[t, :, : 2 * hidden], weight_rz, out=matmul_part)
            grad_h_prev += matmul_part  # zero rows for sequences that have ended: their d pre is zero
        grad_h = grad_h_buffers[seq_len % 2]
        grad_weight = grad_bias = None
        if ctx.needs_input_grad[2] or ctx.has_bias:
            if ctx.reset_after:  # every gate's rows multiply h_{t-1}
                grad_weight, grad_bias = _weight_gradients(grad_recurrent, h_all[:-1], True, True)
            else:  # the r and z rows multiply h_{t-1}, the n rows r * h_{t-1}
                grad_rz_w, grad_rz_b = _weight_gradients(grad_recurrent[..., : 2 * hidden], h_all[:-1], True, True)
                grad_n_w, grad_n_b = _weight_gradients(grad_recurrent[..., 2 * hidden:], hidden_n, True, True)
                grad_weight = np.concatenate([grad_rz_w, grad_n_w], axis=0)
                grad_bias = np.concatenate([grad_rz_b, grad_n_b])
            grad_bias = grad_bias if ctx.has_bias else None
        return grad_x, grad_h, grad_weight, grad_bias, None, None
