"""Every public op against its numpy reference and against finite differences, driven by the registry
(tests/op_registry.py); then the PyTorch semantics that numpy cannot be the reference for:
cross_entropy (against torch when installed, and hand-computed values), split/chunk sizes, how
tied maxima share the gradient, and numerical stability at +-1e4."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyseq as ts
from op_registry import REGISTRY, Example, array, cross_entropy_examples
from tinyseq.testing import check_example, strided_view

BROADCASTING = [entry for entry in REGISTRY if entry.operands]


def as_tensors(arrays):
    """Float arrays become float64 tensors that require grad (views are kept, not copied); integer
    and bool arrays become tensors that do not."""
    return [ts.Tensor(a, requires_grad=a.dtype.kind == "f", dtype=a.dtype) for a in arrays]


def as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def check_forward(entry, example):
    """The op's outputs against the registry's reference through tinyseq.testing.check_example (what
    a learner's check_op runs), or, for a random op, against the entry's own property."""
    if entry.reference is None:
        outputs = as_tuple(entry.apply(*as_tensors(example.arrays), **example.params))
        entry.check_forward(example, *[o.numpy() for o in outputs])
        return
    check_example(entry.apply, example.arrays, example.params, reference=entry.reference, gradient=False,
                  rtol=entry.rtol, atol=entry.atol, name=entry.id)


def embedding_gradient_with_padding(indices, weight, padding_idx, cotangent):
    """d<cotangent, weight[indices]>/d weight by scatter-add, with the padding row zeroed (PyTorch's
    padding_idx: that row is a constant the optimizer never moves)."""
    expected = np.zeros_like(weight)
    for position in np.ndindex(indices.shape):
        expected[indices[position]] += cotangent[position]
    expected[padding_idx] = 0
    return expected


def check_gradient(entry, example, seed):
    tensors = as_tensors(example.arrays)
    if entry.op == "embedding" and example.params["padding_idx"] is not None:
        out = entry.apply(*tensors, **example.params)
        cotangent = np.random.default_rng(seed).standard_normal(out.shape)
        out.backward(cotangent)
        expected = embedding_gradient_with_padding(*example.arrays, example.params["padding_idx"], cotangent)
        np.testing.assert_allclose(tensors[1].grad, expected, rtol=1e-12, atol=1e-12)
        return
    check_example(entry.apply, example.arrays, example.params, seed=seed, name=entry.id)


@pytest.fixture(autouse=True, scope="module")
def fresh_generator_afterwards():
    """The dropout entries call manual_seed; leave an unseeded generator to the modules after this one."""
    yield
    ts.manual_seed(None)


def test_every_public_op_has_a_registry_entry():
    covered = {entry.op for entry in REGISTRY}
    missing = sorted(set(ts.ops.__all__) - covered)
    assert not missing, f"public ops without a registry entry in tests/op_registry.py: {missing}"
    stale = sorted(covered - set(ts.ops.__all__))
    assert not stale, f"registry entries for names that are not public ops: {stale}"
    assert len({entry.id for entry in REGISTRY}) == len(REGISTRY), "registry ids must be unique"


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.id)
@given(data=st.data())
def test_forward_matches_numpy_reference(entry, data):
    check_forward(entry, data.draw(entry.examples, label="example"))


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.id)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_gradient_matches_finite_differences(entry, data, seed):
    check_gradient(entry, data.draw(entry.examples, label="example"), seed)


@pytest.mark.parametrize("entry", BROADCASTING, ids=lambda e: e.id)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_broadcasting_shapes_forward_and_gradient(entry, data, seed):
    how_many = {"signature": entry.signature} if entry.signature else {"num_shapes": len(entry.operands)}
    shapes = data.draw(hnp.mutually_broadcastable_shapes(**how_many, max_dims=3, max_side=3), label="shapes")
    arrays = tuple(
        data.draw(array(shape, elements, dtype)) for shape, (elements, dtype) in zip(shapes.input_shapes, entry.operands)
    )
    example = Example(arrays, {})
    outputs = as_tuple(entry.apply(*as_tensors(arrays)))
    assert outputs[0].shape == shapes.result_shape
    check_forward(entry, example)
    check_gradient(entry, example, seed)


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.id)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_non_contiguous_inputs_give_the_same_values_and_gradients(entry, data, seed):
    example = data.draw(entry.examples, label="example")
    strided = tuple(strided_view(a) if a.dtype.kind == "f" else a for a in example.arrays)

    def run(arrays):
        tensors = as_tensors(arrays)
        outputs = as_tuple(entry.apply(*tensors, **example.params))
        rng = np.random.default_rng(seed)
        cotangents = [rng.standard_normal(o.shape) for o in outputs]
        if any(o.requires_grad for o in outputs):
            ts.concat([o.reshape(-1) for o in outputs]).backward(np.concatenate([c.ravel() for c in cotangents]))
        return [o.numpy() for o in outputs], [t.grad for t in tensors]

    contiguous_values, contiguous_grads = run(example.arrays)
    strided_values, strided_grads = run(strided)
    for want, got in zip(contiguous_values, strided_values):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    for want, got in zip(contiguous_grads, strided_grads):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("entry", [e for e in REGISTRY if e.op != "to_dtype"], ids=lambda e: e.id)
@given(data=st.data())
def test_float32_inputs_give_float32_outputs_and_gradients(entry, data):
    """The default dtype is float32 for speed; no op may quietly promote to float64 on the way."""
    example = data.draw(entry.examples, label="example")
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in example.arrays]
    tensors = as_tensors(arrays)
    outputs = as_tuple(entry.apply(*tensors, **example.params))
    assert all(o.dtype == np.float32 for o in outputs), [o.dtype for o in outputs]
    if any(o.requires_grad for o in outputs):
        ts.concat([o.reshape(-1) for o in outputs]).sum().backward()
        assert all(t.grad.dtype == np.float32 for t in tensors if t.requires_grad)


def test_ops_accept_non_contiguous_views_made_inside_the_graph(float64):
    """x.T and a strided slice are numpy views; ops on them and their backward see the right layout."""
    x = ts.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = ts.matmul(x.T, x[:, ::2]) * x.T[:, :2]
    cotangent = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(cotangent)
    assert ts.gradcheck(lambda x: ts.matmul(x.T, x[:, ::2]) * x.T[:, :2], [x])


# ------------------------------------------------------------------------------------------------
# cross_entropy: PyTorch semantics
# ------------------------------------------------------------------------------------------------

LN = math.log


def test_cross_entropy_hand_computed_values(float64):
    """logits (0, ln 3) give softmax (1/4, 3/4): loss ln 4 for class 0 and ln(4/3) for class 1;
    an ignored row contributes nothing and does not count in the mean."""
    logits = ts.tensor([[0.0, LN(3)], [0.0, LN(3)], [5.0, -2.0]], requires_grad=True)
    target = ts.tensor([0, 1, -100])
    none = ts.cross_entropy(logits, target, reduction="none")
    np.testing.assert_allclose(none.numpy(), [LN(4), LN(4 / 3), 0.0], rtol=1e-12)
    total = ts.cross_entropy(logits, target, reduction="sum")
    np.testing.assert_allclose(total.item(), LN(4) + LN(4 / 3), rtol=1e-12)
    mean = ts.cross_entropy(logits, target)
    np.testing.assert_allclose(mean.item(), (LN(4) + LN(4 / 3)) / 2, rtol=1e-12)
    mean.backward()
    # d/dlogits = (softmax - one_hot) / (number of rows not ignored)
    np.testing.assert_allclose(logits.grad, [[(0.25 - 1) / 2, 0.75 / 2], [0.25 / 2, (0.75 - 1) / 2], [0, 0]],
                               rtol=1e-12, atol=1e-15)


def test_cross_entropy_spatial_layout_has_classes_on_axis_1(float64):
    """(N, C, d) logits: position (n, d) uses logits[n, :, d]. Two classes with logits (0, ln 3)
    at d=0 and (ln 3, 0) at d=1, targets (1, 1): losses ln(4/3) and ln 4."""
    logits = ts.tensor([[[0.0, LN(3)], [LN(3), 0.0]]])
    losses = ts.cross_entropy(logits, ts.tensor([[1, 1]]), reduction="none")
    np.testing.assert_allclose(losses.numpy(), [[LN(4 / 3), LN(4)]], rtol=1e-12)


def test_cross_entropy_with_every_target_ignored_is_nan_for_mean_and_zero_for_sum(float64):
    """PyTorch's behaviour: the mean over zero positions is 0/0."""
    logits = ts.tensor([[1.0, 2.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(ts.cross_entropy(logits, ts.tensor([3]), ignore_index=3).item())
        total = ts.cross_entropy(logits, ts.tensor([3]), ignore_index=3, reduction="sum")
        assert total.item() == 0.0
        total.backward()
    np.testing.assert_array_equal(logits.grad, [[0.0, 0.0]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("layout", ["(N, C)", "(N, C, d1, d2)"])
@given(data=st.data())
def test_cross_entropy_matches_torch(reduction, layout, data):
    torch = pytest.importorskip("torch", reason="PyTorch parity test: pip install -e '.[parity]' to enable")
    n, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    spatial = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))) if layout != "(N, C)" else ()
    logits = data.draw(array((n, classes) + spatial, st.floats(-20, 20)))
    ignore_index = data.draw(st.sampled_from([-100, 0, 1]))
    target = data.draw(hnp.arrays(np.int64, (n,) + spatial,
                                  elements=st.sampled_from(list(range(classes)) + [ignore_index])))
    cotangent = data.draw(array(() if reduction != "none" else target.shape, st.floats(-2, 2)))
    # Weights 0 or at least 1e-3: PyTorch divides by a subnormal total weight before multiplying by a
    # zero gradient (inf * 0 = NaN) where the exact gradient, tinyseq's, is 0.
    weight = data.draw(st.none() | hnp.arrays(np.float64, (classes,), elements=st.sampled_from([0.0]) | st.floats(1e-3, 3.0)),
                       label="weight")
    label_smoothing = data.draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]), label="label_smoothing")

    ours = ts.tensor(logits, dtype=np.float64, requires_grad=True)
    loss = ts.cross_entropy(ours, ts.tensor(target), weight, ignore_index=ignore_index, reduction=reduction,
                            label_smoothing=label_smoothing)
    theirs = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(target), None if weight is None else torch.tensor(weight),
                                                 ignore_index=ignore_index, reduction=reduction,
                                                 label_smoothing=label_smoothing)
    np.testing.assert_allclose(loss.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not np.isnan(expected.detach().numpy()).any():
        loss.backward(cotangent)
        expected.backward(torch.tensor(cotangent))
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_cross_entropy_mean_over_a_zero_total_weight_is_nan_as_in_pytorch(float64):
    """Every target's class weight 0: the mean is 0/0 in PyTorch (NaN), with smoothing too (not inf)."""
    with np.errstate(invalid="ignore"):
        loss = ts.cross_entropy(ts.zeros(1, 2), ts.tensor([1]), ts.tensor([1.0, 0.0]), label_smoothing=0.05)
    assert np.isnan(loss.item())


def test_cross_entropy_with_class_weights_and_label_smoothing_by_hand(float64):
    """Two classes, logits (0, ln 3): -log p = (ln 4, ln 4/3). Weights (2, 1), smoothing 0.5, targets
    (0, 1): losses 0.5*2*ln4 + 0.25*(2 ln4 + ln4/3) and 0.5*1*ln4/3 + the same smoothing term;
    the mean divides by w[0] + w[1] = 3. Gradient of the first row's loss (sum): with p = (1/4, 3/4),
    W = 3, (1 - e) w[y] (p - one_hot) + (e / C)(W p - w) = (-0.75, 0.75) + 0.25 (-1.25, 1.25)."""
    logits = ts.tensor([[0.0, LN(3)], [0.0, LN(3)]], requires_grad=True)
    weight = ts.tensor([2.0, 1.0])
    smooth = 0.25 * (2 * LN(4) + LN(4 / 3))
    losses = ts.cross_entropy(logits, ts.tensor([0, 1]), weight, reduction="none", label_smoothing=0.5)
    np.testing.assert_allclose(losses.numpy(), [LN(4) + smooth, 0.5 * LN(4 / 3) + smooth], rtol=1e-12)
    mean = ts.cross_entropy(logits, ts.tensor([0, 1]), weight, label_smoothing=0.5)
    np.testing.assert_allclose(mean.item(), (LN(4) + 0.5 * LN(4 / 3) + 2 * smooth) / 3, rtol=1e-12)
    ts.cross_entropy(logits, ts.tensor([0, -100]), weight, reduction="sum", label_smoothing=0.5).backward()
    np.testing.assert_allclose(logits.grad, [[-0.75 - 0.3125, 0.75 + 0.3125], [0.0, 0.0]], rtol=1e-12, atol=1e-15)


def test_cross_entropy_loss_module_matches_the_function_and_keeps_its_weight_out_of_parameters(float64):
    logits = ts.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, 0.0]])
    weight = ts.tensor([1.0, 2.0, 0.5])
    module = ts.nn.CrossEntropyLoss(weight=weight, ignore_index=2, label_smoothing=0.2, reduction="sum")
    expected = ts.cross_entropy(logits, ts.tensor([1, 2]), weight, ignore_index=2, label_smoothing=0.2, reduction="sum")
    assert module(logits, ts.tensor([1, 2])).item() == expected.item()
    assert list(module.parameters()) == [] and "label_smoothing=0.2" in repr(module)


