"""Bad input to the recurrent cells and layers fails early with a ValueError or TypeError whose message
names the argument, what was expected and what was given (never a numpy error from deep inside)."""

import re

import numpy as np
import pytest

import tinyseq as ts
import tinyseq.nn as nn

LAYERS = ["RNN", "LSTM", "GRU"]
CELLS = ["RNNCell", "LSTMCell", "GRUCell"]


def zeros_state(mode, shape):
    return (ts.zeros(*shape), ts.zeros(*shape)) if mode in ("LSTM", "LSTMCell") else ts.zeros(*shape)


# ---------------------------------------------------------------------------------------------
# Constructor arguments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize("dropout", [-0.1, 1.5, "0.5"])
def test_dropout_outside_zero_one_is_refused(mode, dropout):
    with pytest.raises(ValueError, match=rf"{mode}: dropout must be a number in \[0, 1\], got {dropout!r}"):
        getattr(nn, mode)(2, 3, num_layers=2, dropout=dropout)


@pytest.mark.parametrize("mode", ["RNN", "RNNCell"])
@pytest.mark.parametrize("nonlinearity", ["sigmoid", "linear", "Tanh", None])
def test_unknown_nonlinearity_is_refused(mode, nonlinearity):
    with pytest.raises(ValueError, match=rf"{mode}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"):
        getattr(nn, mode)(2, 3, nonlinearity=nonlinearity)


@pytest.mark.parametrize("mode", LAYERS + CELLS)
@pytest.mark.parametrize("argument", ["input_size", "hidden_size"])
@pytest.mark.parametrize("value", [0, -1, 2.0, True])
def test_sizes_must_be_positive_integers(mode, argument, value):
    sizes = {"input_size": 2, "hidden_size": 3, argument: value}
    with pytest.raises(ValueError, match=rf"{mode}: {argument} must be a positive integer, got {value!r}"):
        getattr(nn, mode)(**sizes)


@pytest.mark.parametrize("mode", LAYERS)
def test_num_layers_must_be_a_positive_integer(mode):
    with pytest.raises(ValueError, match=rf"{mode}: num_layers must be a positive integer, got 0"):
        getattr(nn, mode)(2, 3, num_layers=0)


# ---------------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize(
    "shape", [(3,), (1, 4, 3, 2), (4, 3, 5), (4, 5)], ids=["1d", "4d", "features", "unbatched_features"]
)
def test_layer_input_of_the_wrong_rank_or_feature_size_is_refused(mode, shape):
    module = getattr(nn, mode)(2, 3)
    message = (
        f"{mode}: input must have shape (seq_len, batch, input_size) or (seq_len, input_size) "
        f"with input_size=2, got {shape}"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        module(ts.zeros(*shape))


def test_batch_first_layer_names_its_layout():
    with pytest.raises(ValueError, match=r"input must have shape \(batch, seq_len, input_size\)"):
        nn.GRU(2, 3, batch_first=True)(ts.zeros(4, 3, 5))


@pytest.mark.parametrize("mode", LAYERS)
def test_layer_input_without_time_steps_is_refused(mode):
    with pytest.raises(ValueError, match=rf"{mode}: input must have at least one time step, got shape \(0, 2, 2\)"):
        getattr(nn, mode)(2, 3)(ts.zeros(0, 2, 2))


@pytest.mark.parametrize("mode", CELLS)
@pytest.mark.parametrize("shape", [(4, 3, 2), (4, 5), (5,)], ids=["3d", "features", "unbatched_features"])
def test_cell_input_of_the_wrong_rank_or_feature_size_is_refused(mode, shape):
    with pytest.raises(ValueError, match=rf"{mode}: input must have shape \(batch, 2\) or \(2,\), got \({shape[0]},"):
        getattr(nn, mode)(2, 3)(ts.zeros(*shape))


# ---------------------------------------------------------------------------------------------
# hx
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,label", [("RNN", "hx"), ("GRU", "hx"), ("LSTM", "h_0")],
)
@pytest.mark.parametrize(
    "state_shape", [(1, 3, 3), (2, 4, 3), (1, 4, 4), (4, 3)], ids=["batch", "layers", "hidden", "rank"]
)
def test_layer_hx_of_the_wrong_shape_is_refused(mode, label, state_shape):
    module = getattr(nn, mode)(2, 3)
    with pytest.raises(ValueError, match=re.escape(f"{mode}: {label} must have shape (1, 4, 3), got {state_shape}")):
        module(ts.zeros(5, 4, 2), zeros_state(mode, state_shape))


def test_lstm_c_0_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"LSTM: c_0 must have shape \(2, 4, 3\), got \(2, 4, 5\)"):
        nn.LSTM(2, 3, bidirectional=True)(ts.zeros(5, 4, 2), (ts.zeros(2, 4, 3), ts.zeros(2, 4, 5)))


