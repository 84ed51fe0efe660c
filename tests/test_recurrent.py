"""The recurrent cells and layers: gradients against finite differences (Hypothesis gradcheck, float64,
tiny random sizes, every layer configuration, with and without lengths=), the GRU variant PyTorch does
not have against its equations written in numpy, Chung et al.'s update-gate convention, output and state
layout, dropout between layers, initialisation, and flat memory over 1,000 training steps.

Agreement with PyTorch is in tests/test_torch_parity.py, hand-derived values in
tests/test_recurrent_golden.py, lengths= against sequences run alone in tests/test_lengths.py.
"""

import gc
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.nn as nn

LAYER_KINDS = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {"reset_after": True}),
    ("GRU", {"reset_after": False}),
]
LAYER_IDS = ["RNN_tanh", "RNN_relu", "LSTM", "GRU_reset_after", "GRU_reset_before"]
CELL_KINDS = [
    ("RNNCell", {"nonlinearity": "tanh"}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("LSTMCell", {}),
    ("GRUCell", {"reset_after": True}),
    ("GRUCell", {"reset_after": False}),
]
CELL_IDS = ["RNNCell_tanh", "RNNCell_relu", "LSTMCell", "GRUCell_reset_after", "GRUCell_reset_before"]

# The layer gradchecks are parametrised 20 ways, so each runs half of the profile's examples
# (12 under CI's 25) to keep this file to tens of seconds.
layer_settings = settings(max_examples=max(3, settings.default.max_examples // 2))


def joined(values):
    """One tensor out of several (gradcheck wants one output); a random cotangent on the join is a
    random cotangent on every piece."""
    return ts.concat([value.reshape(-1) for value in values])


def as_list(value):
    return list(value) if isinstance(value, tuple) else [value]


# ---------------------------------------------------------------------------------------------
# Gradients against finite differences
# ---------------------------------------------------------------------------------------------


@given(
    batch=st.integers(1, 3),
    input_size=st.integers(1, 3),
    hidden_size=st.integers(1, 3),
    bias=st.booleans(),
    hx_given=st.booleans(),
    unbatched=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
@pytest.mark.parametrize("cell,options", CELL_KINDS, ids=CELL_IDS)
def test_cell_gradients_match_finite_differences(
    float64, cell, options, batch, input_size, hidden_size, bias, hx_given, unbatched, seed
):
    rng = np.random.default_rng(seed)
    ts.manual_seed(seed)
    module = getattr(nn, cell)(input_size, hidden_size, bias=bias, **options)
    batch_shape = () if unbatched else (batch,)
    x = ts.tensor(rng.standard_normal(batch_shape + (input_size,)), requires_grad=True)
    state_count = 2 if cell == "LSTMCell" else 1
    hx = [ts.tensor(rng.standard_normal(batch_shape + (hidden_size,)), requires_grad=True) for _ in range(state_count)]
    hx = hx if hx_given else []

    def fn(x, *states_and_parameters):
        states = states_and_parameters[: len(hx)]
        argument = None if not states else (tuple(states) if state_count == 2 else states[0])
        return joined(as_list(module(x, argument)))

    assert ts.gradcheck(fn, [x, *hx, *module.parameters()])


@layer_settings
@given(
    seq_len=st.integers(1, 4),
    batch=st.integers(1, 3),
    input_size=st.integers(1, 3),
    hidden_size=st.integers(1, 3),
    batch_first=st.booleans(),
    bias=st.booleans(),
    hx_given=st.booleans(),
    layout=st.sampled_from(["batched", "lengths", "unbatched"]),
    seed=st.integers(0, 2**32 - 1),
)
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (1, True), (2, False), (2, True)],
                         ids=["1_layer", "1_layer_bidirectional", "2_layers", "2_layers_bidirectional"])
@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_layer_gradients_match_finite_differences(
    float64, mode, options, num_layers, bidirectional, seq_len, batch, input_size, hidden_size, batch_first, bias,
    hx_given, layout, seed,
):
    rng = np.random.default_rng(seed)
    ts.manual_seed(seed)
    module = getattr(nn, mode)(input_size, hidden_size, num_layers=num_layers, bias=bias, batch_first=batch_first,
                               bidirectional=bidirectional, **options)
    directions = 2 if bidirectional else 1
    if layout == "unbatched":
        x_shape, state_shape = (seq_len, input_size), (num_layers * directions, hidden_size)
    else:
        x_shape = (batch, seq_len, input_size) if batch_first else (seq_len, batch, input_size)
        state_shape = (num_layers * directions, batch, hidden_size)
    x = ts.tensor(rng.standard_normal(x_shape), requires_grad=True)
    state_count = 2 if mode == "LSTM" else 1
    hx = [ts.tensor(rng.standard_normal(state_shape), requires_grad=True) for _ in range(state_count)]
    hx = hx if hx_given else []
    lengths = rng.integers(1, seq_len + 1, size=batch) if layout == "lengths" else None

    def fn(x, *states_and_parameters):
        states = states_and_parameters[: len(hx)]
        argument = None if not states else (tuple(states) if state_count == 2 else states[0])
        output, final = module(x, argument, lengths=lengths)
        return joined([output, *as_list(final)])

    assert ts.gradcheck(fn, [x, *hx, *module.parameters()])


# ---------------------------------------------------------------------------------------------
# The GRU variant PyTorch does not have, the two biases of n, and Chung et al.'s update-gate convention
# ---------------------------------------------------------------------------------------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def cho_gru_in_numpy(x, h, W_ih, W_hh, b_ih, b_hh):
    """The original GRU (Cho et al. 2014, eqs. 5-8), reset applied before the recurrent matmul,
    written directly from the equations: x (T, B, I), h (B, H); rows of W stacked r, z, n."""
    W_ir, W_iz, W_in = np.split(W_ih, 3)
    W_hr, W_hz, W_hn = np.split(W_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    outputs = []
    for x_t in x:
        r = sigmoid(x_t @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
        z = sigmoid(x_t @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
        n = np.tanh(x_t @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
        h = (1 - z) * n + z * h
        outputs.append(h)
    return np.stack(outputs), h


@pytest.mark.parametrize("cell", [False, True], ids=["layer", "cell"])
def test_gru_reset_before_matches_the_original_equations(float64, cell):
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((5, 3, 4)), rng.standard_normal((3, 2))
    if cell:
        module = nn.GRUCell(4, 2, reset_after=False)
        weights = [module.weight_ih, module.weight_hh, module.bias_ih, module.bias_hh]
        output = ts.stack([module(ts.tensor(x[0]), ts.tensor(h0))])
        x = x[:1]
    else:
        module = nn.GRU(4, 2, reset_after=False)
        weights = [module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0]
        output, _ = module(ts.tensor(x), ts.tensor(h0[None]))
    expected, _ = cho_gru_in_numpy(x, h0, *[w.numpy() for w in weights])
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_gru_variants_differ_when_the_reset_gate_matters(float64):
    """With b_hn != 0 and r != 1 the two candidates differ: r * (W_hn h + b_hn) vs W_hn (r * h) + b_hn."""
    ts.manual_seed(0)
    after, before = nn.GRU(3, 2, reset_after=True), nn.GRU(3, 2, reset_after=False)
    before.load_state_dict(after.state_dict())
    x = ts.randn(4, 2, 3)
    assert not np.allclose(after(x)[0].numpy(), before(x)[0].numpy())


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_candidate_bias_b_hn_cannot_move_into_b_in(float64, reset_after):
    """With reset_after=False, b_in and b_hn are both added outside the reset gate, so only their
    sum matters; with reset_after=True, b_hn sits inside r * (W_hn h + b_hn) and is scaled by r, so
    moving 0.5 of it into b_in changes the output (docs/recurrent.md, the two biases)."""
    ts.manual_seed(0)
    gru = nn.GRU(3, 2, reset_after=reset_after)
    x, h0 = ts.randn(4, 2, 3), ts.randn(1, 2, 2)
    before = gru(x, h0)[0].numpy().copy()
    gru.bias_hh_l0.data[4:] -= 0.5  # rows 4:6 are n's
    gru.bias_ih_l0.data[4:] += 0.5
    change = np.abs(gru(x, h0)[0].numpy() - before).max()
    if reset_after:
        assert change > 1e-2
    else:
        assert change < 1e-12


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_update_gate_maps_to_chung_et_al_by_negating_its_weights(float64, reset_after):
    """Chung et al. 2014 write h_t = (1 - z'_t) h_{t-1} + z'_t h~_t; tinyseq (like PyTorch and Cho
    et al. 2014, eq. 7) writes h_t = z_t h_{t-1} + (1 - z_t) n_t. Negating the z rows of the weights
    and biases turns one into the other, since sigmoid(-a) = 1 - sigmoid(a). Here Chung et al.'s form
    runs in numpy."""
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 2))
    gru = nn.GRU(3, 2, reset_after=reset_after)
    gru_output, _ = gru(ts.tensor(x), ts.tensor(h[None]))

    W_ih, W_hh, b_ih, b_hh = (p.numpy().copy() for p in gru.parameters())
    z_rows = slice(2, 4)
    for chung_weight in (W_ih, W_hh, b_ih, b_hh):
        chung_weight[z_rows] *= -1  # Chung et al.'s z' = sigmoid(-a) = 1 - z
    for x_t in x:
        r = sigmoid(x_t @ W_ih[0:2].T + b_ih[0:2] + h @ W_hh[0:2].T + b_hh[0:2])
        z_chung = sigmoid(x_t @ W_ih[z_rows].T + b_ih[z_rows] + h @ W_hh[z_rows].T + b_hh[z_rows])
        if reset_after:
            candidate = np.tanh(x_t @ W_ih[4:].T + b_ih[4:] + r * (h @ W_hh[4:].T + b_hh[4:]))
        else:
            candidate = np.tanh(x_t @ W_ih[4:].T + b_ih[4:] + (r * h) @ W_hh[4:].T + b_hh[4:])
        h = (1 - z_chung) * h + z_chung * candidate
    np.testing.assert_allclose(gru_output.numpy()[-1], h, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Layout: shapes, h_n rows, batch_first, unbatched, default hx, cells against layers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_output_and_state_shapes_follow_pytorch(mode, options):
    module = getattr(nn, mode)(4, 3, num_layers=2, bidirectional=True, **options)
    output, final = module(ts.randn(6, 5, 4))
    assert output.shape == (6, 5, 6)
    for state in as_list(final):
        assert state.shape == (4, 5, 3)
    output, final = module(ts.randn(6, 4))
    assert output.shape == (6, 6)
    for state in as_list(final):
        assert state.shape == (4, 3)


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_h_n_rows_are_layer_times_directions_plus_direction(mode, options):
    """The last layer's forward state is the output's last step (first half of the features);
    its reverse state is the output's first step (second half)."""
    module = getattr(nn, mode)(2, 3, num_layers=2, bidirectional=True, **options)
    output, final = module(ts.randn(5, 4, 2))
    h_n = as_list(final)[0].numpy()
    np.testing.assert_array_equal(h_n[2], output.numpy()[-1, :, :3])
    np.testing.assert_array_equal(h_n[3], output.numpy()[0, :, 3:])


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_batch_first_is_the_same_computation_transposed(mode, options):
    ts.manual_seed(0)
    time_first = getattr(nn, mode)(2, 3, num_layers=2, bidirectional=True, **options)
    batch_first = getattr(nn, mode)(2, 3, num_layers=2, bidirectional=True, batch_first=True, **options)
    batch_first.load_state_dict(time_first.state_dict())
    x = ts.randn(5, 4, 2)
    output, final = time_first(x)
    output_bf, final_bf = batch_first(x.transpose(0, 1))
    np.testing.assert_allclose(output_bf.numpy(), output.numpy().transpose(1, 0, 2), rtol=1e-6)
    for state, state_bf in zip(as_list(final), as_list(final_bf)):  # states stay (layers * directions, B, H)
        np.testing.assert_allclose(state_bf.numpy(), state.numpy(), rtol=1e-6)


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_unbatched_input_is_a_batch_of_one(mode, options):
    module = getattr(nn, mode)(2, 3, num_layers=2, bidirectional=True, **options)
    x = ts.randn(5, 2)
    output, final = module(x)
    output_batched, final_batched = module(x.reshape(5, 1, 2))
    np.testing.assert_allclose(output.numpy(), output_batched.numpy()[:, 0], rtol=1e-6)
    for state, state_batched in zip(as_list(final), as_list(final_batched)):
        np.testing.assert_allclose(state.numpy(), state_batched.numpy()[:, 0], rtol=1e-6)


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_missing_hx_means_zeros(mode, options):
    module = getattr(nn, mode)(2, 3, num_layers=2, **options)
    x = ts.randn(4, 3, 2)
    zeros = ts.zeros(2, 3, 3)
    output, _ = module(x)
    output_zeros, _ = module(x, (zeros, zeros) if mode == "LSTM" else zeros)
    np.testing.assert_array_equal(output.numpy(), output_zeros.numpy())


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_one_layer_equals_its_cell_stepped_by_hand(float64, mode, options):
    layer = getattr(nn, mode)(3, 2, **options)
    cell = getattr(nn, mode + "Cell")(3, 2, **options)
    cell.load_state_dict({name[: -len("_l0")]: value for name, value in layer.state_dict().items()})
    x = ts.randn(4, 2, 3)
    output, final = layer(x)
    state = None
    for x_t in x.unbind(0):
        state = cell(x_t, state)
    np.testing.assert_allclose(as_list(final)[-1].numpy()[0], as_list(state)[-1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(output.numpy()[-1], as_list(state)[0].numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Dropout between layers, initialisation, the default dtype
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_dropout_acts_between_layers_in_training_only(mode, options):
    ts.manual_seed(0)
    module = getattr(nn, mode)(2, 3, num_layers=2, dropout=0.5, **options)
    x = ts.randn(5, 4, 2)
    first, second = module(x)[0].numpy(), module(x)[0].numpy()
    assert not np.allclose(first, second), "training mode: two calls should draw different masks"
    module.eval()
    np.testing.assert_array_equal(module(x)[0].numpy(), module(x)[0].numpy())


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_dropout_of_one_cuts_the_first_layer_off(mode, options):
    """With p = 1 the second layer sees only zeros, so its output no longer depends on the input."""
    module = getattr(nn, mode)(2, 3, num_layers=2, dropout=1.0, **options)
    first, second = module(ts.randn(5, 4, 2))[0].numpy(), module(ts.randn(5, 4, 2))[0].numpy()
    np.testing.assert_allclose(first, second, rtol=1e-6)


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_dropout_is_not_applied_to_a_single_layers_output(mode, options):
    """As in PyTorch, dropout acts between layers only: a one-layer module is deterministic."""
    module = getattr(nn, mode)(2, 3, num_layers=1, dropout=0.5, **options)
    x = ts.randn(5, 4, 2)
    np.testing.assert_array_equal(module(x)[0].numpy(), module(x)[0].numpy())


@pytest.mark.parametrize("mode,options", LAYER_KINDS + CELL_KINDS, ids=LAYER_IDS + CELL_IDS)
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(mode, options):
    ts.manual_seed(0)
    hidden_size = 25
    module = getattr(nn, mode)(3, hidden_size, **options)
    values = np.concatenate([p.numpy().ravel() for p in module.parameters()])
    bound = 1 / np.sqrt(hidden_size)  # PyTorch: U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every weight
    assert np.abs(values).max() <= bound
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound
    assert abs(values.mean()) < 0.05 * bound


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameters_and_outputs_take_the_default_dtype(dtype):
    previous = ts.get_default_dtype()
    ts.set_default_dtype(dtype)
    try:
        module = nn.LSTM(2, 3)
        output, (h_n, c_n) = module(ts.randn(4, 2, 2), lengths=[4, 2])
    finally:
        ts.set_default_dtype(previous)
    assert all(p.dtype == dtype for p in module.parameters())
    assert output.dtype == h_n.dtype == c_n.dtype == dtype


# ---------------------------------------------------------------------------------------------
# Memory: every step's graph is freed
# ---------------------------------------------------------------------------------------------


def test_training_for_1000_steps_keeps_memory_flat():
    """After backward() the graph is freed; nothing of a step should outlive it. Growth over 800 steps
    must stay below what a single step's graph takes, so even one graph leaked every 800 steps fails."""
    ts.manual_seed(0)
    model = nn.LSTM(3, 4)
    head = nn.Linear(4, 1)
    parameters = list(model.parameters()) + list(head.parameters())
    rng = np.random.default_rng(0)
    x = ts.tensor(rng.standard_normal((6, 2, 3)))
    target = ts.tensor(rng.standard_normal((6, 2, 1)))

    def step():
        output, _ = model(x)
        loss = ((head(output) - target) ** 2).mean()
        for parameter in parameters:
            parameter.grad = None
        loss.backward()
        for parameter in parameters:
            parameter.data -= 0.01 * parameter.grad  # plain SGD, written out
        return loss.item()

    gc.collect()
    tracemalloc.start()
    try:
        before_graph = tracemalloc.get_traced_memory()[0]
        output, _ = model(x)
        loss = ((head(output) - target) ** 2).mean()
        one_graph = tracemalloc.get_traced_memory()[0] - before_graph
        del output, loss
        first_loss = step()
        for _ in range(199):
            step()
        gc.collect()
        settled = tracemalloc.get_traced_memory()[0]
        for _ in range(800):
            last_loss = step()
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - settled
    finally:
        tracemalloc.stop()
    assert last_loss < first_loss, "the model should learn something"
    assert growth < one_graph, f"memory grew by {growth} bytes over 800 steps (one step's graph: {one_graph})"
