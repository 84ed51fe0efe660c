"""The fast path of the recurrent layers: one Function per layer and direction, with the whole
time loop (forward) and backpropagation through time (backward) written out in numpy.

The composed path (nn/cells.py's rnn_step, lstm_step, gru_step) is the reference: it records
about a dozen ops per time step, and the autograd engine derives the gradient. Here the same
equations run inside a single op, so a step costs a few numpy calls instead of a dozen recorded
nodes, and the recurrent weights' gradient is one matmul over all steps after the loop.
tests/test_fused_recurrence.py checks, on random small layers under Hypothesis (float64, with and
without lengths=, one or two layers and directions), that both paths give the same outputs, final
states and gradients to 1e-10.

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


def _sigmoid(x):
    """sigmoid(x) = (1 + tanh(x / 2)) / 2: one ufunc call, and tanh never overflows. (The public
    sigmoid op uses a form that keeps relative precision far in the tails; gates don't need it.)"""
    return np.tanh(x * 0.5) * 0.5 + 0.5


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


@numba.njit(cache=True)
def _lstm_cell_backward(grad_output, grad_h, grad_c, gate, c_prev, tanh_c, active, grad_pre, grad_c_prev):
    """The chain rule through one step's elementwise part: from d h_t (output and carried) and
    d C_t to the gates' pre-activations (B, 4H) and to C_{t-1} (B, H)."""
    batch, hidden = grad_h.shape
    for b in range(batch):
        for j in range(hidden):
            if not active[b]:
                grad_c_prev[b, j] = grad_c[b, j]  # the state passed through unchanged
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

    Forward, per step: one matmul, then every gate's nonlinearity in one vectorised tanh call,
    since sigmoid(x) = tanh(x / 2) / 2 + 1/2. Backward, per step: one compiled loop for the
    elementwise chain rule (_lstm_cell_backward), then one matmul."""

    @staticmethod
    def forward(ctx, x_proj, h0, c0, weight_hh, bias_hh, active):
        seq_len, batch, hidden = x_proj.shape[0], h0.shape[0], h0.shape[1]
        steps = _active_steps(active, seq_len)
        # b_hh is the same at every step: add it to the input projection once, not T times.
        pre_activations = x_proj if bias_hh is None else x_proj + bias_hh
        weight_hh_t = np.ascontiguousarray(weight_hh.T)
        i, f, g, o = (slice(k * hidden, (k + 1) * hidden) for k in range(4))
        # act = tanh(pre * scale) * scale + shift: sigmoid for i, f, o (scale 1/2, shift 1/2), tanh for g.
        scale, shift = np.full(4 * hidden, 0.5, dtype=x_proj.dtype), np.full(4 * hidden, 0.5, dtype=x_proj.dtype)
        scale[g], shift[g] = 1.0, 0.0
        outputs = np.empty(x_proj.shape[:2] + (hidden,), dtype=x_proj.dtype)
        gates = np.empty_like(x_proj)  # i, f, g, o after their nonlinearities
        h_all, c_all = (np.empty((seq_len + 1, batch, hidden), x_proj.dtype) for _ in range(2))
        h_all[0], c_all[0] = h0, c0  # h_all[t], c_all[t]: the state before step t
        tanh_c = np.empty_like(outputs)
        for t in range(seq_len):
            gate = gates[t]
            np.multiply(pre_activations[t] + h_all[t] @ weight_hh_t, scale, out=gate)
            np.tanh(gate, out=gate)
            gate *= scale
            gate += shift
            c_new = gate[:, f] * c_all[t] + gate[:, i] * gate[:, g]  # C_t = f C_{t-1} + i C~_t
            np.tanh(c_new, out=tanh_c[t])
            np.multiply(gate[:, o], tanh_c[t], out=outputs[t])  # h_t = o tanh(C_t)
            h_all[t + 1] = _select(steps[t], outputs[t], h_all[t])
            c_all[t + 1] = _select(steps[t], c_new, c_all[t])
            if steps[t] is not None:  # past a sequence's end the output is zero
                outputs[t] *= steps[t][:, None]
        ctx.save_for_backward(gates, h_all, c_all, tanh_c, weight_hh)
        # The compiled backward step wants a mask for every step, even where all sequences run.
        ctx.active = np.ones((seq_len, batch), dtype=bool) if active is None else active
        ctx.steps, ctx.has_bias = steps, bias_hh is not None
        return outputs, h_all[-1].copy(), c_all[-1].copy()

    @staticmethod
    def backward(ctx, grad_outputs, grad_h, grad_c):
        gates, h_all, c_all, tanh_c, weight_hh = ctx.saved_tensors
        grad_pre = np.zeros_like(gates)
        grad_h, grad_c = np.ascontiguousarray(grad_h), np.ascontiguousarray(grad_c)
        grad_outputs = np.ascontiguousarray(grad_outputs)
        for t in reversed(range(gates.shape[0])):
            grad_c_prev = np.empty_like(grad_c)
            _lstm_cell_backward(grad_outputs[t], grad_h, grad_c, gates[t], c_all[t], tanh_c[t], ctx.active[t],
                                grad_pre[t], grad_c_prev)
            grad_h = _select(ctx.steps[t], grad_pre[t] @ weight_hh, grad_h)
            grad_c = grad_c_prev
        grad_weight, grad_bias = _weight_gradients(grad_pre, h_all[:-1], ctx.needs_input_grad[3], ctx.has_bias)
        return grad_pre, grad_h, grad_c, grad_weight, grad_bias, None


class GRUSequence(Function):
    """The GRU recurrence (both variants, equations in cells.gru_step) over all T steps."""

    @staticmethod
    def forward(ctx, x_proj, h0, weight_hh, bias_hh, active, reset_after):
        seq_len, hidden = x_proj.shape[0], h0.shape[1]
        steps = _active_steps(active, seq_len)
        outputs = np.zeros(x_proj.shape[:2] + (hidden,), dtype=x_proj.dtype)
        previous = np.empty_like(outputs)
        gates = np.empty_like(x_proj)  # r, z, n after their nonlinearities
        hidden_n = np.empty_like(outputs)  # reset_after: W_hn h + b_hn;  else: r * h
        weight_rz, weight_n = weight_hh[: 2 * hidden], weight_hh[2 * hidden:]
        bias_rz, bias_n = (None, None) if bias_hh is None else (bias_hh[: 2 * hidden], bias_hh[2 * hidden:])
        h = h0
        for t in range(seq_len):
            previous[t] = h
            x_rz, x_n = x_proj[t, :, : 2 * hidden], x_proj[t, :, 2 * hidden:]
            rz = _sigmoid(x_rz + _hidden_matmul(h, weight_rz, bias_rz))
            r, z = rz[:, :hidden], rz[:, hidden:]
            if reset_after:
                hidden_n[t] = _hidden_matmul(h, weight_n, bias_n)
                n = np.tanh(x_n + r * hidden_n[t])
            else:
                hidden_n[t] = r * h
                n = np.tanh(x_n + _hidden_matmul(hidden_n[t], weight_n, bias_n))
            gates[t, :, : 2 * hidden], gates[t, :, 2 * hidden:] = rz, n
            h_new = n + z * (h - n)
            outputs[t] = _select(steps[t], h_new, 0)
            h = _select(steps[t], h_new, h)
        ctx.save_for_backward(gates, previous, hidden_n, weight_hh)
        ctx.steps, ctx.reset_after, ctx.has_bias = steps, reset_after, bias_hh is not None
        return outputs, h

    @staticmethod
    def backward(ctx, grad_outputs, grad_h):
        gates, previous, hidden_n, weight_hh = ctx.saved_tensors
        hidden = previous.shape[2]
        weight_rz, weight_n = weight_hh[: 2 * hidden], weight_hh[2 * hidden:]
        grad_x = np.zeros_like(gates)  # d loss / d x_proj
        grad_hidden_pre = np.zeros_like(gates)  # d loss / d (the W_hh matmul's output), per gate
        for t in reversed(range(gates.shape[0])):
            active_t = ctx.steps[t]
            r, z, n = gates[t, :, :hidden], gates[t, :, hidden:2 * hidden], gates[t, :, 2 * hidden:]
            h = previous[t]
            grad_h_new = grad_outputs[t] + grad_h
            if active_t is not None:
                grad_h_new = grad_h_new * active_t[:, None]
            grad_n_pre = grad_h_new * (1 - z) * (1 - n * n)
            grad_z_pre = grad_h_new * (h - n) * z * (1 - z)
            grad_h_prev = grad_h_new * z
            if ctx.reset_after:
                grad_r_pre = grad_n_pre * hidden_n[t] * r * (1 - r)
                grad_hidden_pre[t, :, 2 * hidden:] = grad_n_pre * r
            else:
                grad_reset_h = grad_n_pre @ weight_n  # d loss / d (r * h)
                grad_r_pre = grad_reset_h * h * r * (1 - r)
                grad_h_prev = grad_h_prev + grad_reset_h * r
                grad_hidden_pre[t, :, 2 * hidden:] = grad_n_pre
            grad_x[t, :, :hidden], grad_x[t, :, hidden:2 * hidden], grad_x[t, :, 2 * hidden:] = (
                grad_r_pre, grad_z_pre, grad_n_pre)
            grad_hidden_pre[t, :, : 2 * hidden] = grad_x[t, :, : 2 * hidden]
            grad_h_prev = grad_h_prev + grad_hidden_pre[t, :, : 2 * hidden] @ weight_rz
            if ctx.reset_after:
                grad_h_prev = grad_h_prev + grad_hidden_pre[t, :, 2 * hidden:] @ weight_n
            grad_h = _select(active_t, grad_h_prev, grad_h)
        grad_weight = grad_bias = None
        if ctx.needs_input_grad[2] or ctx.has_bias:
            # The r and z rows multiply h; the n rows multiply h (reset_after) or r * h (not).
            grad_rz_w, grad_rz_b = _weight_gradients(grad_hidden_pre[..., : 2 * hidden], previous, True, True)
            n_inputs = previous if ctx.reset_after else hidden_n
            grad_n_w, grad_n_b = _weight_gradients(grad_hidden_pre[..., 2 * hidden:], n_inputs, True, True)
            grad_weight = np.concatenate([grad_rz_w, grad_n_w], axis=0)
            grad_bias = np.concatenate([grad_rz_b, grad_n_b]) if ctx.has_bias else None
        return grad_x, grad_h, grad_weight, grad_bias, None, None