@pytest.mark.parametrize("mode", LAYERS)
def test_unbatched_input_wants_an_unbatched_hx(mode):
    module = getattr(nn, mode)(2, 3, num_layers=2)
    with pytest.raises(ValueError, match=r"must have shape \(2, 3\), got \(2, 1, 3\)"):
        module(ts.zeros(5, 2), zeros_state(mode, (2, 1, 3)))


def test_lstm_hx_must_be_a_pair():
    lstm = nn.LSTM(2, 3)
    with pytest.raises(TypeError, match=r"LSTM: hx must be a pair \(h_0, c_0\) of tensors, got Tensor"):
        lstm(ts.zeros(5, 4, 2), ts.zeros(1, 4, 3))
    with pytest.raises(ValueError, match=r"LSTM: hx must be a pair \(h_0, c_0\), got 3 tensor\(s\)"):
        lstm(ts.zeros(5, 4, 2), (ts.zeros(1, 4, 3),) * 3)


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_rnn_and_gru_hx_must_be_one_tensor(mode):
    with pytest.raises(TypeError, match=rf"{mode}: hx must be one tensor, got tuple"):
        getattr(nn, mode)(2, 3)(ts.zeros(5, 4, 2), (ts.zeros(1, 4, 3), ts.zeros(1, 4, 3)))


@pytest.mark.parametrize("mode", CELLS)
def test_cell_hx_of_the_wrong_shape_is_refused(mode):
    label = "h_0" if mode == "LSTMCell" else "hx"
    with pytest.raises(ValueError, match=rf"{mode}: {label} must have shape \(4, 3\), got \(5, 3\)"):
        getattr(nn, mode)(2, 3)(ts.zeros(4, 2), zeros_state(mode, (5, 3)))
    with pytest.raises(ValueError, match=rf"{mode}: {label} must have shape \(3,\), got \(1, 3\)"):
        getattr(nn, mode)(2, 3)(ts.zeros(2), zeros_state(mode, (1, 3)))


def test_lstm_cell_hx_must_be_a_pair():
    cell = nn.LSTMCell(2, 3)
    with pytest.raises(TypeError, match=r"LSTMCell: hx must be a pair \(h_0, c_0\) of tensors, got Tensor"):
        cell(ts.zeros(4, 2), ts.zeros(4, 3))
    with pytest.raises(ValueError, match=r"LSTMCell: hx must be a pair \(h_0, c_0\), got 3 tensor\(s\)"):
        cell(ts.zeros(4, 2), (ts.zeros(4, 3),) * 3)


@pytest.mark.parametrize("mode", ["RNNCell", "GRUCell"])
def test_rnn_and_gru_cell_hx_must_be_one_tensor(mode):
    with pytest.raises(TypeError, match=rf"{mode}: hx must be one tensor, got tuple"):
        getattr(nn, mode)(2, 3)(ts.zeros(4, 2), (ts.zeros(4, 3), ts.zeros(4, 3)))


# ---------------------------------------------------------------------------------------------
# lengths
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize(
    "lengths,low,high",
    [([0, 3, 2], 0, 3), ([5, 6, 1], 1, 6), ([-1, 2, 2], -1, 2)],
    ids=["zero", "longer_than_T", "negative"],
)
def test_lengths_outside_one_to_seq_len_are_refused(mode, lengths, low, high):
    with pytest.raises(ValueError, match=rf"{mode}: lengths must each be in \[1, 5\] \(the input's seq_len\), "
                                         rf"got values from {low} to {high}"):
        getattr(nn, mode)(2, 3)(ts.zeros(5, 3, 2), lengths=lengths)


def test_lengths_longer_than_seq_len_are_refused_with_batch_first_too():
    # batch_first input is (batch=3, seq_len=5, features): 5, not 3, bounds the lengths.
    gru = nn.GRU(2, 3, batch_first=True)
    gru(ts.zeros(3, 5, 2), lengths=[5, 4, 4])
    with pytest.raises(ValueError, match=r"lengths must each be in \[1, 5\]"):
        gru(ts.zeros(3, 5, 2), lengths=[6, 4, 4])


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize(
    "lengths,shape", [([3, 2], "(2,)"), ([3, 2, 1, 1], "(4,)"), ([[3, 2, 1]], "(1, 3)"), (4, "()")],
    ids=["too_few", "too_many", "2d", "scalar"],
)
def test_lengths_must_be_one_per_sequence(mode, lengths, shape):
    message = f"{mode}: lengths must hold one length per sequence (3), got shape {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(nn, mode)(2, 3)(ts.zeros(5, 3, 2), lengths=lengths)


@pytest.mark.parametrize("lengths", [[2.5, 1.0, 1.0], [True, True, True]], ids=["fractional", "bool"])
def test_lengths_must_be_integers(lengths):
    with pytest.raises(TypeError, match="LSTM: lengths must be integers, got dtype"):
        nn.LSTM(2, 3)(ts.zeros(5, 3, 2), lengths=lengths)


