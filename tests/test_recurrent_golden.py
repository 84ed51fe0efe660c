"""Golden values worked out by hand: a small RNN example with integer weights, one LSTM step and one GRU step (both
variants). Each test shows the derivation in its comments; the weights are chosen so that every
gate lands on a value one can compute on paper, and so that a wrong gate order or a wrong variant
gives a different answer.

Tricks used below: sigmoid(ln 3) = 3 / (3 + 1) = 3/4, sigmoid(-ln 3) = 1/4, and
tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 3/5.
"""

import math

import numpy as np
import pytest

import tinyseq as ts
import tinyseq.nn as nn
from tinyseq.ops import linear

LN2, LN3 = math.log(2), math.log(3)

WORKED_INPUTS = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
# A worked RNN example: two inputs, two hidden units, every weight 1, no bias, zero initial memory.
#   h_1 = W x_1 + U h_0 = [1+1, 1+1] + 0        = [2, 2]
#   h_2 = W x_2 + U h_1 = [2, 2] + [2+2, 2+2]   = [6, 6]
#   h_3 = W x_3 + U h_2 = [4, 4] + [6+6, 6+6]   = [16, 16]
# An all-ones output layer V sums the two hidden units: y_t = V h_t = [4, 4], [12, 12], [32, 32].
WORKED_HIDDEN = np.array([[2.0, 2.0], [6.0, 6.0], [16.0, 16.0]])
WORKED_OUTPUTS = np.array([[4.0, 4.0], [12.0, 12.0], [32.0, 32.0]])
# Gradient of L = sum(y_3) with respect to each input. With linear units,
#   h_3 = W x_3 + U W x_2 + U^2 W x_1,   so   dL/dx_k = W^T (U^T)^(3-k) V^T [1, 1].
# V^T [1, 1] = [2, 2]; each W^T or U^T (all ones, 2 x 2) doubles it again:
#   dL/dx_3 = W^T [2, 2] = [4, 4],   dL/dx_2 = W^T U^T [2, 2] = [8, 8],   dL/dx_1 = [16, 16].
WORKED_INPUT_GRADIENT = np.array([[16.0, 16.0], [8.0, 8.0], [4.0, 4.0]])


def test_worked_rnn_with_linear_units_composed_from_ops(float64):
    """The worked example's linear RNN, h_t = W x_t + U h_{t-1}, written as a loop over tinyseq ops
    (tinyseq has no linear nonlinearity: the layers offer tanh and relu)."""
    W, U, V = ts.ones(2, 2), ts.ones(2, 2), ts.ones(2, 2)
    x = ts.tensor(WORKED_INPUTS, requires_grad=True)
    h = ts.zeros(2)
    hidden, outputs = [], []
    for x_t in x.unbind(0):
        h = linear(x_t, W) + linear(h, U)
        hidden.append(h)
        outputs.append(linear(h, V))
    np.testing.assert_array_equal(ts.stack(hidden).numpy(), WORKED_HIDDEN)
    np.testing.assert_array_equal(ts.stack(outputs).numpy(), WORKED_OUTPUTS)
    outputs[-1].sum().backward()
    np.testing.assert_array_equal(x.grad, WORKED_INPUT_GRADIENT)