@given(data=st.data())
def test_cross_entropy_unbatched_matches_torch(data):
    torch = pytest.importorskip("torch", reason="PyTorch parity test: pip install -e '.[parity]' to enable")
    example = data.draw(cross_entropy_examples().filter(lambda e: e.arrays[0].ndim == 1))
    (logits, target), params = example
    torch_params = dict(params, weight=None if params["weight"] is None else torch.tensor(params["weight"]))
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target), **torch_params)
    loss = ts.cross_entropy(ts.tensor(logits, dtype=np.float64), ts.tensor(target), **params)
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-10)


# ------------------------------------------------------------------------------------------------
# split and chunk: PyTorch's size rules
# ------------------------------------------------------------------------------------------------

def piece_lengths(pieces, dim=0):
    return [p.shape[dim] for p in pieces]


def test_chunk_sizes_follow_the_documented_pytorch_examples():
    """torch.chunk's documentation: arange(11).chunk(6) has sizes 2,2,2,2,2,1; arange(12).chunk(6)
    six 2s; arange(13).chunk(6) only five pieces, 3,3,3,3,1 (fewer chunks than asked)."""
    assert piece_lengths(ts.chunk(ts.arange(11), 6)) == [2, 2, 2, 2, 2, 1]
    assert piece_lengths(ts.chunk(ts.arange(12), 6)) == [2] * 6
    assert piece_lengths(ts.chunk(ts.arange(13), 6)) == [3, 3, 3, 3, 1]


