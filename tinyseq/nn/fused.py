"""The fast path of the recurrent layers: one Function per layer and direction, with the whole
time loop (forward) and backpropagation through time (backward) written out.

The composed path (nn/cells.py's rnn_step, lstm_step, gru_step) is the reference: it records
about a dozen ops per time step, and the autograd engine derives the gradient. Here the same
equations run inside a single op. What costs time, and how this file keeps it down:
  - the matmuls: the input projection of all steps is one matmul before this op (nn/rnn.py), the
    recurrent weights' gradient is one matmul over all steps after the loop, and each step's
    recurrent matmul writes into a preallocated buffer (np.matmul(..., out=));
  - everything elementwise (the gate nonlinearities, adding the input projection, the cell update,
    masking past a sequence's end, and the whole backward chain rule of a step) is one or two Numba
    loops per step that write into preallocated arrays: no Python allocation inside the time loop.
    The loops are written so that the compiler vectorises them (see the note above _gate_activations),
    and their tanh and sigmoid come from nn/fast_tanh.py, which vectorises in float32 (numpy's
    float32 tanh does not on AVX2 machines: it cost more than the recurrent matmul). The loops stay
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
from .fast_tanh import ONE, sigmoid, tanh

ZERO = np.float32(0.0)  # float32 constants (ONE too) keep float32 arithmetic float32


def _keeps_graph(ctx):
    """Whether backward will run: only then does forward keep its intermediate arrays."""
    return is_grad_enabled() and any(ctx.needs_input_grad)


def _weight_gradients(grad_pre, inputs, needs_weight, needs_bias):
    """d weight = sum_t grad_pre_t^T inputs_t, d bias = sum_t grad_pre_t, as one matmul over all steps."""
    rows = grad_pre.reshape(-1, grad_pre.shape[-1])
    grad_weight = rows.T @ inputs.reshape(-1, inputs.shape[-1]) if needs_weight else None
    grad_bias = rows.sum(axis=0) if needs_bias else None
    return grad_weight, grad_bias


def _carry_inactive(new, old, active_t):
    """Rows of sequences that have ended at this step keep their old value (in place; nothing to do
    on a step where every sequence is still running). active_t: (B,) bool."""
    if not active_t.all():
        np.copyto(new, old, where=~active_t[:, None])


@numba.njit(cache=True, error_model="numpy")
def _rnn_step(recurrent, x_proj, bias, h_prev, active, relu, output, h_next):
    """h_t = act(x_proj + h_{t-1} W_hh^T + b_hh) (recurrent holds the matmul), act = relu or tanh;
    past a sequence's end the output is zero and the state is carried over. relu keeps NaN (as
    np.maximum does): NaN < 0 is false."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        running = active[b]
        if relu:
            for j in range(hidden):
                pre = recurrent[b, j] + x_proj[b, j] + bias[j]
                h = ZERO if pre < ZERO else pre
                output[b, j] = h if running else ZERO
                h_next[b, j] = h if running else h_prev[b, j]
        else:
            for j in range(hidden):
                h = tanh(recurrent[b, j] + x_proj[b, j] + bias[j])
                output[b, j] = h if running else ZERO
                h_next[b, j] = h if running else h_prev[b, j]


@numba.njit(cache=True)
def _rnn_step_backward(grad_output, grad_h, output, active, relu, grad_pre):
    """d pre_t = (d output_t + d h_t) act'(pre_t), with tanh' = 1 - h^2 and relu' = [h > 0]; zero
    past a sequence's end."""
    batch, hidden = grad_h.shape
    for b in range(batch):
        running = active[b]
        for j in range(hidden):
            h = output[b, j]
            slope = (ONE if h > ZERO else ZERO) if relu else ONE - h * h
            grad_pre[b, j] = (grad_output[b, j] + grad_h[b, j]) * slope if running else ZERO


