"""PyTorch is the reference: a PyTorch module's state dict loaded into the tinyseq module of the same
configuration gives the same outputs, final states and gradients (for the input, the initial
states and every parameter), to 1e-5 in float32 and 1e-9 in float64.

Covered: RNN (tanh, relu), LSTM and GRU with every combination of num_layers, bidirectional,
batch_first, bias, a given hx, unbatched input and lengths= (against pack_padded_sequence with
enforce_sorted=False); dropout > 0 in eval mode; the three cells; Linear; Embedding(padding_idx);
max, min, amax, amin with ties and NaN (values, indices and gradients, exactly).
GRU(reset_after=False) has no PyTorch counterpart; tests/test_recurrent.py checks it against the
equations instead.
"""

import itertools

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch parity tests need torch: pip install -e '.[parity]' to enable")

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-9}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}

SEQ_LEN, BATCH, INPUT_SIZE, HIDDEN_SIZE = 5, 3, 4, 3
LENGTHS = np.array([2, 5, 3])  # unsorted on purpose, and one sequence spans all SEQ_LEN steps

LAYER_KINDS = [
    ("RNN", {"nonlinearity": "tanh"}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("GRU", {}),
]
INPUT_KINDS = ["batched", "lengths", "unbatched"]


def paired_modules(torch_class, tinyseq_class, dtype, *args, **kwargs):
    """A PyTorch module (default initialisation, seeded) and a tinyseq module holding its weights."""
    torch.manual_seed(0)
    reference = torch_class(*args, **kwargs).to(TORCH_DTYPE[dtype])
    previous = ts.get_default_dtype()
    ts.set_default_dtype(dtype)
    try:
        module = tinyseq_class(*args, **kwargs)
    finally:
        ts.set_default_dtype(previous)
    module.load_state_dict(reference.state_dict())
    return reference, module


def assert_close(actual, expected, dtype, what):
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, PyTorch's {expected.shape}"
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype}, expected {np.dtype(dtype)}"
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype], err_msg=what)


def assert_gradients_match(module, reference, dtype):
    torch_parameters = dict(reference.named_parameters())
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None, f"{name} received no gradient"
        assert_close(parameter.grad, torch_parameters[name].grad, dtype, f"gradient of {name}")


def run_tinyseq(module, x, hx, lengths, cotangents):
    """Forward, then backward of sum(cotangent * value) over the output and every final state."""
    x = ts.tensor(x, dtype=x.dtype, requires_grad=True)
    hx = [ts.tensor(state, dtype=state.dtype, requires_grad=True) for state in hx]
    hx_argument = None if not hx else (tuple(hx) if len(hx) == 2 else hx[0])
    output, final = module(x, hx_argument, lengths=lengths)
    finals = list(final) if isinstance(final, tuple) else [final]
    loss = sum((value * ts.tensor(c, dtype=c.dtype)).sum() for value, c in zip([output, *finals], cotangents))
    loss.backward()
    return output, finals, x, hx


