"""Recurrent cells (RNNCell, LSTMCell, GRUCell) and the layers that run them over a sequence
(RNN, LSTM, GRU), composed from tinyseq ops: their gradients come from the ops' backward, with no
hand-written backward here.

Each cell's step is one function (`rnn_step`, `lstm_step`, `gru_step`), shared by the cell and the
layer. A step receives its input already multiplied by W_ih (plus b_ih): the layer does that for
all time steps at once, in one matmul before the time loop, and each step then adds one matmul of
the previous hidden state with the stacked recurrent weights of all gates.

Parameters have PyTorch's names, shapes, gate order and initialisation (U(-1/sqrt(H), 1/sqrt(H))),
so a PyTorch state dict loads into the same layer here and gives the same numbers.
"""

import numpy as np

from .. import ops
from . import fused
from ..ops import linear, sigmoid, tanh, where
from ..tensor import Tensor
from .layers import uniform_parameter
from .module import Module

# ---------------------------------------------------------------------------------------------
# One time step of each cell. x_proj = x W_ih^T + b_ih for this step: (B, G*H); h, c: (B, H).
# ---------------------------------------------------------------------------------------------


def rnn_step(x_proj, state, weight_hh, bias_hh, nonlinearity):
    """Elman RNN:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  act = tanh or relu."""
    pre_activation = x_proj + linear(state, weight_hh, bias_hh)
    return tanh(pre_activation) if nonlinearity == "tanh" else ops.relu(pre_activation)