class RNNSequence(Function):
    """h_t = act(x_proj_t + h_{t-1} W_hh^T + b_hh), act = tanh or relu, over all T steps. Per step:
    the recurrent matmul into a buffer and one compiled loop (_rnn_step); backward, one compiled
    loop and one matmul."""

    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, bias_hh, active, nonlinearity):
        seq_len, batch, hidden = x_proj.shape[0], h0.shape[0], h0.shape[1]
        dtype, relu = x_proj.dtype, nonlinearity == "relu"
        bias = np.zeros(hidden, dtype) if bias_hh is None else bias_hh
        weight_hh_t = np.ascontiguousarray(weight_hh.T)
        mask = np.ones((seq_len, batch), dtype=bool) if active is None else np.ascontiguousarray(active)
        outputs = np.empty((seq_len, batch, hidden), dtype)
        h_all = np.empty((seq_len + 1, batch, hidden), dtype)  # h_all[t]: the state before step t
        h_all[0] = h0
        recurrent = np.empty((batch, hidden), dtype)
        for t in range(seq_len):
            np.matmul(h_all[t], weight_hh_t, out=recurrent)
            _rnn_step(recurrent, x_proj[t], bias, h_all[t], mask[t], relu, outputs[t], h_all[t + 1])
        if _keeps_graph(ctx):
            ctx.save_for_backward(outputs, h_all, weight_hh)
            ctx.active, ctx.relu = mask, relu
            ctx.has_bias = bias_hh is not None
        return outputs, h_all[-1].copy()

    @staticmethod
    def backward(ctx, grad_outputs, grad_h):
        outputs, h_all, weight_hh = ctx.saved_tensors
        grad_pre = np.empty_like(outputs)  # every entry written by _rnn_step_backward
        grad_outputs = np.ascontiguousarray(grad_outputs)
        grad_h_buffers = [np.array(grad_h, order="C"), np.empty_like(h_all[0])]
        for step, t in enumerate(reversed(range(outputs.shape[0]))):
            grad_h, grad_h_prev = grad_h_buffers[step % 2], grad_h_buffers[1 - step % 2]
            _rnn_step_backward(grad_outputs[t], grad_h, outputs[t], ctx.active[t], ctx.relu, grad_pre[t])
            np.matmul(grad_pre[t], weight_hh, out=grad_h_prev)
            _carry_inactive(grad_h_prev, grad_h, ctx.active[t])
        grad_h = grad_h_buffers[outputs.shape[0] % 2]
        grad_weight, grad_bias = _weight_gradients(grad_pre, h_all[:-1], ctx.needs_input_grad[2], ctx.has_bias)
        return grad_pre, grad_h, grad_weight, grad_bias, None, None


# ---------------------------------------------------------------------------------------------
# LSTM. Gate columns i, f, g, o, each H wide; the forward keeps the gates after their
# nonlinearities, the cell states and tanh(C_t) for backward.
# ---------------------------------------------------------------------------------------------


# Each compiled loop below reads and writes whole rows with one store per array and iteration, so
# that LLVM vectorises it (8 float32 at a time with AVX2): a loop that stores into one array at two
# column offsets (gate[b, j] and gate[b, H + j]) is left scalar, because the compiler cannot prove the
# offset H is wider than a vector. error_model="numpy" drops the division-by-zero check of Python
# semantics, which would also keep the tanh's division scalar.


def gate_scales(hidden, dtype):
    """The a of _gate_activations for the LSTM's gate columns i, f, C~, o: 1/2 (sigmoid) but 1 (tanh)
    for C~. Shape (4H,)."""
    scale = np.full(4 * hidden, 0.5, dtype=dtype)
    scale[2 * hidden : 3 * hidden] = 1.0
    return scale


@numba.njit(cache=True, error_model="numpy")
def _gate_activations(recurrent, x_proj, bias, scale, gate):
    """gate = a tanh(a x) + (1 - a) with x = recurrent + x_proj + bias, all (B, G*H) but bias and the
    per-column a (G*H,): a = 1/2 gives sigmoid(x) (= tanh(x/2)/2 + 1/2, how sigmoid is computed
    anyway), a = 1 gives tanh(x), exactly (the products by 1/2 and 1 and the + 1/2 and + 0 round
    nothing away). One plain loop over every column: three loops, sigmoid | tanh | sigmoid, cost 1.5
    to 1.9 times as much at H = 128, because each short loop pays its own vector set-up."""
    batch, width = gate.shape
    for b in range(batch):
        for k in range(width):
            a = scale[k]
            gate[b, k] = a * tanh(a * (recurrent[b, k] + x_proj[b, k] + bias[k])) + (ONE - a)