@pytest.mark.parametrize("batch_first", [False, True])
def test_worked_rnn_through_the_rnn_layer_with_relu(float64, batch_first):
    """The same example through nn.RNN. Every pre-activation here is positive (inputs and weights
    are, and h_0 = 0), and relu(a) = a for a > 0, so relu units are the example's linear units."""
    rnn = nn.RNN(2, 2, nonlinearity="relu", bias=False, batch_first=batch_first)
    readout = nn.Linear(2, 2, bias=False)
    rnn.load_state_dict({"weight_ih_l0": np.ones((2, 2)), "weight_hh_l0": np.ones((2, 2))})
    readout.load_state_dict({"weight": np.ones((2, 2))})
    x = ts.tensor(WORKED_INPUTS[None] if batch_first else WORKED_INPUTS[:, None], requires_grad=True)
    hidden, h_n = rnn(x)  # one sequence of three steps, batch of one
    outputs = readout(hidden)
    squeeze = (lambda a: a[0]) if batch_first else (lambda a: a[:, 0])
    np.testing.assert_array_equal(squeeze(hidden.numpy()), WORKED_HIDDEN)
    np.testing.assert_array_equal(squeeze(outputs.numpy()), WORKED_OUTPUTS)
    np.testing.assert_array_equal(h_n.numpy(), [[[16.0, 16.0]]])
    squeeze(outputs)[-1].sum().backward()
    np.testing.assert_array_equal(squeeze(x.grad), WORKED_INPUT_GRADIENT)
    # dL/dW_hh sums dL/dh_t outer h_{t-1} over the steps: dL/dh_3 = V^T [1, 1] = [2, 2] and
    # dL/dh_2 = U^T [2, 2] = [4, 4] (h_0 = 0 adds nothing), so every entry is 2 * 6 + 4 * 2 = 20.
    np.testing.assert_array_equal(rnn.weight_hh_l0.grad, np.full((2, 2), 20.0))


def test_worked_rnn_cell_steps(float64):
    cell = nn.RNNCell(2, 2, bias=False, nonlinearity="relu")
    cell.load_state_dict({"weight_ih": np.ones((2, 2)), "weight_hh": np.ones((2, 2))})
    h = None
    for x_t, expected in zip(WORKED_INPUTS, WORKED_HIDDEN):
        h = cell(ts.tensor(x_t), h)
        np.testing.assert_array_equal(h.numpy(), expected)


# One LSTM step, input_size = hidden_size = 1, x_1 = 1, h_0 = 1, C_0 = 1.
# Each gate's pre-activation is W_i* x + W_h* h + b_i* + b_h*; with x = h = 1 that is the sum of its
# four parameters. Rows in PyTorch's order i, f, g, o:
LSTM_WEIGHTS = {
    "weight_ih": np.array([[LN3], [0.0], [LN2], [0.5]]),
    "weight_hh": np.array([[0.0], [-LN3], [0.0], [0.5]]),
    "bias_ih": np.array([0.0, 0.0, 0.0, LN3 - 0.5]),
    "bias_hh": np.array([0.0, 0.0, 0.0, -0.5]),
}
#   i_1  = sigmoid(ln 3 + 0)                = 3/4
#   f_1  = sigmoid(0 - ln 3)                = 1/4
#   C~_1 = tanh(ln 2)                       = 3/5
#   o_1  = sigmoid(0.5 + 0.5 + ln 3 - 1)    = sigmoid(ln 3) = 3/4
#   C_1  = f_1 C_0 + i_1 C~_1 = 1/4 + 9/20  = 7/10
#   h_1  = o_1 tanh(C_1)      = 3/4 tanh(0.7) = 0.45330...
# Swapping any two gates changes the answer: i <-> f gives C_1 = 3/4 + 3/20 = 9/10, g <-> o gives
# C~_1 = tanh(ln 3) = 4/5.
LSTM_C1 = 0.7
LSTM_H1 = 0.75 * math.tanh(0.7)
# And one gradient: dC_1/dC_0 = f_1 = 1/4, dh_1/dC_0 = o_1 (1 - tanh(C_1)^2) f_1.
LSTM_DC1_DC0 = 0.25
LSTM_DH1_DC0 = 0.75 * (1 - math.tanh(0.7) ** 2) * 0.25


def test_lstm_cell_step_by_hand(float64):
    cell = nn.LSTMCell(1, 1)
    cell.load_state_dict(LSTM_WEIGHTS)
    c0 = ts.tensor([[1.0]], requires_grad=True)
    h1, c1 = cell(ts.tensor([[1.0]]), (ts.tensor([[1.0]]), c0))
    np.testing.assert_allclose(c1.numpy(), [[LSTM_C1]], rtol=1e-15)
    np.testing.assert_allclose(h1.numpy(), [[LSTM_H1]], rtol=1e-15)
    c1.sum().backward()
    np.testing.assert_allclose(c0.grad, [[LSTM_DC1_DC0]], rtol=1e-15)


