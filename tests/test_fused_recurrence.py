"""The fused recurrence (tinyseq/nn/fused.py) equals the composed reference (nn/cells.py's step
functions run op by op): same outputs, final states and gradients for inputs, initial states and
every parameter, over random layer configurations, with and without lengths=."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.nn as nn

CONFIGS = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {"reset_after": True}),
    ("GRU", {"reset_after": False}),
]


def run(layer, x, hx, lengths, output_grad, state_grads, fused):
    """Forward and backward with the given path; returns every value and gradient to compare."""
    layer.zero_grad()
    x = ts.tensor(x, requires_grad=True)
    hx = [ts.tensor(h, requires_grad=True) for h in hx]
    with nn.use_reference_path(not fused):
        output, final = layer(x, hx=(tuple(hx) if len(hx) == 2 else hx[0]), lengths=lengths)
    finals = final if isinstance(final, tuple) else (final,)
    loss = (output * ts.tensor(output_grad)).sum()
    for state, grad in zip(finals, state_grads):
        loss = loss + (state * ts.tensor(grad)).sum()
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
    seed=st.integers(0, 2**16),
)
def test_fused_recurrence_matches_composed_reference(
    float64, config, seq_len, batch, input_size, hidden_size, num_layers, bidirectional, bias, use_lengths, seed
):
    mode, options = config
    rng = np.random.default_rng(seed)
    ts.manual_seed(seed)
    layer = getattr(nn, mode)(input_size, hidden_size, num_layers=num_layers, bias=bias,
                              bidirectional=bidirectional, **options)
    directions = 2 if bidirectional else 1
    x = rng.standard_normal((seq_len, batch, input_size))
    hx = [rng.standard_normal((num_layers * directions, batch, hidden_size)) for _ in range(2 if mode == "LSTM" else 1)]
    lengths = rng.integers(1, seq_len + 1, size=batch) if use_lengths else None
    output_grad = rng.standard_normal((seq_len, batch, directions * hidden_size))
    state_grads = [rng.standard_normal(h.shape) for h in hx]

    composed_values, composed_grads = run(layer, x, hx, lengths, output_grad, state_grads, fused=False)
    fused_values, fused_grads = run(layer, x, hx, lengths, output_grad, state_grads, fused=True)
    for composed, fast in zip(composed_values + composed_grads, fused_values + fused_grads):
        np.testing.assert_allclose(fast, composed, rtol=1e-10, atol=1e-12)


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