def test_split_sizes_follow_the_documented_pytorch_rules():
    """torch.split: an int gives equal pieces with a shorter last one; a list gives each size."""
    assert piece_lengths(ts.split(ts.arange(10), 4)) == [4, 4, 2]
    assert piece_lengths(ts.split(ts.arange(10), 20)) == [10]
    assert piece_lengths(ts.split(ts.zeros(2, 5), [1, 0, 4], dim=1), dim=1) == [1, 0, 4]
    with pytest.raises(ValueError, match="add up to 4"):
        ts.split(ts.arange(5), [1, 3])


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


# Skipped by a marker, not by importorskip inside the test: Hypothesis reports a skip raised while
# running an @example as "Falsifying explicit example", although nothing failed.
@pytest.mark.skipif(torch_or_none() is None, reason="PyTorch parity test: pip install -e '.[parity]' to enable")
@given(length=st.integers(0, 30), size=st.integers(1, 12), chunks=st.integers(1, 12))
@example(length=0, size=1, chunks=2)  # an empty dimension: torch gives `chunks` empty pieces
def test_split_and_chunk_sizes_match_torch(length, size, chunks):
    torch = torch_or_none()
    x, reference = ts.zeros(length), torch.zeros(length)
    assert piece_lengths(ts.split(x, size)) == piece_lengths(torch.split(reference, size))
    assert piece_lengths(ts.chunk(x, chunks)) == piece_lengths(torch.chunk(reference, chunks))