@numba.njit(cache=True, error_model="numpy")
def _lstm_cell(gate, c_prev, h_prev, active, tanh_c, output, h_next, c_next):
    """C_t = f C_{t-1} + i C~,  h_t = o tanh(C_t)  from the gates (B, 4H); writes tanh(C_t) (kept for
    backward), the output and both states (B, H). Past a sequence's end (active false) the output is
    zero and both states are carried over."""
    batch, hidden = c_prev.shape
    for b in range(batch):
        running = active[b]
        for j in range(hidden):
            i, f = gate[b, j], gate[b, hidden + j]
            candidate, o = gate[b, 2 * hidden + j], gate[b, 3 * hidden + j]
            c = f * c_prev[b, j] + i * candidate
            tanh_c[b, j] = tanh(c)
            h = o * tanh_c[b, j]
            output[b, j] = h if running else ZERO
            h_next[b, j] = h if running else h_prev[b, j]
            c_next[b, j] = c if running else c_prev[b, j]


@numba.njit(cache=True, error_model="numpy")
def _lstm_step(recurrent, x_proj, bias, scale, c_prev, h_prev, active, gate, tanh_c, output, h_next, c_next):
    """The elementwise part of one LSTM step, from recurrent = h_{t-1} W_hh^T (B, 4H): the gates
    i, f, o = sigmoid(.), C~ = tanh(.) of x_proj + recurrent + b_hh into gate (scale: gate_scales),
    then the cell."""
    _gate_activations(recurrent, x_proj, bias, scale, gate)
    _lstm_cell(gate, c_prev, h_prev, active, tanh_c, output, h_next, c_next)


@numba.njit(cache=True)
def _lstm_cell_backward(grad_output, grad_h, grad_c, gate, c_prev, tanh_c, active, grad_pre, grad_cell,
                        grad_c_prev):
    """The chain rule through one step's elementwise part: from d h_t (output and carried) and
    d C_t to the gates' pre-activations grad_pre (B, 4H) and to C_{t-1} (B, H). grad_cell (B, H) is
    scratch space for d C_t. Past a sequence's end the state passed through unchanged: d C_{t-1} = d C_t
    and the gates get no gradient. One loop per gate column block, each vectorisable:
        d C_t  = d C_t (carried) + d h_t o (1 - tanh(C_t)^2)
        d i = d C_t C~ i (1 - i),   d f = d C_t C_{t-1} f (1 - f),
        d C~ = d C_t i (1 - C~^2),  d o = d h_t tanh(C_t) o (1 - o),   d C_{t-1} = d C_t f"""
    batch, hidden = grad_h.shape
    for b in range(batch):
        running = active[b]
        for j in range(hidden):
            o = gate[b, 3 * hidden + j]
            total = grad_c[b, j] + (grad_output[b, j] + grad_h[b, j]) * o * (ONE - tanh_c[b, j] * tanh_c[b, j])
            grad_cell[b, j] = total if running else ZERO
            grad_c_prev[b, j] = total * gate[b, hidden + j] if running else grad_c[b, j]
        for j in range(hidden):
            i = gate[b, j]
            grad_pre[b, j] = grad_cell[b, j] * gate[b, 2 * hidden + j] * i * (ONE - i)
        for j in range(hidden):
            f = gate[b, hidden + j]
            grad_pre[b, hidden + j] = grad_cell[b, j] * c_prev[b, j] * f * (ONE - f)
        for j in range(hidden):
            candidate = gate[b, 2 * hidden + j]
            grad_pre[b, 2 * hidden + j] = grad_cell[b, j] * gate[b, j] * (ONE - candidate * candidate)
        for j in range(hidden):
            o = gate[b, 3 * hidden + j]
            grad_hidden = grad_output[b, j] + grad_h[b, j] if running else ZERO
            grad_pre[b, 3 * hidden + j] = grad_hidden * tanh_c[b, j] * o * (ONE - o)