def run_torch(reference, x, hx, lengths, cotangents, batch_first):
    x = torch.tensor(x, requires_grad=True)
    hx = [torch.tensor(state, requires_grad=True) for state in hx]
    hx_argument = None if not hx else (tuple(hx) if len(hx) == 2 else hx[0])
    if lengths is None:
        output, final = reference(x, hx_argument)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False
        )
        packed_output, final = reference(packed, hx_argument)
        output, _ = torch.nn.utils.rnn.pad_packed_sequence(
            packed_output, batch_first=batch_first, total_length=x.shape[1 if batch_first else 0]
        )
    finals = list(final) if isinstance(final, tuple) else [final]
    loss = sum((value * torch.tensor(c)).sum() for value, c in zip([output, *finals], cotangents))
    loss.backward()
    return output, finals, x, hx


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("input_kind", INPUT_KINDS)
@pytest.mark.parametrize("hx_given", [False, True], ids=["zero_hx", "hx_given"])
@pytest.mark.parametrize(
    "num_layers,bidirectional,batch_first,bias",
    list(itertools.product([1, 2], [False, True], [False, True], [True, False])),
)
@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=["RNN_tanh", "RNN_relu", "LSTM", "GRU"])
def test_layer_matches_pytorch(
    mode, options, num_layers, bidirectional, batch_first, bias, hx_given, input_kind, dtype
):
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional, **options)
    reference, module = paired_modules(
        getattr(torch.nn, mode), getattr(nn, mode), dtype, INPUT_SIZE, HIDDEN_SIZE, **kwargs
    )
    assert list(module.state_dict()) == list(reference.state_dict()), "parameter names or order differ"

    rng = np.random.default_rng(1)
    directions = 2 if bidirectional else 1
    unbatched = input_kind == "unbatched"
    if unbatched:
        x_shape, state_shape = (SEQ_LEN, INPUT_SIZE), (num_layers * directions, HIDDEN_SIZE)
    else:
        x_shape = (BATCH, SEQ_LEN, INPUT_SIZE) if batch_first else (SEQ_LEN, BATCH, INPUT_SIZE)
        state_shape = (num_layers * directions, BATCH, HIDDEN_SIZE)
    x = rng.standard_normal(x_shape).astype(dtype)
    state_count = 2 if mode == "LSTM" else 1
    hx = [rng.standard_normal(state_shape).astype(dtype) for _ in range(state_count)] if hx_given else []
    lengths = LENGTHS if input_kind == "lengths" else None
    output_shape = x_shape[:-1] + (directions * HIDDEN_SIZE,)
    cotangents = [rng.standard_normal(output_shape).astype(dtype)]
    cotangents += [rng.standard_normal(state_shape).astype(dtype) for _ in range(state_count)]

    output, finals, x_ts, hx_ts = run_tinyseq(module, x, hx, lengths, cotangents)
    torch_output, torch_finals, x_torch, hx_torch = run_torch(reference, x, hx, lengths, cotangents, batch_first)

    assert_close(output.data, torch_output, dtype, "output")
    for index, (state, torch_state) in enumerate(zip(finals, torch_finals)):
        assert_close(state.data, torch_state, dtype, ["h_n", "c_n"][index])
    assert_close(x_ts.grad, x_torch.grad, dtype, "gradient of the input")
    for index, (state, torch_state) in enumerate(zip(hx_ts, hx_torch)):
        assert_close(state.grad, torch_state.grad, dtype, f"gradient of {['h_0', 'c_0'][index]}")
    assert_gradients_match(module, reference, dtype)


@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=["RNN_tanh", "RNN_relu", "LSTM", "GRU"])
def test_layer_with_dropout_in_eval_mode_matches_pytorch(mode, options):
    """Dropout between layers is off in eval mode, in both frameworks."""
    reference, module = paired_modules(
        getattr(torch.nn, mode), getattr(nn, mode), np.float64, INPUT_SIZE, HIDDEN_SIZE,
        num_layers=3, dropout=0.5, **options,
    )
    reference.eval()
    module.eval()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((SEQ_LEN, BATCH, INPUT_SIZE))
    state_count = 2 if mode == "LSTM" else 1
    cotangents = [rng.standard_normal((SEQ_LEN, BATCH, HIDDEN_SIZE))]
    cotangents += [rng.standard_normal((3, BATCH, HIDDEN_SIZE)) for _ in range(state_count)]
    output, finals, x_ts, _ = run_tinyseq(module, x, [], None, cotangents)
    torch_output, torch_finals, x_torch, _ = run_torch(reference, x, [], None, cotangents, False)
    assert_close(output.data, torch_output, np.float64, "output")
    for state, torch_state in zip(finals, torch_finals):
        assert_close(state.data, torch_state, np.float64, "final state")
    assert_close(x_ts.grad, x_torch.grad, np.float64, "gradient of the input")
    assert_gradients_match(module, reference, np.float64)