def test_lstm_layer_step_by_hand(float64):
    lstm = nn.LSTM(1, 1)
    lstm.load_state_dict({f"{name}_l0": value for name, value in LSTM_WEIGHTS.items()})
    c0 = ts.tensor([[[1.0]]], requires_grad=True)
    output, (h_n, c_n) = lstm(ts.tensor([[[1.0]]]), (ts.tensor([[[1.0]]]), c0))
    np.testing.assert_allclose(output.numpy(), [[[LSTM_H1]]], rtol=1e-15)
    np.testing.assert_allclose(h_n.numpy(), [[[LSTM_H1]]], rtol=1e-15)
    np.testing.assert_allclose(c_n.numpy(), [[[LSTM_C1]]], rtol=1e-15)
    h_n.sum().backward()
    np.testing.assert_allclose(c0.grad, [[[LSTM_DH1_DC0]]], rtol=1e-14)


# One GRU step, input_size = hidden_size = 1, x_1 = 1, h_0 = 1. Rows in PyTorch's order r, z, n:
GRU_WEIGHTS = {
    "weight_ih": np.array([[LN3], [-LN3], [1.0]]),
    "weight_hh": np.array([[0.0], [0.0], [2.0]]),
    "bias_ih": np.array([0.0, 0.0, 0.0]),
    "bias_hh": np.array([0.0, 0.0, -1.0]),
}
#   r_1 = sigmoid(ln 3)  = 3/4          z_1 = sigmoid(-ln 3) = 1/4
# reset_after=True (PyTorch):  n_1 = tanh(W_in x + b_in + r_1 (W_hn h_0 + b_hn)) = tanh(1 + 3/4 (2 - 1)) = tanh(1.75)
# reset_after=False (Cho):   n_1 = tanh(W_in x + b_in + W_hn (r_1 h_0) + b_hn) = tanh(1 + 2 * 3/4 - 1) = tanh(1.5)
#   h_1 = (1 - z_1) n_1 + z_1 h_0 = 3/4 n_1 + 1/4
# In Chung et al.'s convention, z'_1 = 1 - z_1 = 3/4 and h_1 = (1 - z'_1) h_0 + z'_1 h~_1: the same number.
GRU_H1 = {True: 0.75 * math.tanh(1.75) + 0.25, False: 0.75 * math.tanh(1.5) + 0.25}
# dh_1/dh_0 = z_1 + (1 - z_1) (1 - n_1^2) dn_pre/dh_0, where r and z do not depend on h_0 here
# (W_hr = W_hz = 0): dn_pre/dh_0 = r_1 W_hn = 3/2 in both variants.
GRU_DH1_DH0 = {
    True: 0.25 + 0.75 * (1 - math.tanh(1.75) ** 2) * 1.5,
    False: 0.25 + 0.75 * (1 - math.tanh(1.5) ** 2) * 1.5,
}


@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
def test_gru_cell_step_by_hand(float64, reset_after):
    cell = nn.GRUCell(1, 1, reset_after=reset_after)
    cell.load_state_dict(GRU_WEIGHTS)
    h0 = ts.tensor([[1.0]], requires_grad=True)
    h1 = cell(ts.tensor([[1.0]]), h0)
    np.testing.assert_allclose(h1.numpy(), [[GRU_H1[reset_after]]], rtol=1e-15)
    h1.sum().backward()
    np.testing.assert_allclose(h0.grad, [[GRU_DH1_DH0[reset_after]]], rtol=1e-14)


@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
def test_gru_layer_step_by_hand(float64, reset_after):
    gru = nn.GRU(1, 1, reset_after=reset_after)
    gru.load_state_dict({f"{name}_l0": value for name, value in GRU_WEIGHTS.items()})
    h0 = ts.tensor([[[1.0]]], requires_grad=True)
    output, h_n = gru(ts.tensor([[[1.0]]]), h0)
    np.testing.assert_allclose(output.numpy(), [[[GRU_H1[reset_after]]]], rtol=1e-15)
    np.testing.assert_allclose(h_n.numpy(), [[[GRU_H1[reset_after]]]], rtol=1e-15)
    h_n.sum().backward()
    np.testing.assert_allclose(h0.grad, [[[GRU_DH1_DH0[reset_after]]]], rtol=1e-14)
