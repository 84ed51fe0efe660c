"""lengths= has packed-sequence semantics: a padded batch gives the same outputs, final states and
gradients as running each sequence alone, at its own length. Past a sequence's end its outputs are
zero, its input gets no gradient, and whatever the padding holds (even NaN) changes nothing.
The reference is the layer itself on each unpadded sequence, where lengths= plays no part."""

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
ARCHITECTURES = [(1, False), (1, True), (2, False), (2, True)]
ARCHITECTURE_IDS = ["1_layer", "1_layer_bidirectional", "2_layers", "2_layers_bidirectional"]

# Parametrised 20 ways, so each runs half of the profile's examples (12 under CI's 25).
lengths_settings = settings(max_examples=max(3, settings.default.max_examples // 2))


def run(module, x, hx, lengths, cotangents):
    """Forward and backward of sum(cotangent * value) over output and final states (float64).
    Returns the values, the input's gradient and the initial states' gradients."""
    x = ts.tensor(x, requires_grad=True)
    hx = [ts.tensor(state, requires_grad=True) for state in hx]
    argument = None if not hx else (tuple(hx) if len(hx) == 2 else hx[0])
    output, final = module(x, argument, lengths=lengths)
    values = [output, *(final if isinstance(final, tuple) else (final,))]
    loss = sum((value * ts.tensor(c)).sum() for value, c in zip(values, cotangents))
    loss.backward()
    return [value.numpy() for value in values], x.grad, [state.grad for state in hx]


@lengths_settings
@given(
    seq_len=st.integers(1, 5),
    batch=st.integers(1, 4),
    input_size=st.integers(1, 3),
    hidden_size=st.integers(1, 3),
    batch_first=st.booleans(),
    hx_given=st.booleans(),
    data=st.data(),
)
@pytest.mark.parametrize("num_layers,bidirectional", ARCHITECTURES, ids=ARCHITECTURE_IDS)
@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_padded_batch_equals_each_sequence_run_alone(
    float64, mode, options, num_layers, bidirectional, seq_len, batch, input_size, hidden_size, batch_first, hx_given,
    data,
):
    lengths = np.array(data.draw(st.lists(st.integers(1, seq_len), min_size=batch, max_size=batch)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ts.manual_seed(0)
    module = getattr(nn, mode)(input_size, hidden_size, num_layers=num_layers, batch_first=batch_first,
                               bidirectional=bidirectional, **options)
    directions = 2 if bidirectional else 1
    state_count = 2 if mode == "LSTM" else 1
    time_axis, batch_axis = (1, 0) if batch_first else (0, 1)

    def batch_shape(steps, count, features):
        return (count, steps, features) if batch_first else (steps, count, features)

    x = rng.standard_normal(batch_shape(seq_len, batch, input_size))
    for b, length in enumerate(lengths):  # the padding holds garbage, which must not matter
        padding = np.moveaxis(x, (time_axis, batch_axis), (0, 1))[length:, b]
        padding[...] = rng.choice([np.nan, 1e6, -1e6], size=padding.shape)
    hx = [rng.standard_normal((num_layers * directions, batch, hidden_size)) for _ in range(state_count)]
    hx = hx if hx_given else []
    cotangents = [rng.standard_normal(batch_shape(seq_len, batch, directions * hidden_size))]
    cotangents += [rng.standard_normal((num_layers * directions, batch, hidden_size)) for _ in range(state_count)]

    values, x_grad, hx_grads = run(module, x, hx, lengths, cotangents)
    batch_parameter_grads = [p.grad.copy() for p in module.parameters()]
    alone_parameter_grads = [np.zeros_like(g) for g in batch_parameter_grads]

    def one_sequence(array, b, length):
        """Sequence b (or its cotangent) cut to its own length, as a batch of one."""
        return np.take(np.take(array, range(length), axis=time_axis), [b], axis=batch_axis)

    for b, length in enumerate(lengths):
        module.zero_grad()
        alone_values, alone_x_grad, alone_hx_grads = run(
            module,
            one_sequence(x, b, length),
            [state[:, [b]] for state in hx],
            None,
            [one_sequence(cotangents[0], b, length)] + [c[:, [b]] for c in cotangents[1:]],
        )
        output, alone_output = values[0], alone_values[0]
        np.testing.assert_allclose(one_sequence(output, b, length), alone_output, rtol=1e-12, atol=1e-14)
        past_the_end = np.take(np.take(output, [b], axis=batch_axis), range(length, seq_len), axis=time_axis)
        np.testing.assert_array_equal(past_the_end, 0.0, err_msg="outputs past a sequence's end must be zero")
        for state, alone_state in zip(values[1:], alone_values[1:]):
            np.testing.assert_allclose(state[:, [b]], alone_state, rtol=1e-12, atol=1e-14)

        np.testing.assert_allclose(one_sequence(x_grad, b, length), alone_x_grad, rtol=1e-12, atol=1e-14)
        padding_grad = np.take(np.take(x_grad, [b], axis=batch_axis), range(length, seq_len), axis=time_axis)
        np.testing.assert_array_equal(padding_grad, 0.0, err_msg="the padding must get no gradient")
        for state_grad, alone_state_grad in zip(hx_grads, alone_hx_grads):
            np.testing.assert_allclose(state_grad[:, [b]], alone_state_grad, rtol=1e-12, atol=1e-14)
        for total, parameter in zip(alone_parameter_grads, module.parameters()):
            total += parameter.grad

    for (name, _), batch_grad, total in zip(module.named_parameters(), batch_parameter_grads, alone_parameter_grads):
        assert np.all(np.isfinite(batch_grad)), f"{name}: the padding's NaN reached the gradient"
        np.testing.assert_allclose(batch_grad, total, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=LAYER_IDS)
def test_full_lengths_change_nothing(float64, mode, options):
    module = getattr(nn, mode)(3, 2, num_layers=2, bidirectional=True, **options)
    x = ts.randn(4, 3, 3)
    output, final = module(x)
    output_full, final_full = module(x, lengths=[4, 4, 4])
    np.testing.assert_array_equal(output_full.numpy(), output.numpy())
    for state, state_full in zip(final if isinstance(final, tuple) else (final,),
                                 final_full if isinstance(final_full, tuple) else (final_full,)):
        np.testing.assert_array_equal(state_full.numpy(), state.numpy())


def test_reverse_direction_starts_at_each_sequences_own_last_step(float64):
    """For a sequence of length 2 padded to 4, the reverse direction's first step reads x_2, so its
    output at step 1 equals a one-step reverse run on x_2 alone, and h_n's reverse row is its output at
    step 0."""
    ts.manual_seed(0)
    gru = nn.GRU(2, 3, bidirectional=True)
    x = ts.randn(4, 1, 2)
    output, h_n = gru(x, lengths=[2])
    alone, _ = gru(x[1:2])
    np.testing.assert_allclose(output.numpy()[1, 0, 3:], alone.numpy()[0, 0, 3:], rtol=1e-12)
    np.testing.assert_allclose(h_n.numpy()[1, 0], output.numpy()[0, 0, 3:], rtol=1e-12)


@pytest.mark.parametrize(
    "lengths",
    [[3, 1], (3, 1), np.array([3, 1]), np.array([3, 1], dtype=np.int32), np.array([3.0, 1.0]), ts.tensor([3, 1])],
    ids=["list", "tuple", "int64_array", "int32_array", "integral_floats", "tensor"],
)
def test_lengths_accepts_any_sequence_of_integers(lengths):
    lstm = nn.LSTM(2, 3)
    x = ts.randn(3, 2, 2)
    output, (h_n, _) = lstm(x, lengths=lengths)
    reference, (reference_h_n, _) = lstm(x, lengths=[3, 1])
    np.testing.assert_array_equal(output.numpy(), reference.numpy())
    np.testing.assert_array_equal(h_n.numpy(), reference_h_n.numpy())