class LSTMSequence(Function):
    """The LSTM recurrence (equations in cells.lstm_step) over all T steps.

    Forward, per step: the recurrent matmul into a buffer, then one compiled loop for everything
    elementwise (_lstm_step). Backward, per step: one compiled loop for the elementwise chain rule
    (_lstm_cell_backward), then one matmul into a buffer."""

    @staticmethod
    def forward(ctx, x_proj, h0, c0, weight_hh, bias_hh, active):
        seq_len, batch, hidden = x_proj.shape[0], h0.shape[0], h0.shape[1]
        dtype, keep = x_proj.dtype, _keeps_graph(ctx)
        bias = np.zeros(4 * hidden, dtype) if bias_hh is None else bias_hh
        scale = gate_scales(hidden, dtype)
        weight_hh_t = np.ascontiguousarray(weight_hh.T)
        mask = np.ones((seq_len, batch), dtype=bool) if active is None else np.ascontiguousarray(active)
        outputs = np.empty(x_proj.shape[:2] + (hidden,), dtype=dtype)
        # Without backward, one step's gates and tanh(C) are all that is ever needed at a time.
        gates = np.empty((seq_len if keep else 1, batch, 4 * hidden), dtype)  # after their nonlinearities
        tanh_c = np.empty((seq_len if keep else 1, batch, hidden), dtype)
        h_all, c_all = (np.empty((seq_len + 1, batch, hidden), dtype) for _ in range(2))
        h_all[0], c_all[0] = h0, c0  # h_all[t], c_all[t]: the state before step t
        recurrent = np.empty((batch, 4 * hidden), dtype)  # h_{t-1} W_hh^T, one step at a time
        for t in range(seq_len):
            gate, tanh_c_t = gates[t if keep else 0], tanh_c[t if keep else 0]
            np.matmul(h_all[t], weight_hh_t, out=recurrent)
            _lstm_step(recurrent, x_proj[t], bias, scale, c_all[t], h_all[t], mask[t], gate, tanh_c_t, outputs[t],
                       h_all[t + 1], c_all[t + 1])
        if keep:
            ctx.save_for_backward(gates, h_all, c_all, tanh_c, weight_hh)
            ctx.active, ctx.has_bias = mask, bias_hh is not None
        return outputs, h_all[-1].copy(), c_all[-1].copy()

    @staticmethod
    def backward(ctx, grad_outputs, grad_h, grad_c):
        gates, h_all, c_all, tanh_c, weight_hh = ctx.saved_tensors
        grad_pre = np.empty_like(gates)  # every entry written by _lstm_cell_backward
        grad_outputs = np.ascontiguousarray(grad_outputs)
        # Two buffers each for d h and d C, swapped every step: step t reads one and writes the other.
        grad_h_buffers = [np.array(grad_h, order="C"), np.empty_like(h_all[0])]
        grad_c_buffers = [np.array(grad_c, order="C"), np.empty_like(c_all[0])]
        grad_cell = np.empty_like(c_all[0])  # scratch for d C_t
        for step, t in enumerate(reversed(range(gates.shape[0]))):
            grad_h, grad_h_prev = grad_h_buffers[step % 2], grad_h_buffers[1 - step % 2]
            grad_c, grad_c_prev = grad_c_buffers[step % 2], grad_c_buffers[1 - step % 2]
            _lstm_cell_backward(grad_outputs[t], grad_h, grad_c, gates[t], c_all[t], tanh_c[t], ctx.active[t],
                                grad_pre[t], grad_cell, grad_c_prev)
            np.matmul(grad_pre[t], weight_hh, out=grad_h_prev)
            _carry_inactive(grad_h_prev, grad_h, ctx.active[t])
        grad_h, grad_c = grad_h_buffers[gates.shape[0] % 2], grad_c_buffers[gates.shape[0] % 2]
        grad_weight, grad_bias = _weight_gradients(grad_pre, h_all[:-1], ctx.needs_input_grad[3], ctx.has_bias)
        return grad_pre, grad_h, grad_c, grad_weight, grad_bias, None