def lstm_step(x_proj, state, weight_hh, bias_hh):
    """LSTM, in the lecture's notation (PyTorch's rows of W are stacked in the order i, f, g, o;
    g is the candidate C~):

        i_t  = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate
        f_t  = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate
        C~_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)         candidate cell state
        o_t  = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate
        C_t  = f_t * C_{t-1} + i_t * C~_t
        h_t  = o_t * tanh(C_t)
    """
    h, c = state
    gates = x_proj + linear(h, weight_hh, bias_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    return h, c


def gru_step(x_proj, state, weight_hh, bias_hh, reset_after):
    """GRU, rows of W stacked in the order r, z, n (PyTorch's layout):

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)       reset gate
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)       update gate
        reset_after=True  (PyTorch, cuDNN):  n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        reset_after=False (the lecture's):   n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    The lecture writes the candidate as h~_t = n_t and the update as h_t = (1 - z'_t) h_{t-1} +
    z'_t h~_t: that z'_t is 1 - z_t here, i.e. the same gate with its weights and biases negated.
    """
    h = state
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    hidden = weight_hh.shape[1]
    if reset_after:
        h_r, h_z, h_n = linear(h, weight_hh, bias_hh).chunk(3, dim=-1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = tanh(x_n + r * h_n)
    else:
        weight_rz, weight_n = weight_hh.split([2 * hidden, hidden], dim=0)
        bias_rz, bias_n = (None, None) if bias_hh is None else bias_hh.split([2 * hidden, hidden], dim=0)
        h_r, h_z = linear(h, weight_rz, bias_rz).chunk(2, dim=-1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = tanh(x_n + linear(r * h, weight_n, bias_n))
    return n + z * (h - n)


_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}

# ---------------------------------------------------------------------------------------------
# Cells: one step, with their own weights.
# ---------------------------------------------------------------------------------------------


class _CellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias):
        super().__init__()
        _check_positive("input_size", input_size, type(self).__name__)
        _check_positive("hidden_size", hidden_size, type(self).__name__)
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = _gate_parameters(mode, input_size, hidden_size, bias)

    def _prepare(self, x, hx):
        """x (B, I) or unbatched (I,) -> (B, I); hx checked against (B, H) or (H,) and made (B, H)."""
        name = type(self).__name__
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input must have shape (batch, {self.input_size}) or ({self.input_size},), got {x.shape}")
        unbatched = x.ndim == 1
        x = x.reshape(1, -1) if unbatched else x
        expected = (x.shape[0], self.hidden_size)
        if hx is not None and isinstance(hx, (tuple, list)) != (self.mode == "LSTM"):
            wanted = "a pair (h, c) of tensors" if self.mode == "LSTM" else "one tensor"
            raise TypeError(f"{name}: hx must be {wanted}, got {type(hx).__name__}")
        states = [] if hx is None else (list(hx) if isinstance(hx, (tuple, list)) else [hx])
        checked = []
        for position, state in enumerate(states):
            state = state if isinstance(state, Tensor) else Tensor(state)
            if state.shape != (expected[1:] if unbatched else expected):
                label = "hx" if len(states) == 1 else f"hx[{position}]"
                raise ValueError(f"{name}: {label} must have shape {expected[1:] if unbatched else expected}, got {state.shape}")
            checked.append(state.reshape(expected))
        return x, checked, unbatched, expected

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of an Elman RNN:  h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    input: (B, input_size) or (input_size,)   hx: (B, hidden_size) or None (zeros)   -> h': (B, hidden_size)
    weight_ih: (hidden_size, input_size)   weight_hh: (hidden_size, hidden_size)   biases: (hidden_size,)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        _check_nonlinearity(nonlinearity, "RNNCell")
        super().__init__("RNN", input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, states, unbatched, shape = self._prepare(input, hx)
        h = states[0] if states else _zeros(shape, x)
        h = rnn_step(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h.reshape(-1) if unbatched else h

    def extra_repr(self):
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity}")


class LSTMCell(_CellBase):
    """One LSTM step (equations in lstm_step).

    input: (B, input_size)   hx: (h, c), each (B, hidden_size), or None   -> (h', c')
    weight_ih: (4 * hidden_size, input_size), rows [W_ii; W_if; W_ig; W_io]
    weight_hh: (4 * hidden_size, hidden_size), rows [W_hi; W_hf; W_hg; W_ho]   biases: (4 * hidden_size,)
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__("LSTM", input_size, hidden_size, bias)

    def forward(self, input, hx=None):
        x, states, unbatched, shape = self._prepare(input, hx)
        if hx is not None and len(states) != 2:
            raise ValueError(f"LSTMCell: hx must be a pair (h, c), got {len(states)} tensor(s)")
        h, c = states if states else (_zeros(shape, x), _zeros(shape, x))
        h, c = lstm_step(linear(x, self.weight_ih, self.bias_ih), (h, c), self.weight_hh, self.bias_hh)
        return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """One GRU step (equations, both variants and the lecture's update-gate convention in gru_step).

    input: (B, input_size)   hx: (B, hidden_size) or None   -> h': (B, hidden_size)
    weight_ih: (3 * hidden_size, input_size), rows [W_ir; W_iz; W_in]
    weight_hh: (3 * hidden_size, hidden_size), rows [W_hr; W_hz; W_hn]   biases: (3 * hidden_size,)
    reset_after=True is PyTorch's GRUCell; False is the original variant (Cho et al. 2014, "Learning
    Phrase Representations using RNN Encoder-Decoder for Statistical Machine Translation"), which
    PyTorch does not have.
    """

    def __init__(self, input_size, hidden_size, bias=True, reset_after=True):
        super().__init__("GRU", input_size, hidden_size, bias)
        self.reset_after = reset_after

    def forward(self, input, hx=None):
        x, states, unbatched, shape = self._prepare(input, hx)
        h = states[0] if states else _zeros(shape, x)
        h = gru_step(linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, self.reset_after)
        return h.reshape(-1) if unbatched else h

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")


# ---------------------------------------------------------------------------------------------
# Layers: a cell's step run over time, for every layer and direction.
# ---------------------------------------------------------------------------------------------


class _RNNBase(Module):
    """Shared by RNN, LSTM and GRU: parameters, argument checks, and the loop over layers,
    directions and time steps.

    fused: True (the default) runs each layer and direction as one op with hand-written
    backpropagation through time (tinyseq/nn/fused.py), several times faster; False runs the
    composed reference step by step. Both give the same numbers (tests/test_fused_recurrence.py).
    """

    fused = True

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False):
        super().__init__()
        _check_positive("input_size", input_size, mode)
        _check_positive("hidden_size", hidden_size, mode)
        _check_positive("num_layers", num_layers, mode)
        if not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{mode}: dropout must be a number in [0, 1], got {dropout!r}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.num_directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in ("", "_reverse")[: self.num_directions]:
                parameters = _gate_parameters(mode, layer_input, hidden_size, bias)
                for kind, parameter in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), parameters):
                    if parameter is not None:
                        setattr(self, f"{kind}_l{layer}{suffix}", parameter)

    def _weights(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = lambda kind: self._parameters.get(f"{kind}_l{layer}{suffix}")  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _step(self, x_proj, state, weight_hh, bias_hh):
        raise NotImplementedError

    def forward(self, input, hx=None, lengths=None):
        """input: (T, B, input_size), (B, T, input_size) if batch_first, or unbatched (T, input_size).
        hx: (num_layers * num_directions, B, hidden_size) (LSTM: a pair (h_0, c_0)), or None for zeros.
        lengths: None, or one length per sequence (1 <= length <= T): packed-sequence semantics,
        i.e. no update past a sequence's end, zero outputs there, h_n taken at each sequence's own
        last step, and the reverse direction starting from that last step.

        Returns output: (T, B, num_directions * hidden_size) (batch_first: (B, T, ...)) and h_n
        (LSTM: (h_n, c_n)), each (num_layers * num_directions, B, hidden_size); row
        layer * num_directions + direction holds that layer's and direction's final state.
        """
        x, states, lengths, unbatched = self._check_inputs(input, hx, lengths)
        seq_len, batch = x.shape[0], x.shape[1]
        active = None if lengths is None else np.arange(seq_len)[:, None] < lengths[None, :]  # (T, B)
        finals = [[] for _ in states]
        # Padding never reaches the arithmetic, so NaN or inf there cannot leak into any gradient.
        layer_input = x if active is None else where(active[:, :, None], x, 0.0)
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = ops.dropout(layer_input, self.dropout, True)
            outputs = []
            for direction in range(self.num_directions):
                weight_ih, weight_hh, bias_ih, bias_hh = self._weights(layer, direction)
                index = layer * self.num_directions + direction
                state = tuple(s[index] for s in states)
                sequence = layer_input if direction == 0 else _reverse(layer_input, lengths)
                x_proj = linear(sequence, weight_ih, bias_ih)  # every time step in one matmul
                out, state = self._run_direction(x_proj, state, weight_hh, bias_hh, active)
                outputs.append(out if direction == 0 else _reverse(out, lengths))
                for collected, s in zip(finals, state):
                    collected.append(s)
            layer_input = outputs[0] if len(outputs) == 1 else ops.concat(outputs, dim=-1)
        output = layer_input
        final_states = tuple(ops.stack(collected, dim=0) for collected in finals)
        if self.batch_first:
            output = output.transpose(0, 1)
        if unbatched:
            output = output.reshape(seq_len, -1)
            final_states = tuple(s.reshape(s.shape[0], -1) for s in final_states)
        return output, (final_states if self.mode == "LSTM" else final_states[0])

    def _run_direction(self, x_proj, state, weight_hh, bias_hh, active):
        if self.fused:
            return self._run_direction_fused(x_proj, state, weight_hh, bias_hh, active)
        return self._run_direction_composed(x_proj, state, weight_hh, bias_hh, active)

    def _run_direction_composed(self, x_proj, state, weight_hh, bias_hh, active):
        """The reference: run the composed step over time. x_proj: (T, B, G*H); state: tuple of (B, H); active: (T, B) bool
        or None. Past a sequence's end the state is held and the output is zero."""
        outputs = []
        for t, x_t in enumerate(x_proj.unbind(0)):
            new_state = self._step(x_t, state if len(state) > 1 else state[0], weight_hh, bias_hh)
            new_state = new_state if isinstance(new_state, tuple) else (new_state,)
            if active is None or active[t].all():
                state, output = new_state, new_state[0]
            else:
                keep = active[t][:, None]
                state = tuple(where(keep, new, old) for new, old in zip(new_state, state))
                output = where(keep, new_state[0], 0.0)
            outputs.append(output)
        return ops.stack(outputs, dim=0), state

    def _check_inputs(self, input, hx, lengths):
        name = self.mode
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
            raise ValueError(
                f"{name}: input must have shape {layout} or (seq_len, input_size) with input_size="
                f"{self.input_size}, got {x.shape}"
            )
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        elif self.batch_first:
            x = x.transpose(0, 1)
        seq_len, batch = x.shape[0], x.shape[1]
        if seq_len == 0:
            raise ValueError(f"{name}: input must have at least one time step, got shape {tuple(input.shape)}")
        layers = self.num_layers * self.num_directions
        expected = (layers, self.hidden_size) if unbatched else (layers, batch, self.hidden_size)
        count = 2 if self.mode == "LSTM" else 1
        if hx is None:
            zeros = Tensor._wrap(np.zeros((layers, batch, self.hidden_size), dtype=x.dtype))
            states = (zeros,) * count
        else:
            if isinstance(hx, (tuple, list)) != (self.mode == "LSTM"):
                wanted = "a pair (h_0, c_0) of tensors" if self.mode == "LSTM" else "one tensor"
                raise TypeError(f"{name}: hx must be {wanted}, got {type(hx).__name__}")
            states = tuple(hx) if self.mode == "LSTM" else (hx,)
            if len(states) != count:
                raise ValueError(f"{name}: hx must be a pair (h_0, c_0), got {len(states)} tensor(s)")
            labels = ("h_0", "c_0") if self.mode == "LSTM" else ("hx",)
            checked = []
            for label, state in zip(labels, states):
                state = state if isinstance(state, Tensor) else Tensor(state)
                if state.shape != expected:
                    raise ValueError(f"{name}: {label} must have shape {expected}, got {state.shape}")
                checked.append(state.reshape(layers, batch, self.hidden_size))
            states = tuple(checked)
        states = tuple(s.unbind(0) for s in states)
        if lengths is not None:
            lengths = _check_lengths(lengths, seq_len, batch, name)
        return x, states, lengths, unbatched

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False}
        for key, default in defaults.items():
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text


class RNN(_RNNBase):
    """Elman RNN over a sequence: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh or relu.

    Parameters per layer k (suffix _reverse for the backward direction):
    weight_ih_l{k}: (H, input_size for k = 0, else num_directions * H)   weight_hh_l{k}: (H, H)
    bias_ih_l{k}, bias_hh_l{k}: (H,).   Call: rnn(x, hx=None, lengths=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False):
        _check_nonlinearity(nonlinearity, "RNN")
        super().__init__("RNN", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return rnn_step(x_proj, state, weight_hh, bias_hh, self.nonlinearity)

    def _run_direction_fused(self, x_proj, state, weight_hh, bias_hh, active):
        output, h = fused.RNNSequence.apply(x_proj, state[0], weight_hh, bias_hh, active, self.nonlinearity)
        return output, (h,)


class LSTM(_RNNBase):
    """LSTM over a sequence (the step's equations are in lstm_step).

    Parameters per layer k: weight_ih_l{k}: (4H, input_size or num_directions * H), weight_hh_l{k}:
    (4H, H), bias_ih_l{k}, bias_hh_l{k}: (4H,), gate rows in the order i, f, g, o.
    Call: lstm(x, hx=None, lengths=None) -> (output, (h_n, c_n)). PyTorch's proj_size is not supported.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return lstm_step(x_proj, state, weight_hh, bias_hh)

    def _run_direction_fused(self, x_proj, state, weight_hh, bias_hh, active):
        output, h, c = fused.LSTMSequence.apply(x_proj, state[0], state[1], weight_hh, bias_hh, active)
        return output, (h, c)


class GRU(_RNNBase):
    """GRU over a sequence (both variants' equations are in gru_step).

    Parameters per layer k: weight_ih_l{k}: (3H, input_size or num_directions * H), weight_hh_l{k}:
    (3H, H), bias_ih_l{k}, bias_hh_l{k}: (3H,), gate rows in the order r, z, n.
    reset_after=True matches PyTorch's GRU; reset_after=False is the lecture's variant (not in PyTorch).
    Call: gru(x, hx=None, lengths=None) -> (output, h_n).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, reset_after=True):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.reset_after = reset_after

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return gru_step(x_proj, state, weight_hh, bias_hh, self.reset_after)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")

    def _run_direction_fused(self, x_proj, state, weight_hh, bias_hh, active):
        output, h = fused.GRUSequence.apply(x_proj, state[0], weight_hh, bias_hh, active, self.reset_after)
        return output, (h,)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _reverse(sequence, lengths):
    """Each sequence reversed in time within its own length (T, B, F); padding stays in place.
    Applying it twice gives the input back."""
    if lengths is None:
        return sequence.flip(0)
    seq_len, batch = sequence.shape[0], sequence.shape[1]
    steps = np.arange(seq_len)[:, None]
    source = np.where(steps < lengths[None, :], lengths[None, :] - 1 - steps, steps)  # (T, B)
    return sequence[source, np.arange(batch)[None, :]]


def _gate_parameters(mode, input_size, hidden_size, bias):
    """weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih and bias_hh (G*H,) or None, for the
    G gates of mode, each drawn from U(-1/sqrt(H), 1/sqrt(H)) as PyTorch initialises them."""
    rows, bound = _GATES[mode] * hidden_size, 1.0 / np.sqrt(hidden_size)
    return (uniform_parameter((rows, input_size), bound), uniform_parameter((rows, hidden_size), bound),
            uniform_parameter((rows,), bound) if bias else None, uniform_parameter((rows,), bound) if bias else None)


def _zeros(shape, like):
    return Tensor._wrap(np.zeros(shape, dtype=like.dtype if like.dtype.kind == "f" else np.float32))


def _check_positive(name, value, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")


def _check_nonlinearity(nonlinearity, owner):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{owner}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def _check_lengths(lengths, seq_len, batch, owner):
    lengths = np.asarray(getattr(lengths, "data", lengths))
    if lengths.ndim != 1 or lengths.shape[0] != batch:
        raise ValueError(f"{owner}: lengths must hold one length per sequence ({batch}), got shape {lengths.shape}")
    if lengths.dtype.kind not in "iu":
        if lengths.dtype.kind == "f" and np.all(lengths == np.round(lengths)):
            lengths = lengths.astype(np.int64)
        else:
            raise TypeError(f"{owner}: lengths must be integers, got dtype {lengths.dtype}")
    if lengths.min() < 1 or lengths.max() > seq_len:
        raise ValueError(
            f"{owner}: lengths must each be in [1, {seq_len}] (the input's seq_len), got values from "
            f"{lengths.min()} to {lengths.max()}"
        )
    return lengths.astype(np.int64)
