"""The fused recurrence (tinyseq/nn/fused.py) equals the composed reference (nn/cells.py's step
functions run op by op): same outputs, final states and gradients for inputs, initial states and
every parameter, over random layer configurations, with and without lengths=, hx and gradients."""

from contextlib import nullcontext

import numba
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.nn as nn
from tinyseq.nn import fast_tanh, fused

CONFIGS = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {"reset_after": True}),
    ("GRU", {"reset_after": False}),
]


def run(layer, x, hx, lengths, output_grad, state_grads, fused, dtype, with_grad):
    """Forward (and backward, when with_grad) with the given path; returns every value and gradient
    to compare. Without gradients the forward runs under no_grad, where the fused op keeps nothing."""
    layer.zero_grad()
    x = ts.tensor(x, dtype=dtype, requires_grad=with_grad)
    hx = [ts.tensor(h, dtype=dtype, requires_grad=with_grad) for h in hx]
    argument = None if not hx else (tuple(hx) if len(hx) == 2 else hx[0])
    with nn.use_reference_path(not fused), ts.no_grad() if not with_grad else nullcontext():
        output, final = layer(x, hx=argument, lengths=lengths)
    finals = final if isinstance(final, tuple) else (final,)
    if not with_grad:
        assert output.grad_fn is None
        return [output.data] + [s.data for s in finals], []
    loss = (output * ts.tensor(output_grad, dtype=dtype)).sum()
    for state, grad in zip(finals, state_grads):
        loss = loss + (state * ts.tensor(grad, dtype=dtype)).sum()
    loss.backward()
    return (
        [output.data] + [s.data for s in finals],
        [x.grad] + [h.grad for h in hx] + [p.grad for p in layer.parameters()],
    )


@given(
    config=st.sampled_from(CONFIGS),
    seq_len=st.integers(1, 5),
    batch=st.integers(1, 3),
    input_size=st.integers(1, 3),
    hidden_size=st.integers(1, 4),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    bias=st.booleans(),
    use_lengths=st.booleans(),
    hx_given=st.booleans(),
    with_grad=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**16),
)
def test_fused_recurrence_matches_composed_reference(
    config, seq_len, batch, input_size, hidden_size, num_layers, bidirectional, bias, use_lengths, hx_given,
    with_grad, dtype, seed
):
    """Every code path of nn/fused.py: each layer kind, lengths or not, one or two layers and
    directions, hx given or zeros, backward or a no_grad forward, float64 (to 1e-10) and float32."""
    mode, options = config
    rng = np.random.default_rng(seed)
    ts.manual_seed(seed)
    previous = ts.get_default_dtype()
    ts.set_default_dtype(dtype)
    try:
        layer = getattr(nn, mode)(input_size, hidden_size, num_layers=num_layers, bias=bias,
                                  bidirectional=bidirectional, **options)
    finally:
        ts.set_default_dtype(previous)
    directions = 2 if bidirectional else 1
    x = rng.standard_normal((seq_len, batch, input_size))
    state_count = 2 if mode == "LSTM" else 1
    hx = [rng.standard_normal((num_layers * directions, batch, hidden_size)) for _ in range(state_count)]
    lengths = rng.integers(1, seq_len + 1, size=batch) if use_lengths else None
    output_grad = rng.standard_normal((seq_len, batch, directions * hidden_size))
    state_grads = [rng.standard_normal(h.shape) for h in hx]
    hx = hx if hx_given else []

    arguments = (layer, x, hx, lengths, output_grad, state_grads)
    composed_values, composed_grads = run(*arguments, fused=False, dtype=dtype, with_grad=with_grad)
    fused_values, fused_grads = run(*arguments, fused=True, dtype=dtype, with_grad=with_grad)
    tolerance = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for composed, fast in zip(composed_values + composed_grads, fused_values + fused_grads):
        assert fast.dtype == dtype
        np.testing.assert_allclose(fast, composed, **tolerance)


def test_use_reference_path_switches_every_layer_and_restores():
    """The switch picks the path: the fused op records one node (LSTMSequence); the reference
    records the step's ops and stacks their outputs. As a context manager it restores the setting."""
    lstm = nn.LSTM(2, 3)
    x = ts.randn(4, 2, 2, requires_grad=True)
    assert lstm(x)[0].grad_fn == "LSTMSequence"
    with nn.use_reference_path():
        assert nn.is_reference_path_enabled()
        assert lstm(x)[0].grad_fn == "Stack"
        with nn.use_reference_path(False):
            assert lstm(x)[0].grad_fn == "LSTMSequence"
        assert lstm(x)[0].grad_fn == "Stack"
    assert not nn.is_reference_path_enabled()
    nn.use_reference_path(True)  # a plain call sets it until changed
    try:
        assert nn.GRU(2, 3)(x)[0].grad_fn == "Stack"
    finally:
        nn.use_reference_path(False)
    assert nn.GRU(2, 3)(x)[0].grad_fn == "GRUSequence"


@numba.njit
def _gates_by_kind(pre, tanh_start, tanh_stop):
    """The LSTM gates the plain way: sigmoid on every column, tanh on [tanh_start, tanh_stop)."""
    out = np.empty_like(pre)
    for b in range(pre.shape[0]):
        for k in range(pre.shape[1]):
            inside = tanh_start <= k < tanh_stop
            out[b, k] = fast_tanh.tanh(pre[b, k]) if inside else fast_tanh.sigmoid(pre[b, k])
    return out


@given(
    batch=st.integers(1, 4),
    hidden=st.integers(1, 20),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_one_loop_gate_activations_equal_sigmoid_and_tanh_bit_for_bit(batch, hidden, dtype, seed):
    """fused._gate_activations computes a tanh(a x) + 1 - a with a = 1/2 or 1 per column: that must be
    exactly sigmoid(x) on the i, f, o columns and tanh(x) on the C~ columns (up to the sign of a zero)."""
    rng = np.random.default_rng(seed)
    recurrent, x_proj = (rng.normal(0, 4, (batch, 4 * hidden)).astype(dtype) for _ in range(2))
    bias = rng.normal(0, 1, 4 * hidden).astype(dtype)
    gate = np.empty_like(recurrent)
    fused._gate_activations(recurrent, x_proj, bias, fused.gate_scales(hidden, dtype), gate)
    np.testing.assert_array_equal(gate, _gates_by_kind((recurrent + x_proj) + bias, 2 * hidden, 3 * hidden))