# ---------------------------------------------------------------------------------------------
# GRU. Gate columns r, z, n, each H wide. hidden_n is what the n gate takes from h_{t-1}:
# W_hn h_{t-1} + b_hn with reset_after, r_t * h_{t-1} without.
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True, error_model="numpy")
def _gru_reset_update(recurrent, x_proj, bias, h_prev, reset_after, gate, hidden_n):
    """r, z = sigmoid(x_proj + h_{t-1} W_hh^T + b_hh) into gate[:, :2H] (recurrent holds the matmul),
    then what the n gate takes from h_{t-1}: hidden_n = W_hn h_{t-1} + b_hn (reset_after, from the
    matmul's last H columns) or r * h_{t-1} (not: the n gate's own matmul of it comes next)."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        for k in range(2 * hidden):
            gate[b, k] = sigmoid(recurrent[b, k] + x_proj[b, k] + bias[k])
        if reset_after:
            for j in range(hidden):
                hidden_n[b, j] = recurrent[b, 2 * hidden + j] + bias[2 * hidden + j]
        else:
            for j in range(hidden):
                hidden_n[b, j] = gate[b, j] * h_prev[b, j]


@numba.njit(cache=True, error_model="numpy")
def _gru_candidate(x_proj, recurrent_n, bias, hidden_n, h_prev, active, reset_after, candidate, gate, output,
                   h_next):
    """n = tanh(x_n + r * hidden_n) (reset_after) or tanh(x_n + W_hn (r * h) + b_hn) (not; the matmul
    in recurrent_n (B, H)), then h_t = n + z (h_{t-1} - n) = z h_{t-1} + (1 - z) n. n goes to
    candidate (B, H) first and is copied into gate[:, 2H:] by a loop of its own, so that no loop
    writes gate while reading it at another column offset (that would keep the loop scalar). Past a
    sequence's end the output is zero and the state is carried over."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        running = active[b]
        for j in range(hidden):
            if reset_after:
                pre = x_proj[b, 2 * hidden + j] + gate[b, j] * hidden_n[b, j]
            else:
                pre = x_proj[b, 2 * hidden + j] + recurrent_n[b, j] + bias[2 * hidden + j]
            n = tanh(pre)
            candidate[b, j] = n
            h = n + gate[b, hidden + j] * (h_prev[b, j] - n)
            output[b, j] = h if running else ZERO
            h_next[b, j] = h if running else h_prev[b, j]
        for j in range(hidden):
            gate[b, 2 * hidden + j] = candidate[b, j]


@numba.njit(cache=True)
def _gru_cell_backward(grad_output, grad_h, gate, h_prev, hidden_n, active, reset_after, grad_n, grad_x,
                       grad_recurrent, grad_h_prev):
    """The chain rule through one step's elementwise part. Writes d x_proj_t (B, 3H), d (the
    recurrent matmul's output) (B, 3H) and the part of d h_{t-1} that does not go through a matmul;
    grad_n (B, H) is scratch for d n's pre-activation. Without reset_after, d r needs d (r * h), which
    needs a matmul: that part is left to _gru_reset_backward. One loop per gate block:
        d n_pre = d h (1 - z) (1 - n^2),   d z_pre = d h (h_{t-1} - n) z (1 - z),   d h_{t-1} += d h z,
        reset_after: d r_pre = d n_pre hidden_n r (1 - r), d (W_hn h + b_hn) = d n_pre r.
    Past a sequence's end the state passed through unchanged and the gates get no gradient."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        running = active[b]
        for j in range(hidden):
            update, candidate = gate[b, hidden + j], gate[b, 2 * hidden + j]
            grad_new = grad_output[b, j] + grad_h[b, j]
            grad_n[b, j] = grad_new * (ONE - update) * (ONE - candidate * candidate) if running else ZERO
            grad_h_prev[b, j] = grad_new * update if running else grad_h[b, j]
        for j in range(hidden):  # z
            update, candidate = gate[b, hidden + j], gate[b, 2 * hidden + j]
            grad_new = grad_output[b, j] + grad_h[b, j] if running else ZERO
            grad_z = grad_new * (h_prev[b, j] - candidate) * update * (ONE - update)
            grad_x[b, hidden + j] = grad_z
            grad_recurrent[b, hidden + j] = grad_z
        for j in range(hidden):  # n
            grad_x[b, 2 * hidden + j] = grad_n[b, j]
            grad_recurrent[b, 2 * hidden + j] = grad_n[b, j] * gate[b, j] if reset_after else grad_n[b, j]
        if reset_after:
            for j in range(hidden):  # r
                reset = gate[b, j]
                grad_r = grad_n[b, j] * hidden_n[b, j] * reset * (ONE - reset)
                grad_x[b, j] = grad_r
                grad_recurrent[b, j] = grad_r


@numba.njit(cache=True)
def _gru_reset_backward(grad_reset_h, gate, h_prev, active, grad_x, grad_recurrent, grad_h_prev):
    """reset_after=False: from d (r * h) (B, H) to d r's pre-activation and the direct part of d h."""
    batch, hidden = h_prev.shape
    for b in range(batch):
        running = active[b]
        for j in range(hidden):
            reset = gate[b, j]
            grad_r = grad_reset_h[b, j] * h_prev[b, j] * reset * (ONE - reset) if running else ZERO
            grad_x[b, j] = grad_r
            grad_recurrent[b, j] = grad_r
            grad_h_prev[b, j] += grad_reset_h[b, j] * reset if running else ZERO