@pytest.mark.parametrize("batch_first", [False, True], ids=["time_first", "batch_first"])
@pytest.mark.parametrize("mode,options", LAYER_KINDS, ids=["RNN_tanh", "RNN_relu", "LSTM", "GRU"])
def test_lengths_match_pytorch_packed_sequences(mode, options, batch_first):
    """docs/recurrent.md's recipe, run as written: every length shorter than T (so
    pad_packed_sequence needs total_length=T to give T steps back) and batch_first passed to both
    calls. A bidirectional two-layer layer, float64."""
    reference, module = paired_modules(getattr(torch.nn, mode), getattr(nn, mode), np.float64, INPUT_SIZE,
                                       HIDDEN_SIZE, num_layers=2, bidirectional=True, batch_first=batch_first,
                                       **options)
    seq_len, lengths = 6, np.array([3, 5, 2])  # max(lengths) = 5 < T = 6
    rng = np.random.default_rng(7)
    x = rng.standard_normal((BATCH, seq_len, INPUT_SIZE) if batch_first else (seq_len, BATCH, INPUT_SIZE))
    output, final = module(ts.tensor(x, dtype=np.float64), lengths=lengths)

    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths),
                                                     batch_first=batch_first, enforce_sorted=False)
    packed_output, torch_final = reference(packed)
    torch_output, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_output, batch_first=batch_first,
                                                             total_length=seq_len)
    assert output.shape == tuple(torch_output.shape)
    assert_close(output.data, torch_output, np.float64, "output")
    finals = final if isinstance(final, tuple) else (final,)
    torch_finals = torch_final if isinstance(torch_final, tuple) else (torch_final,)
    for state, torch_state in zip(finals, torch_finals):
        assert_close(state.data, torch_state, np.float64, "final state")
    short, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_output, batch_first=batch_first)
    assert short.shape[1 if batch_first else 0] == 5, "without total_length PyTorch pads to max(lengths) only"


