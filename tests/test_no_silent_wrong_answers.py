"""Calls that used to return a wrong answer without any error (issue 11). Each test shows the call
now either gives the right answer (checked against an independent value: calculus, PyTorch, or
what the call is documented to do) or refuses with an error naming what was wrong."""

import math

import numpy as np
import pytest

import tinyseq as ts
import tinyseq.nn as nn
import tinyseq.nn.functional as F
from tinyseq.ctc import beam_search_decode, greedy_decode
from tinyseq.data import pad_sequences
from tinyseq.datasets import flights
from tinyseq.datasets.glyphs import decode as glyph_decode

TORCH_REASON = "PyTorch parity tests need torch: pip install -e '.[parity]' to enable"


# ------------------------------------------------------------------------------------------------
# Item 1: Sequential silently dropped anything that was not a Module


def test_sequential_refuses_a_function_naming_its_position_and_type():
    with pytest.raises(TypeError, match=r"Sequential: position 1 holds a function .*not a Module"):
        nn.Sequential(nn.Linear(2, 2), ts.relu)


def test_module_list_refuses_a_non_module_and_a_non_iterable():
    with pytest.raises(TypeError, match=r"ModuleList: position 0 holds a int \(3\), not a Module"):
        nn.ModuleList([3])
    with pytest.raises(TypeError, match="ModuleList: expected an iterable of Modules, got int"):
        nn.ModuleList(3)
    with pytest.raises(TypeError, match="position 1 holds a str"):
        nn.ModuleList([nn.Linear(1, 1)]).append("relu")


# ------------------------------------------------------------------------------------------------
# Item 3 and relatives: integer inputs to ops whose result is not an integer


def test_cross_entropy_refuses_integer_logits_as_pytorch_does():
    # The old result was 2 (an integer-truncated 2.4076); PyTorch raises NotImplementedError.
    with pytest.raises(TypeError, match="cross_entropy: input must be a floating-point tensor, got dtype int64"):
        F.cross_entropy(ts.tensor([[1, 2, 4]]), ts.tensor([0]))


@pytest.mark.parametrize("op, reference", [
    ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
    ("softplus", lambda v: np.log1p(np.exp(v))),
    ("exp", np.exp), ("log", np.log), ("sqrt", np.sqrt), ("tanh", np.tanh),
])
def test_float_valued_ops_on_integers_give_default_float_values(op, reference):
    # sigmoid and softplus of int64 used to be truncated to integers (all zeros, or 1 and 2);
    # exp and friends came back float64. PyTorch promotes integers to the default float dtype.
    out = getattr(ts, op)(ts.tensor([1, 2]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference(np.array([1.0, 2.0])), rtol=1e-6)


def test_mean_var_softmax_and_dropout_refuse_integers_like_pytorch():
    for call, name in [(lambda: ts.tensor([1, 2]).mean(), "mean"), (lambda: ts.tensor([1, 2]).var(), "var"),
                       (lambda: ts.softmax(ts.tensor([1, 2]), 0), "softmax"),
                       (lambda: ts.log_softmax(ts.tensor([1, 2]), 0), "log_softmax"),
                       (lambda: ts.dropout(ts.tensor([1, 2]), 0.5), "dropout")]:
        with pytest.raises(TypeError, match=f"{name}: input must be a floating-point tensor, got dtype int64"):
            call()


def test_linear_and_matmul_refuse_mixed_dtypes_instead_of_running_in_float64():
    with pytest.raises(TypeError, match="linear: input has dtype float64 but weight has dtype float32"):
        nn.Linear(2, 3)(ts.tensor(np.ones((1, 2)), dtype=np.float64))
    with pytest.raises(TypeError, match="matmul: both operands must have the same dtype, got int64 and float32"):
        ts.tensor([[1, 2]]) @ ts.ones(2, 2)


def test_concat_of_integers_and_float32_stays_float32_as_in_pytorch():
    out = ts.concat([ts.ones(2), ts.tensor([1, 2])])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [1, 1, 1, 2])


# ------------------------------------------------------------------------------------------------
# Item 4: factories and tensor() with integers


@pytest.mark.parametrize("factory", ["randn", "rand"])
def test_random_factories_refuse_an_integer_dtype(factory):
    # randn(3, dtype=np.int64) used to truncate normal samples to (mostly) zeros.
    with pytest.raises(TypeError, match=f"{factory}: dtype must be a floating dtype .* got int64"):
        getattr(ts, factory)(3, dtype=np.int64)