# ------------------------------------------------------------------------------------------------
# Ties: how max, min, maximum and minimum share the gradient
# ------------------------------------------------------------------------------------------------

def test_tied_maxima_share_the_gradient_equally(float64):
    """PyTorch's amax rule (and max with no dim): [1, 3, 3] -> gradient [0, 1/2, 1/2]; per row with dim=1."""
    x = ts.tensor([1.0, 3.0, 3.0], requires_grad=True)
    ts.max(x).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])
    rows = ts.tensor([[2.0, 2.0, 2.0], [0.0, 5.0, 1.0]], requires_grad=True)
    ts.amax(rows, dim=1).backward(np.array([3.0, 1.0]))
    np.testing.assert_array_equal(rows.grad, [[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    y = ts.tensor([4.0, -1.0, 4.0], requires_grad=True)
    ts.min(-y).backward()
    np.testing.assert_array_equal(y.grad, [-0.5, 0.0, -0.5])


def test_max_along_a_dim_gives_values_indices_and_the_gradient_to_the_first_extreme(float64):
    """PyTorch's max(x, dim) / min(x, dim): a (values, indices) pair, the first index of tied
    extremes, the whole gradient to that one element (worked out by hand)."""
    rows = ts.tensor([[2.0, 7.0, 7.0], [0.0, 5.0, 1.0]], requires_grad=True)
    values, indices = rows.max(dim=1)
    np.testing.assert_array_equal(values.data, [7.0, 5.0])
    np.testing.assert_array_equal(indices.data, [1, 1])
    assert indices.dtype == np.int64 and rows.max(1)[0] is not None and rows.max(1).values.shape == (2,)
    values.backward(np.array([3.0, 1.0]))
    np.testing.assert_array_equal(rows.grad, [[0.0, 3.0, 0.0], [0.0, 1.0, 0.0]])
    cols = ts.tensor([[4.0, -1.0], [4.0, -2.0], [9.0, -2.0]], requires_grad=True)
    low = ts.min(cols, 0, keepdim=True)
    np.testing.assert_array_equal(low.values.data, [[4.0, -2.0]])
    np.testing.assert_array_equal(low.indices.data, [[0, 1]])
    low.values.sum().backward()
    np.testing.assert_array_equal(cols.grad, [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])


def test_max_along_several_dims_is_a_type_error_naming_amax():
    with pytest.raises(TypeError, match=r"max: dim must be an int when given .* use amax, got \(0, 1\)"):
        ts.ones(2, 2).max((0, 1))
    with pytest.raises(TypeError, match=r"min: .* use amin"):
        ts.ones(2, 2).min([0])


def test_maximum_and_minimum_split_the_gradient_at_ties(float64):
    """PyTorch: where a == b, each input receives half of the gradient."""
    a = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ts.tensor([2.0, 2.0, 2.0], requires_grad=True)
    (ts.maximum(a, b) + 10 * ts.minimum(a, b)).backward(np.ones(3))
    np.testing.assert_array_equal(a.grad, [10.0, 5.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 5.5, 10.0])


def test_relu_abs_and_clamp_at_their_kinks_follow_pytorch(float64):
    """The subgradients PyTorch picks: relu'(0) = 0, abs'(0) = 0, clamp passes the gradient at its bounds."""
    x = ts.tensor([0.0, 1.0, -1.0], requires_grad=True)
    ts.relu(x).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    x.grad = None
    ts.abs(x).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, -1.0])
    x.grad = None
    ts.clamp(x, min=-1.0, max=0.0).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


# ------------------------------------------------------------------------------------------------
# Numerical stability at +-1e4
# ------------------------------------------------------------------------------------------------

EXTREMES = [1e4, -1e4, 0.0, 30.0, -30.0]


def no_floating_point_trouble():
    """Overflow, division by zero and invalid operations raise; underflow to 0 does not, because
    exp(-1e4) = 0 is the correctly rounded answer, not a loss of accuracy that matters."""
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op, expected", [
    ("sigmoid", [1.0, 0.0, 0.5, 1 / (1 + math.exp(-30)), 1 / (1 + math.exp(30))]),
    ("tanh", [1.0, -1.0, 0.0, 1.0, -1.0]),
    ("softplus", [1e4, 0.0, LN(2), 30 + math.log1p(math.exp(-30)), math.log1p(math.exp(-30))]),
])
def test_elementwise_nonlinearities_are_finite_and_exact_at_extremes(op, expected, dtype):
    x = ts.tensor(EXTREMES, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings(), no_floating_point_trouble():
        warnings.simplefilter("error")
        y = getattr(ts, op)(x)
        y.backward(np.ones(len(EXTREMES)))
    assert y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-30)
    assert np.isfinite(x.grad).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_softmax_and_logsumexp_are_finite_at_extremes(dtype):
    """For (1e4, -1e4, 1e4): logsumexp = 1e4 + ln 2, log_softmax = (-ln 2, -2e4 - ln 2, -ln 2)."""
    x = ts.tensor([[1e4, -1e4, 1e4], [-1e4, -1e4, -1e4]], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings(), no_floating_point_trouble():
        warnings.simplefilter("error")
        log_probs = ts.log_softmax(x, dim=1)
        probs = ts.softmax(x, dim=1)
        total = ts.logsumexp(x, dim=1)
        (log_probs.sum() + probs[:, 0].sum() + total.sum()).backward()
    np.testing.assert_allclose(total.numpy(), [1e4 + LN(2), -1e4 + LN(3)], rtol=1e-6)
    np.testing.assert_allclose(log_probs.numpy(), [[-LN(2), -2e4 - LN(2), -LN(2)], [-LN(3)] * 3], rtol=1e-6)
    np.testing.assert_allclose(probs.numpy(), [[0.5, 0.0, 0.5], [1 / 3] * 3], rtol=1e-6)
    assert np.isfinite(x.grad).all()


def test_cross_entropy_is_finite_at_extremes():
    logits = ts.tensor([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True)
    with warnings.catch_warnings(), no_floating_point_trouble():
        warnings.simplefilter("error")
        loss = ts.cross_entropy(logits, ts.tensor([1, 1]), reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [2e4, 0.0])
    np.testing.assert_allclose(logits.grad, [[1.0, -1.0], [0.0, 0.0]])
