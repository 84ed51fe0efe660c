"""The recurrent cells RNNCell, LSTMCell and GRUCell: one time step each, composed from tinyseq ops,
so their gradients come from the ops' backward, with no hand-written backward here.

Each cell's equations are one function (`rnn_step`, `lstm_step`, `gru_step`). The layers of
nn/rnn.py run the same functions over a sequence on their reference path, so these few lines are
the code to read next to the equations. A step receives its input already multiplied by W_ih
(plus b_ih): a layer does that for all time steps at once, in one matmul before the time loop,
and each step then adds one matmul of the previous hidden state with the stacked recurrent
weights of all gates.

Sources of the equations:
    Elman RNN   J. L. Elman, "Finding structure in time", Cognitive Science 14, 1990.
    LSTM        S. Hochreiter and J. Schmidhuber, "Long short-term memory", Neural Computation 9(8),
                1997 (input and output gates, the cell state), with the forget gate of F. A. Gers,
                J. Schmidhuber and F. Cummins, "Learning to forget: continual prediction with LSTM",
                Neural Computation 12(10), 2000.
    GRU         K. Cho et al., "Learning phrase representations using RNN encoder-decoder for
                statistical machine translation", EMNLP 2014, eqs. 5-8 (reset_after=False);
                reset_after=True is the variant of PyTorch and cuDNN.

Parameters have PyTorch's names, shapes, gate order and initialisation (U(-1/sqrt(H), 1/sqrt(H))),
so a PyTorch state dict loads into the same cell here and gives the same numbers. This file also
holds the argument checks the layers share (sizes, the hidden state, dtypes).
"""

import numpy as np

from .. import ops
from ..ops import linear, sigmoid, tanh
from ..tensor import Tensor
from .layers import uniform_parameter
from .module import Module

# ---------------------------------------------------------------------------------------------
# One time step of each cell. x_proj = x W_ih^T + b_ih for this step: (B, G*H); h, c: (B, H).
# ---------------------------------------------------------------------------------------------


def rnn_step(x_proj, h, weight_hh, bias_hh, nonlinearity):
    """Elman RNN:  h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  act = tanh or relu."""
    pre_activation = x_proj + linear(h, weight_hh, bias_hh)
    return tanh(pre_activation) if nonlinearity == "tanh" else ops.relu(pre_activation)


