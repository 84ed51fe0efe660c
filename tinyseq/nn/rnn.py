"""The recurrent layers RNN, LSTM and GRU: a cell's equations (nn/cells.py) run over a whole
sequence, for one or more layers and one or two directions, with PyTorch's names, shapes and
packed-sequence semantics for `lengths=`.

Each layer and direction runs on one of two paths that give the same numbers:
  - the fast path (the default): one op per layer and direction, nn/fused.py, with
    backpropagation through time written out;
  - the reference path: the cell's step function (rnn_step, lstm_step, gru_step) called once per
    time step, recorded op by op, so autograd derives the gradient. `use_reference_path(True)`
    switches every layer to it, for a learner who wants to step through the code the equations
    describe. tests/test_fused_recurrence.py checks that both paths agree.

Where a layer sits in the data flow: (padded) embeddings (T, B, I) -> layer -> features
(T, B, num_directions * H) for a per-step head (tagger, CTC) and final states for a per-sequence head.
"""

import numpy as np

from .. import ops
from ..function import Function
from ..ops import linear, where
from ..tensor import Tensor
from . import fused
from .cells import (check_dtype, check_hidden_states, check_nonlinearity, check_positive, gate_parameters,
                    gru_step, lstm_step, rnn_step, zero_states)
from .module import Module

_reference_path = False


class use_reference_path:
    """Run every recurrent layer on its composed reference path (True) or on the fused fast path
    (False, the default). Like torch.set_grad_enabled, it acts when called and, used as a context
    manager, restores the previous setting on exit:

        nn.use_reference_path(True)              # from now on
        with nn.use_reference_path():            # only inside the block
            output, (h_n, c_n) = lstm(x)

    The cells always run their composed step; they have no fast path.
    """

    def __init__(self, enabled=True):
        global _reference_path
        if not isinstance(enabled, (bool, np.bool_)):
            raise TypeError(f"use_reference_path: enabled must be True or False, got {enabled!r}")
        self._previous = _reference_path
        _reference_path = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        global _reference_path
        _reference_path = self._previous
        return False


def is_reference_path_enabled():
    """True when the recurrent layers run their composed reference path (see use_reference_path)."""
    return _reference_path


class _RNNBase(Module):
    """Shared by RNN, LSTM and GRU: parameters, argument checks, and the loop over layers and
    directions. A subclass sets num_gates and state_names and defines _step (the reference path,
    one time step) and _fused_direction (the fast path, a whole direction)."""

    num_gates = 1
    state_names = ("hx",)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__()
        name = type(self).__name__
        check_positive("input_size", input_size, name)
        check_positive("hidden_size", hidden_size, name)
        check_positive("num_layers", num_layers, name)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.num_directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in ("", "_reverse")[: self.num_directions]:
                parameters = gate_parameters(self.num_gates, layer_input, hidden_size, bias)
                for kind, parameter in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), parameters):
                    if parameter is not None:
                        setattr(self, f"{kind}_l{layer}{suffix}", parameter)

    def _step(self, x_proj, state, weight_hh, bias_hh):
        """The reference path's time step: the cell's step function (nn/cells.py)."""
        raise NotImplementedError

    def _fused_direction(self, x_proj, states, weight_hh, bias_hh, active):
        """The fast path: a whole layer and direction as one op (nn/fused.py). Returns the output
        sequence (T, B, H) and the tuple of final states."""
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
        seq_len = x.shape[0]
        active = None if lengths is None else np.arange(seq_len)[:, None] < lengths[None, :]  # (T, B)
        finals = [[] for _ in states]
        # Padding never reaches the arithmetic, so NaN or inf there cannot leak into any gradient.
        layer_input = x if active is None else where(active[:, :, None], x, 0.0)
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = ops.dropout(layer_input, self.dropout, True)
            outputs = []
            for direction in range(self.num_directions):
                suffix = "_reverse" if direction == 1 else ""
                weight_ih, weight_hh, bias_ih, bias_hh = (
                    self._parameters.get(f"{kind}_l{layer}{suffix}")
                    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                index = layer * self.num_directions + direction
                state = tuple(s[index] for s in states)
                sequence = layer_input if direction == 0 else _reverse(layer_input, lengths)
                x_proj = _input_projection(sequence, weight_ih, bias_ih)
                if _reference_path:
                    out, state = self._reference_direction(x_proj, state, weight_hh, bias_hh, active)
                else:
                    out, state = self._fused_direction(x_proj, state, weight_hh, bias_hh, active)
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
        return output, (final_states if len(final_states) == 2 else final_states[0])

    def _reference_direction(self, x_proj, state, weight_hh, bias_hh, active):
        """The reference: the composed step run over time. x_proj: (T, B, G*H); state: tuple of
        (B, H); active: (T, B) bool or None. Past a sequence's end the state is held and the output
        is zero."""
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
        """input -> (T, B, I); hx -> one tuple of per-row states per state name; lengths -> int64 (B,)."""
        name = type(self).__name__
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
            raise ValueError(
                f"{name}: input must have shape {layout} or (seq_len, input_size) with input_size="
                f"{self.input_size}, got {x.shape}"
            )
        dtype = self.weight_ih_l0.dtype
        check_dtype(name, "input", x, dtype)
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        elif self.batch_first:
            x = x.transpose(0, 1)
        seq_len, batch = x.shape[0], x.shape[1]
        if seq_len == 0:
            raise ValueError(f"{name}: input must have at least one time step, got shape {tuple(input.shape)}")
        rows = self.num_layers * self.num_directions
        shape = (rows, batch, self.hidden_size)
        states = check_hidden_states(name, hx, self.state_names, (rows, self.hidden_size) if unbatched else shape,
                                     dtype)
        states = zero_states(len(self.state_names), shape, dtype) if states is None else [
            s.reshape(shape) for s in states]
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
        check_nonlinearity(nonlinearity, "RNN")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return rnn_step(x_proj, state, weight_hh, bias_hh, self.nonlinearity)

    def _fused_direction(self, x_proj, states, weight_hh, bias_hh, active):
        output, h = fused.RNNSequence.apply(x_proj, states[0], weight_hh, bias_hh, active, self.nonlinearity)
        return output, (h,)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity}")