class GRUSequence(Function):
    """The GRU recurrence (both variants, equations in cells.gru_step) over all T steps.

    Forward, per step: the recurrent matmul into a buffer, a compiled loop for r and z
    (_gru_reset_update), one for n and h_t (_gru_candidate); reset_after=False adds the n gate's own
    matmul of r * h between the two. Backward, per step: one compiled loop for the elementwise
    chain rule, one matmul into a buffer (reset_after=False: two, and a second small loop)."""

    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, bias_hh, active, reset_after):
        seq_len, batch, hidden = x_proj.shape[0], h0.shape[0], h0.shape[1]
        dtype, keep = x_proj.dtype, _keeps_graph(ctx)
        bias = np.zeros(3 * hidden, dtype) if bias_hh is None else bias_hh
        # Only the transposed copies this variant multiplies by (copying a transposed (3H, H) matrix
        # costs as much as a few steps' matmuls: 3.4 ms at H = 512, one thread).
        if reset_after:
            weight_hh_t = np.ascontiguousarray(weight_hh.T)
        else:
            weight_rz_t = np.ascontiguousarray(weight_hh[: 2 * hidden].T)
            weight_n_t = np.ascontiguousarray(weight_hh[2 * hidden:].T)
        mask = np.ones((seq_len, batch), dtype=bool) if active is None else np.ascontiguousarray(active)
        outputs = np.empty(x_proj.shape[:2] + (hidden,), dtype=dtype)
        gates = np.empty((seq_len if keep else 1, batch, 3 * hidden), dtype)  # r, z, n after their nonlinearities
        hidden_n = np.empty((seq_len if keep else 1, batch, hidden), dtype)
        h_all = np.empty((seq_len + 1, batch, hidden), dtype)
        h_all[0] = h0
        recurrent = np.empty((batch, 3 * hidden if reset_after else 2 * hidden), dtype)
        recurrent_n = np.empty((batch, hidden), dtype)
        candidate = np.empty((batch, hidden), dtype)  # scratch for n (see _gru_candidate)
        for t in range(seq_len):
            gate, hidden_n_t = gates[t if keep else 0], hidden_n[t if keep else 0]
            np.matmul(h_all[t], weight_hh_t if reset_after else weight_rz_t, out=recurrent)
            _gru_reset_update(recurrent, x_proj[t], bias, h_all[t], reset_after, gate, hidden_n_t)
            if not reset_after:
                np.matmul(hidden_n_t, weight_n_t, out=recurrent_n)  # W_hn (r * h)
            _gru_candidate(x_proj[t], recurrent_n, bias, hidden_n_t, h_all[t], mask[t], reset_after, candidate, gate,
                           outputs[t], h_all[t + 1])
        if keep:
            ctx.save_for_backward(gates, h_all, hidden_n, weight_hh)
            ctx.active = mask
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
        grad_n = np.empty_like(h_all[0])  # scratch for d n's pre-activation
        for step, t in enumerate(reversed(range(seq_len))):
            grad_h, grad_h_prev = grad_h_buffers[step % 2], grad_h_buffers[1 - step % 2]
            _gru_cell_backward(grad_outputs[t], grad_h, gates[t], h_all[t], hidden_n[t], ctx.active[t],
                               ctx.reset_after, grad_n, grad_x[t], grad_recurrent[t], grad_h_prev)
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