@pytest.mark.parametrize("value", [2**63, 2**64, -2**63 - 1])
def test_tensor_refuses_python_integers_outside_int64(value):
    # 2**63 used to become a uint64 tensor; PyTorch raises an overflow error.
    with pytest.raises(ValueError, match=r"data: integers must fit in int64"):
        ts.tensor([value])


def test_tensor_keeps_the_int64_extremes():
    assert ts.tensor([2**63 - 1, -2**63]).dtype == np.int64


# ------------------------------------------------------------------------------------------------
# Item 5: powers at zero

# d/dx x**p at x = 0, from calculus: p * 0**(p - 1) is 0 for p > 1, 1 for p = 1, and x**0 = 1 is
# constant, so 0 (also what PyTorch returns). 0 < p < 1 and p < 0 have an infinite slope: +inf and
# -inf (PyTorch's values too).
POWER_GRADIENTS_AT_ZERO = [(0, 0.0), (0.0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0), (1.5, 0.0), (0.5, math.inf),
                           (-1, -math.inf), (-2, -math.inf), (-0.5, -math.inf)]


@pytest.mark.parametrize("p, expected", POWER_GRADIENTS_AT_ZERO)
def test_power_gradient_at_zero_is_the_calculus_value(p, expected):
    x = ts.tensor([0.0], dtype=np.float64, requires_grad=True)
    with np.errstate(divide="ignore"):  # 0 ** negative is inf in forward, as in numpy and PyTorch
        (x**p).sum().backward()
    assert x.grad[0] == expected