CELL_KINDS = [
    ("RNNCell", {"nonlinearity": "tanh"}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("LSTMCell", {}),
    ("GRUCell", {}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])
@pytest.mark.parametrize("hx_given", [False, True], ids=["zero_hx", "hx_given"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("cell,options", CELL_KINDS, ids=["RNNCell_tanh", "RNNCell_relu", "LSTMCell", "GRUCell"])
def test_cell_matches_pytorch(cell, options, bias, hx_given, unbatched, dtype):
    reference, module = paired_modules(getattr(torch.nn, cell), getattr(nn, cell), dtype, INPUT_SIZE, HIDDEN_SIZE,
                                       bias=bias, **options)
    assert list(module.state_dict()) == list(reference.state_dict()), "parameter names or order differ"
    rng = np.random.default_rng(3)
    batch_shape = () if unbatched else (BATCH,)
    x = rng.standard_normal(batch_shape + (INPUT_SIZE,)).astype(dtype)
    state_count = 2 if cell == "LSTMCell" else 1
    hx = [rng.standard_normal(batch_shape + (HIDDEN_SIZE,)).astype(dtype) for _ in range(state_count)]
    hx = hx if hx_given else []
    cotangents = [rng.standard_normal(batch_shape + (HIDDEN_SIZE,)).astype(dtype) for _ in range(state_count)]

    x_ts, x_torch = ts.tensor(x, dtype=x.dtype, requires_grad=True), torch.tensor(x, requires_grad=True)
    hx_ts = [ts.tensor(h, dtype=h.dtype, requires_grad=True) for h in hx]
    hx_torch = [torch.tensor(h, requires_grad=True) for h in hx]
    argument = lambda states: None if not states else (tuple(states) if len(states) == 2 else states[0])  # noqa: E731
    new = module(x_ts, argument(hx_ts))
    torch_new = reference(x_torch, argument(hx_torch))
    new = list(new) if isinstance(new, tuple) else [new]
    torch_new = list(torch_new) if isinstance(torch_new, tuple) else [torch_new]
    sum((value * ts.tensor(c, dtype=c.dtype)).sum() for value, c in zip(new, cotangents)).backward()
    sum((value * torch.tensor(c)).sum() for value, c in zip(torch_new, cotangents)).backward()

    for index, (value, torch_value) in enumerate(zip(new, torch_new)):
        assert_close(value.data, torch_value, dtype, ["h'", "c'"][index])
    assert_close(x_ts.grad, x_torch.grad, dtype, "gradient of the input")
    for state, torch_state in zip(hx_ts, hx_torch):
        assert_close(state.grad, torch_state.grad, dtype, "gradient of the initial state")
    assert_gradients_match(module, reference, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("input_shape", [(4,), (3, 4), (2, 3, 4)])
def test_linear_matches_pytorch(input_shape, bias, dtype):
    reference, module = paired_modules(torch.nn.Linear, nn.Linear, dtype, 4, 5, bias=bias)
    assert list(module.state_dict()) == list(reference.state_dict())
    rng = np.random.default_rng(4)
    x = rng.standard_normal(input_shape).astype(dtype)
    cotangent = rng.standard_normal(input_shape[:-1] + (5,)).astype(dtype)
    x_ts, x_torch = ts.tensor(x, dtype=x.dtype, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, torch_y = module(x_ts), reference(x_torch)
    (y * ts.tensor(cotangent, dtype=cotangent.dtype)).sum().backward()
    (torch_y * torch.tensor(cotangent)).sum().backward()
    assert_close(y.data, torch_y, dtype, "output")
    assert_close(x_ts.grad, x_torch.grad, dtype, "gradient of the input")
    assert_gradients_match(module, reference, dtype)


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_pytorch(padding_idx):
    """Repeated indices accumulate their gradients; the padding row gets none."""
    reference, module = paired_modules(torch.nn.Embedding, nn.Embedding, np.float64, 5, 3, padding_idx=padding_idx)
    assert module.padding_idx == reference.padding_idx
    np.testing.assert_array_equal(module.weight.data, reference.weight.detach().numpy())
    indices = np.array([[0, 3, 3, 1], [4, 0, 2, 3]])
    cotangent = np.random.default_rng(5).standard_normal((2, 4, 3))
    y, torch_y = module(ts.tensor(indices)), reference(torch.tensor(indices))
    (y * ts.tensor(cotangent, dtype=cotangent.dtype)).sum().backward()
    (torch_y * torch.tensor(cotangent)).sum().backward()
    assert_close(y.data, torch_y, np.float64, "output")
    assert_gradients_match(module, reference, np.float64)


def test_embedding_padding_row_starts_at_zero_like_pytorch():
    torch.manual_seed(0)
    reference = torch.nn.Embedding(6, 4, padding_idx=2)
    module = nn.Embedding(6, 4, padding_idx=2)
    np.testing.assert_array_equal(module.weight.data[2], reference.weight.detach().numpy()[2])
    np.testing.assert_array_equal(module.weight.data[2], np.zeros(4))


def test_tied_weights_checkpoint_moves_both_ways():
    """PyTorch's state dict lists a tied weight under every name; so does tinyseq's, and each loads
    the other's with strict=True."""

    def tied(library):
        embedding, output = library.Embedding(5, 3), library.Linear(3, 5, bias=False)
        output.weight = embedding.weight
        return library.Sequential(embedding, output)

    torch.manual_seed(0)
    reference, module = tied(torch.nn), tied(nn)
    assert list(module.state_dict()) == list(reference.state_dict())
    module.load_state_dict(reference.state_dict())
    np.testing.assert_array_equal(module[1].weight.data, reference[1].weight.detach().numpy())
    module.load_state_dict({name: np.ones_like(value) for name, value in module.state_dict().items()})
    reference.load_state_dict({name: torch.tensor(value) for name, value in module.state_dict().items()})
    np.testing.assert_array_equal(reference[0].weight.detach().numpy(), np.ones((5, 3)))


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
@given(data=st.data())
def test_max_and_min_match_pytorch_with_ties_and_nan(name, data):
    """max(x, dim) / min(x, dim): PyTorch's (values, indices) and its gradient (to the first tied
    extreme only); amax / amin and max(x) with no dim: the values and the gradient shared equally
    among ties. The values are drawn from a few integers so that ties are common, sometimes a NaN."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="shape")
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.0, 2.0, np.nan])), label="x")
    if not data.draw(st.booleans(), label="with NaN"):
        x = np.nan_to_num(x, nan=1.0)
    keepdim = data.draw(st.booleans(), label="keepdim")
    along_one_dim = name in ("max", "min")
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)) if along_one_dim else
                    st.one_of(st.none(), st.integers(0, len(shape) - 1).map(lambda d: (d,))), label="dim")
    x_ts, x_torch = ts.tensor(x, dtype=np.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    if dim is None:
        got, expected = getattr(ts, name)(x_ts), getattr(torch, name)(x_torch)
    else:
        got, expected = getattr(ts, name)(x_ts, dim, keepdim), getattr(torch, name)(x_torch, dim, keepdim)
    if along_one_dim and dim is not None:
        np.testing.assert_array_equal(got.indices.data, expected.indices.numpy())
        assert got.indices.dtype == np.int64
        got, expected = got.values, expected.values
    np.testing.assert_array_equal(got.data, expected.detach().numpy())
    cotangent = np.arange(1.0, got.data.size + 1).reshape(got.shape)
    (got * ts.tensor(cotangent, dtype=np.float64)).sum().backward()
    (expected * torch.tensor(cotangent)).sum().backward()
    if name in ("amax", "amin") and np.isnan(x).any():
        # torch.amax's gradient is NaN in a slice whose maximum is NaN; tinyseq gives such a slice's
        # NaNs the gradient, as torch.max(x) does (the case dim=None of "max" above checks that).
        finite = ~np.isnan(x_torch.grad.numpy())
        np.testing.assert_array_equal(x_ts.grad[finite], x_torch.grad.numpy()[finite])
        assert np.isfinite(x_ts.grad).all()
    else:
        np.testing.assert_array_equal(x_ts.grad, x_torch.grad.numpy())


BINARY_OPS = ["add", "sub", "mul", "div", "maximum", "minimum", "where"]
OPERAND_KINDS = [(dtype, shape) for dtype in ("float32", "float64", "int64", "bool") for shape in ((), (3,))]


@pytest.mark.parametrize("op", BINARY_OPS)
@pytest.mark.parametrize("a_kind, b_kind", list(itertools.product(OPERAND_KINDS, OPERAND_KINDS)),
                         ids=lambda kind: f"{kind[0]}{list(kind[1])}")
def test_binary_op_result_dtypes_follow_pytorch(op, a_kind, b_kind):
    """PyTorch's promotion of the dtypes of two tensors, each float32, float64, int64 or bool, 0-d or
    with dimensions; the expected dtype is the one torch gives. The rule that numpy lacks: a 0-d
    tensor does not widen a tensor with dimensions of the same kind (float32 (3,) * float64 () is
    float32), and then the 0-d tensor's gradient still comes back in its own dtype. Subtraction with
    a bool tensor on either side is refused by both libraries."""
    def operand(library, kind):
        dtype, shape = kind
        values = np.full(shape, 2, dtype=dtype)
        if library is torch:
            return torch.tensor(values, requires_grad=dtype.startswith("float"))
        return ts.tensor(values, dtype=values.dtype, requires_grad=dtype.startswith("float"))

    if op == "sub" and "bool" in (a_kind[0], b_kind[0]):
        with pytest.raises(RuntimeError, match="bool"):
            torch.sub(operand(torch, a_kind), operand(torch, b_kind))
        with pytest.raises(TypeError, match="sub: bool tensors are not supported"):
            ts.sub(operand(ts, a_kind), operand(ts, b_kind))
        return
    condition = np.array([True, False, True])
    results = []
    for library in (torch, ts):
        a, b = operand(library, a_kind), operand(library, b_kind)
        if op == "where":
            result = library.where(torch.tensor(condition) if library is torch else condition, a, b)
        else:
            result = getattr(library, op)(a, b)
        results.append((a, b, result))
    (a_torch, b_torch, expected), (a_ts, b_ts, got) = results
    assert str(got.dtype) == str(expected.dtype).replace("torch.", ""), (got.dtype, expected.dtype)
    if expected.requires_grad:
        expected.sum().backward()
        got.sum().backward()
        for x_ts, x_torch in ((a_ts, a_torch), (b_ts, b_torch)):
            if x_torch.requires_grad:
                assert x_ts.grad.dtype == x_ts.dtype and x_ts.grad.shape == x_ts.shape
                np.testing.assert_array_equal(x_ts.grad, x_torch.grad.numpy())