class LSTM(_RNNBase):
    """LSTM over a sequence (Hochreiter and Schmidhuber 1997, forget gate of Gers et al. 2000; the
    step's equations are in nn/cells.py's lstm_step).

    Parameters per layer k: weight_ih_l{k}: (4H, input_size or num_directions * H), weight_hh_l{k}:
    (4H, H), bias_ih_l{k}, bias_hh_l{k}: (4H,), gate rows in the order i, f, g, o.
    Call: lstm(x, hx=None, lengths=None) -> (output, (h_n, c_n)). PyTorch's proj_size is not supported.
    """

    num_gates = 4
    state_names = ("h_0", "c_0")

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return lstm_step(x_proj, state, weight_hh, bias_hh)

    def _fused_direction(self, x_proj, states, weight_hh, bias_hh, active):
        output, h, c = fused.LSTMSequence.apply(x_proj, states[0], states[1], weight_hh, bias_hh, active)
        return output, (h, c)


class GRU(_RNNBase):
    """GRU over a sequence (Cho et al. 2014; both variants' equations are in nn/cells.py's gru_step).

    Parameters per layer k: weight_ih_l{k}: (3H, input_size or num_directions * H), weight_hh_l{k}:
    (3H, H), bias_ih_l{k}, bias_hh_l{k}: (3H,), gate rows in the order r, z, n.
    reset_after=True matches PyTorch's GRU; reset_after=False is Cho et al.'s variant (not in PyTorch).
    Call: gru(x, hx=None, lengths=None) -> (output, h_n).
    """

    num_gates = 3

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, reset_after=True):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.reset_after = reset_after

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return gru_step(x_proj, state, weight_hh, bias_hh, self.reset_after)

    def _fused_direction(self, x_proj, states, weight_hh, bias_hh, active):
        output, h = fused.GRUSequence.apply(x_proj, states[0], weight_hh, bias_hh, active, self.reset_after)
        return output, (h,)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")


def _input_projection(sequence, weight_ih, bias_ih):
    """x_t W_ih^T + b_ih for every time step in one matmul: (T, B, I) -> (T, B, G*H). The steps are
    flattened into rows first, since numpy runs a 3-D @ 2-D product as T separate small matmuls."""
    seq_len, batch, features = sequence.shape
    rows = linear(sequence.reshape(seq_len * batch, features), weight_ih, bias_ih)
    return rows.reshape(seq_len, batch, rows.shape[-1])


def _reverse(sequence, lengths):
    """Each sequence reversed in time within its own length (T, B, F); padding stays in place.
    Applying it twice gives the input back."""
    if lengths is None:
        return sequence.flip(0)
    steps = np.arange(sequence.shape[0])[:, None]
    source = np.where(steps < lengths[None, :], lengths[None, :] - 1 - steps, steps)  # (T, B)
    return _ReverseWithinLengths.apply(sequence, source)


class _ReverseWithinLengths(Function):
    """output[t, b] = sequence[source[t, b], b]. source reverses each sequence within its length, a
    permutation that is its own inverse, so backward applies the same gather to the gradient
    instead of a scatter-add."""

    @staticmethod
    def forward(ctx, sequence, source):
        ctx.source = source
        return sequence[source, np.arange(sequence.shape[1])[None, :]]

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.source, np.arange(grad.shape[1])[None, :]], None


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