def test_power_gradients_at_zero_match_pytorch_for_base_and_exponent():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    bases = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, -2.0])
    exponents = np.array([0.0, 1.0, 2.0, 0.5, -1.0, 3.0, 0.0, 2.0])
    x = ts.tensor(bases, dtype=np.float64, requires_grad=True)
    p = ts.tensor(exponents, dtype=np.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (x**p).sum().backward()
    tx = torch.tensor(bases, requires_grad=True)
    tp = torch.tensor(exponents, requires_grad=True)
    (tx**tp).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(p.grad, tp.grad.numpy())


def test_square_root_through_pow_and_sqrt_agree_at_zero():
    a = ts.tensor([0.0], dtype=np.float64, requires_grad=True)
    b = ts.tensor([0.0], dtype=np.float64, requires_grad=True)
    with np.errstate(divide="ignore"):
        (a**0.5).sum().backward()
        ts.sqrt(b).sum().backward()
    assert a.grad[0] == b.grad[0] == math.inf


# Values and gradients where the maths sits at an edge (0, +-inf, ties, empty); the expected values
# are PyTorch's, computed in the test with the same inputs.
INF = math.inf
EDGES = [
    ("logsumexp of all -inf", lambda t: t.logsumexp(0), lambda x: x.logsumexp(0), [-INF, -INF]),
    ("logsumexp with one -inf", lambda t: t.logsumexp(0), lambda x: x.logsumexp(0), [-INF, 1.0]),
    ("log_softmax with one -inf", lambda t: t.log_softmax(0), lambda x: ts.log_softmax(x, 0), [-INF, 0.0]),
    ("softmax with one -inf", lambda t: t.softmax(0), lambda x: ts.softmax(x, 0), [-INF, 0.0]),
    ("amax with +inf", lambda t: t.amax(0), lambda x: x.amax(0), [INF, 1.0]),
    ("max along a dim with +inf", lambda t: t.max(0).values, lambda x: x.max(0).values, [INF, 1.0]),
    ("max of a NaN", lambda t: t.max(), lambda x: x.max(), [1.0, math.nan, 2.0]),
    ("relu, abs, sqrt, log at 0", lambda t: t.relu() + t.abs() + t.sqrt() + t.log(),
     lambda x: ts.relu(x) + ts.abs(x) + ts.sqrt(x) + ts.log(x), [0.0]),
    ("clamp at its bounds", lambda t: t.clamp(0, 1), lambda x: ts.clamp(x, 0, 1), [0.0, 1.0]),
    ("sigmoid, softplus, tanh at +-1000", lambda t: t.sigmoid() + _torch_softplus(t) + t.tanh(),
     lambda x: ts.sigmoid(x) + ts.softplus(x) + ts.tanh(x), [-1000.0, 1000.0]),
    ("maximum of a tie", lambda t: t.maximum(t.detach() * 0), lambda x: ts.maximum(x, ts.zeros(1, dtype=np.float64)), [0.0]),
    ("variance of one element", lambda t: t.var(), lambda x: x.var(), [1.0]),
    ("mean of nothing", lambda t: t.mean(), lambda x: x.mean(), []),
    ("cross_entropy with a -inf logit", lambda t: _torch_cross_entropy(t.reshape(1, 2)),
     lambda x: F.cross_entropy(x.reshape(1, 2), ts.tensor([1])), [-INF, 0.0]),
    ("1 / 0", lambda t: 1 / t, lambda x: 1 / x, [0.0]),
]


def _torch_softplus(t):
    import torch.nn.functional

    return torch.nn.functional.softplus(t)


def _torch_cross_entropy(t):
    import torch

    return torch.nn.functional.cross_entropy(t, torch.tensor([1]))


@pytest.mark.parametrize("torch_fn, fn, values", [pytest.param(*row[1:], id=row[0]) for row in EDGES])
def test_values_and_gradients_at_the_edges_match_pytorch(torch_fn, fn, values):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    expected = torch_fn(t)
    expected.sum().backward()
    x = ts.tensor(values, dtype=np.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = fn(x)
        out.sum().backward()
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


# ------------------------------------------------------------------------------------------------
# Item 8: CTC decoders and NaN


def _uniform_log_probs(frames=4, batch=2, classes=3):
    return np.log(np.full((frames, batch, classes), 1.0 / classes))


@pytest.mark.parametrize("decoder", [greedy_decode, beam_search_decode])
def test_decoders_refuse_nan_log_probs_naming_frame_sequence_and_class(decoder):
    log_probs = _uniform_log_probs()
    log_probs[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"log_probs must not hold NaN.* at frame 2, sequence 1, class 0"):
        decoder(log_probs)


@pytest.mark.parametrize("decoder", [greedy_decode, beam_search_decode])
def test_decoders_ignore_nan_in_padding_past_the_input_length(decoder):
    log_probs = _uniform_log_probs()
    log_probs[3, 1, :] = np.nan
    decoder(log_probs, input_lengths=np.array([4, 3]))


def test_beam_search_refuses_plus_infinity():
    log_probs = _uniform_log_probs()
    log_probs[0, 0, 1] = np.inf
    with pytest.raises(ValueError, match=r"beam_search_decode: log_probs must not hold NaN or \+inf"):
        beam_search_decode(log_probs)


# ------------------------------------------------------------------------------------------------
# Item 9: a .grad of the wrong shape


@pytest.mark.parametrize("optimizer", [ts.optim.SGD, ts.optim.Adam, ts.optim.AdamW])
def test_step_refuses_a_grad_of_the_wrong_shape_instead_of_broadcasting_it(optimizer):
    weight = nn.Parameter(np.ones((2, 3), dtype=np.float32))
    weight.grad = np.ones(3, dtype=np.float32)  # broadcastable to (2, 3): the old step() used it
    with pytest.raises(ValueError, match=r"step\(\): param_groups\[0\]\['params'\]\[0\]\.grad has shape \(3,\), "
                                         r"but the parameter has shape \(2, 3\)"):
        optimizer([weight], lr=0.1).step()
    np.testing.assert_array_equal(weight.data, 1.0)


def test_step_refuses_a_tensor_or_integer_grad():
    weight = nn.Parameter(np.ones(2, dtype=np.float32))
    optimizer = ts.optim.SGD([weight], lr=0.1)
    weight.grad = ts.ones(2)
    with pytest.raises(TypeError, match=r"\.grad must be a floating-point numpy array, got Tensor"):
        optimizer.step()
    weight.grad = np.ones(2, dtype=np.int64)
    with pytest.raises(TypeError, match="got an array of dtype int64"):
        optimizer.step()


# ------------------------------------------------------------------------------------------------
# Item 11: float64 data becomes float32, visibly


def test_float64_data_becomes_the_default_dtype_and_the_repr_shows_non_default_dtypes():
    cast = ts.tensor(np.array([0.5, 1.5]))
    assert cast.dtype == np.float32 and repr(cast) == "tensor([0.5, 1.5])"
    kept = ts.tensor(np.array([0.5, 1.5]), dtype=np.float64)
    assert kept.dtype == np.float64 and repr(kept) == "tensor([0.5, 1.5], dtype=float64)"
    assert repr(ts.tensor([1, 2], dtype=np.int32)) == "tensor([1, 2], dtype=int32)"
    assert "dtype=np.float64" in ts.tensor.__doc__ and "float32" in ts.tensor.__doc__


# ------------------------------------------------------------------------------------------------
# Other silent wrong answers found by the sweep


def test_split_refuses_negative_section_sizes():
    # [-1, 5] adds up to 4, so split(ones(4), [-1, 5]) used to return pieces of 3 and 1.
    with pytest.raises(ValueError, match=r"split: sections must hold integers >= 0, got \(-1, 5\)"):
        ts.split(ts.ones(4), [-1, 5])


def test_embedding_refuses_a_float_padding_idx():
    with pytest.raises(TypeError, match="embedding: padding_idx must be an int or None, got 1.5"):
        ts.embedding(ts.tensor([0]), ts.ones(3, 2), padding_idx=1.5)
    with pytest.raises(TypeError, match="Embedding: padding_idx must be an int or None, got 1.5"):
        nn.Embedding(3, 2, padding_idx=1.5)


def test_iterating_a_0d_tensor_is_an_error_not_an_empty_list():
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(ts.tensor(1.0))
    assert [t.item() for t in ts.tensor([1.0, 2.0])] == [1.0, 2.0]


@pytest.mark.parametrize("pad_value, dtype, message", [
    (0.5, None, r"pad_value 0.5 does not fit the padded array's dtype int64"),
    (300, np.uint8, r"pad_value 300 does not fit the padded array's dtype uint8"),
    (-1, np.uint8, r"pad_value -1 does not fit the padded array's dtype uint8"),
])
def test_pad_sequences_refuses_a_pad_value_the_dtype_cannot_hold(pad_value, dtype, message):
    # 0.5 in an int64 batch used to become 0, the pad id: padding indistinguishable from data.
    with pytest.raises(ValueError, match=message):
        pad_sequences([[1, 2], [3]], pad_value=pad_value, dtype=dtype)


def test_pad_sequences_still_pads_with_nan_and_negative_ids():
    padded, _ = pad_sequences([[1.0, 2.0], [3.0]], pad_value=np.nan)
    assert np.isnan(padded[1, 1])
    padded, _ = pad_sequences([[1, 2], [3]], pad_value=-100)
    assert padded[1, 1] == -100


def test_glyph_decode_refuses_non_integer_labels():
    # decode([1.5]) used to truncate to label 1 and return "0".
    with pytest.raises(TypeError, match=r"labels must be integer label indices, got 1.5"):
        glyph_decode([1.5])
    assert glyph_decode(np.array([1, 0, 11])) == "0A"


def test_extract_chunks_and_check_bio_refuse_a_string_instead_of_a_tag_list():
    # extract_chunks("O") read the string as the tag list ["O"]; "B-x" as ["B", "-", "x"].
    with pytest.raises(TypeError, match="extract_chunks: tags must be a sequence of tags, got the str 'B-x'"):
        ts.metrics.extract_chunks("B-x")
    with pytest.raises(TypeError, match="tags: expected a sequence of tags, got the str 'B-x'"):
        ts.datasets.check_bio("B-x")


# ------------------------------------------------------------------------------------------------
# The hang: make_flights_corpus with a tiny split next to a huge one


def test_flights_corpus_with_a_one_utterance_split_finishes():
    # valid's proportional share of template hashes, 1 / 5002, holds no template that the
    # generator draws often enough: the old loop never (in practice) found a valid utterance.
    corpus = flights.make_flights_corpus(n_train=5000, n_valid=1, n_test=1)
    assert [len(split) for split in corpus] == [5000, 1, 1]


def test_flights_corpus_gives_up_with_an_error_instead_of_looping_forever(monkeypatch):
    # Only one template ever comes out, so two of the three splits can never be filled.
    def one_template(rng):
        return ts.datasets.SlotExample(("hi",), ("O",), "atis_flight"), "request"

    monkeypatch.setattr(flights, "_utterance", one_template)
    with pytest.raises(RuntimeError, match=r"make_flights_corpus: gave up after 100600 utterances: .*has 0 of 1"):
        flights.make_flights_corpus(n_train=1, n_valid=1, n_test=1)