# ---------------------------------------------------------------------------------------------
# State dicts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", LAYERS + CELLS)
def test_state_dict_with_a_wrong_shape_names_the_parameter(mode):
    module = getattr(nn, mode)(2, 3)
    state = module.state_dict()
    name = next(iter(state))  # the input weight: (gates * 3, 2)
    state[name] = np.zeros((state[name].shape[0], 5))
    with pytest.raises(ValueError, match=rf"state_dict\['{name}'\] has shape \({state[name].shape[0]}, 5\), "
                                         rf"but the parameter's shape is \({state[name].shape[0]}, 2\)"):
        module.load_state_dict(state)


def test_state_dict_of_another_architecture_is_refused_by_name():
    two_layers = nn.LSTM(2, 3, num_layers=2).state_dict()
    message = "unexpected keys ['weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1']"
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.LSTM(2, 3).load_state_dict(two_layers)


# ---------------------------------------------------------------------------------------------
# dtypes: input and hx must have the parameters' dtype (as in PyTorch), never a silent float64 run
# ---------------------------------------------------------------------------------------------


def message(mode, name, expected, actual):
    return re.escape(f"{mode}: {name} must have dtype {expected} (the parameters' dtype), got {actual}")


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int32], ids=["float64", "int64", "int32"])
def test_layer_input_of_another_dtype_is_refused(mode, dtype):
    x = ts.tensor(np.zeros((5, 4, 2)), dtype=dtype)
    with pytest.raises(TypeError, match=message(mode, "input", "float32", np.dtype(dtype))):
        getattr(nn, mode)(2, 3)(x)


@pytest.mark.parametrize("mode", CELLS)
@pytest.mark.parametrize("dtype", [np.float64, np.int64], ids=["float64", "int64"])
def test_cell_input_of_another_dtype_is_refused(mode, dtype):
    x = ts.tensor(np.zeros((4, 2)), dtype=dtype)
    with pytest.raises(TypeError, match=message(mode, "input", "float32", np.dtype(dtype))):
        getattr(nn, mode)(2, 3)(x)


@pytest.mark.parametrize("mode,names", [("RNN", ["hx"]), ("GRU", ["hx"]), ("LSTM", ["h_0", "c_0"])])
def test_layer_hx_of_another_dtype_is_refused(mode, names):
    """A float64 hx used to make the GRU return a float32 output with a float64 h_n."""
    for position, name in enumerate(names):
        states = [ts.zeros(1, 4, 3) for _ in names]
        states[position] = ts.tensor(np.zeros((1, 4, 3)), dtype=np.float64)
        hx = tuple(states) if len(states) == 2 else states[0]
        with pytest.raises(TypeError, match=message(mode, name, "float32", "float64")):
            getattr(nn, mode)(2, 3)(ts.zeros(5, 4, 2), hx)


@pytest.mark.parametrize("mode,names", [("RNNCell", ["hx"]), ("GRUCell", ["hx"]), ("LSTMCell", ["h_0", "c_0"])])
def test_cell_hx_of_another_dtype_is_refused(mode, names):
    for position, name in enumerate(names):
        states = [ts.zeros(4, 3) for _ in names]
        states[position] = ts.tensor(np.zeros((4, 3)), dtype=np.float64)
        hx = tuple(states) if len(states) == 2 else states[0]
        with pytest.raises(TypeError, match=message(mode, name, "float32", "float64")):
            getattr(nn, mode)(2, 3)(ts.zeros(4, 2), hx)


@pytest.mark.parametrize("mode", LAYERS + CELLS)
def test_a_float64_module_refuses_float32_input(float64, mode):
    module = getattr(nn, mode)(2, 3)  # created under the float64 default: float64 parameters
    shape = (4, 2) if mode.endswith("Cell") else (5, 4, 2)
    with pytest.raises(TypeError, match=message(mode, "input", "float64", "float32")):
        module(ts.tensor(np.zeros(shape), dtype=np.float32))


@pytest.mark.parametrize("mode", LAYERS + CELLS)
def test_numpy_float64_input_takes_the_default_dtype_like_ts_tensor(mode):
    """A plain numpy array is converted as ts.tensor converts it (float data -> the default dtype),
    so only a Tensor that was explicitly given another dtype is refused."""
    shape = (4, 2) if mode.endswith("Cell") else (5, 4, 2)
    result = getattr(nn, mode)(2, 3)(np.zeros(shape))
    first = result[0] if isinstance(result, tuple) else result
    assert first.dtype == np.float32


def test_use_reference_path_wants_a_bool():
    with pytest.raises(TypeError, match="use_reference_path: enabled must be True or False, got 'no'"):
        nn.use_reference_path("no")
    assert not nn.is_reference_path_enabled()