def lstm_step(x_proj, state, weight_hh, bias_hh):
    """LSTM (Hochreiter and Schmidhuber 1997, with the forget gate f of Gers et al. 2000). The rows
    of W are stacked in PyTorch's order i, f, g, o; g is the candidate cell state C~:

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


def gru_step(x_proj, h, weight_hh, bias_hh, reset_after):
    """GRU, rows of W stacked in the order r, z, n (PyTorch's layout):

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)       reset gate
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)       update gate
        reset_after=True  (PyTorch, cuDNN):  n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        reset_after=False (Cho et al. 2014): n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
        h_t = z_t * h_{t-1} + (1 - z_t) * n_t

    The update is Cho et al. 2014's eq. 7 (a large z keeps the old state), as in PyTorch. Chung et
    al. 2014 ("Empirical evaluation of gated recurrent neural networks on sequence modeling") write
    h_t = (1 - z'_t) h_{t-1} + z'_t n_t: their z' is 1 - z, the same gate with its weights and
    biases negated.
    """
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
    return n + z * (h - n)  # = z h + (1 - z) n, with one product fewer


# ---------------------------------------------------------------------------------------------
# Cells: one step, with their own weights.
# ---------------------------------------------------------------------------------------------


class _CellBase(Module):
    """Shared by the three cells. A subclass sets num_gates (rows of W per hidden unit) and
    state_names (the LSTM carries two states, h and c), and defines _step."""

    num_gates = 1
    state_names = ("hx",)

    def __init__(self, input_size, hidden_size, bias):
        super().__init__()
        name = type(self).__name__
        check_positive("input_size", input_size, name)
        check_positive("hidden_size", hidden_size, name)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = gate_parameters(
            self.num_gates, input_size, hidden_size, bias)

    def _step(self, x_proj, state, weight_hh, bias_hh):
        raise NotImplementedError

    def forward(self, input, hx=None):
        """input: (B, input_size) or unbatched (input_size,); hx as the subclass says, or None for
        zeros. Returns the new state(s), shaped like hx."""
        name = type(self).__name__
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input must have shape (batch, {self.input_size}) or ({self.input_size},), "
                             f"got {x.shape}")
        check_dtype(name, "input", x, self.weight_ih.dtype)
        unbatched = x.ndim == 1
        x = x.reshape(1, -1) if unbatched else x
        shape = (x.shape[0], self.hidden_size)
        states = check_hidden_states(name, hx, self.state_names, shape[1:] if unbatched else shape,
                                     self.weight_ih.dtype)
        states = zero_states(len(self.state_names), shape, x.dtype) if states is None else [
            s.reshape(shape) for s in states]
        new = self._step(linear(x, self.weight_ih, self.bias_ih), states[0] if len(states) == 1 else tuple(states),
                         self.weight_hh, self.bias_hh)
        if unbatched:
            new = tuple(s.reshape(-1) for s in new) if isinstance(new, tuple) else new.reshape(-1)
        return new

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of an Elman RNN:  h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu.

    input: (B, input_size) or (input_size,)   hx: (B, hidden_size) or None (zeros)   -> h': (B, hidden_size)
    weight_ih: (hidden_size, input_size)   weight_hh: (hidden_size, hidden_size)   biases: (hidden_size,)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        check_nonlinearity(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return rnn_step(x_proj, state, weight_hh, bias_hh, self.nonlinearity)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity}")


class LSTMCell(_CellBase):
    """One LSTM step (the equations are in lstm_step).

    input: (B, input_size)   hx: (h_0, c_0), each (B, hidden_size), or None   -> (h', c')
    weight_ih: (4 * hidden_size, input_size), rows [W_ii; W_if; W_ig; W_io]
    weight_hh: (4 * hidden_size, hidden_size), rows [W_hi; W_hf; W_hg; W_ho]   biases: (4 * hidden_size,)
    """

    num_gates = 4
    state_names = ("h_0", "c_0")

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias)

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return lstm_step(x_proj, state, weight_hh, bias_hh)


class GRUCell(_CellBase):
    """One GRU step (both variants' equations and the update-gate conventions are in gru_step).

    input: (B, input_size)   hx: (B, hidden_size) or None   -> h': (B, hidden_size)
    weight_ih: (3 * hidden_size, input_size), rows [W_ir; W_iz; W_in]
    weight_hh: (3 * hidden_size, hidden_size), rows [W_hr; W_hz; W_hn]   biases: (3 * hidden_size,)
    reset_after=True is PyTorch's GRUCell; False is Cho et al. 2014's variant, which PyTorch does
    not have.
    """

    num_gates = 3

    def __init__(self, input_size, hidden_size, bias=True, reset_after=True):
        super().__init__(input_size, hidden_size, bias)
        self.reset_after = reset_after

    def _step(self, x_proj, state, weight_hh, bias_hh):
        return gru_step(x_proj, state, weight_hh, bias_hh, self.reset_after)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")


# ---------------------------------------------------------------------------------------------
# Parameters and argument checks, shared with the layers (nn/rnn.py)
# ---------------------------------------------------------------------------------------------


def gate_parameters(num_gates, input_size, hidden_size, bias):
    """weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih and bias_hh (G*H,) or None, for
    G = num_gates gates, each drawn from U(-1/sqrt(H), 1/sqrt(H)) as PyTorch initialises them."""
    rows, bound = num_gates * hidden_size, 1.0 / np.sqrt(hidden_size)
    return (uniform_parameter((rows, input_size), bound), uniform_parameter((rows, hidden_size), bound),
            uniform_parameter((rows,), bound) if bias else None, uniform_parameter((rows,), bound) if bias else None)


def check_hidden_states(owner, hx, state_names, shape, dtype):
    """The one check of a hidden state argument, for cells and layers: hx is None, one tensor (one
    state name), or a pair (two names, the LSTM's (h_0, c_0)); each must have `shape` and `dtype`.
    Returns None for None, else the list of states as Tensors."""
    if hx is None:
        return None
    pair = len(state_names) == 2
    if isinstance(hx, (tuple, list)) != pair:
        wanted = f"a pair ({', '.join(state_names)}) of tensors" if pair else "one tensor"
        raise TypeError(f"{owner}: hx must be {wanted}, got {type(hx).__name__}")
    states = list(hx) if pair else [hx]
    if len(states) != len(state_names):
        raise ValueError(f"{owner}: hx must be a pair ({', '.join(state_names)}), got {len(states)} tensor(s)")
    checked = []
    for name, state in zip(state_names, states):
        state = state if isinstance(state, Tensor) else Tensor(state)
        if state.shape != tuple(shape):
            raise ValueError(f"{owner}: {name} must have shape {tuple(shape)}, got {state.shape}")
        check_dtype(owner, name, state, dtype)
        checked.append(state)
    return checked


def check_dtype(owner, name, tensor, dtype):
    """Refuse a tensor whose dtype differs from the parameters' (as PyTorch does): running a float32
    layer on float64 or integer data would silently compute in another precision."""
    if tensor.dtype != dtype:
        raise TypeError(f"{owner}: {name} must have dtype {np.dtype(dtype)} (the parameters' dtype), got "
                        f"{tensor.dtype}; convert it with ts.tensor(..., dtype=np.{np.dtype(dtype)})")


def zero_states(count, shape, dtype):
    """`count` zero tensors of `shape`: the hidden state(s) when hx is None."""
    return [Tensor._wrap(np.zeros(shape, dtype=dtype)) for _ in range(count)]


def check_positive(name, value, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")


def check_nonlinearity(nonlinearity, owner):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{owner}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
