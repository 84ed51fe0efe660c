"""The autograd engine: how backward() walks the graph, accumulates, frees, and checks the ops.

Expected gradients here are derived by hand in each test's docstring or comment (d(x*x)/dx = 2x,
and so on), never computed by tinyseq itself.
"""

import gc
import re
import weakref

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyseq as ts


def leaf(values):
    return ts.tensor(np.asarray(values, dtype=np.float64), dtype=np.float64, requires_grad=True)


# ------------------------------------------------------------------------------------------------
# Reuse and accumulation
# ------------------------------------------------------------------------------------------------

@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2), elements=st.floats(-10, 10)))
def test_a_tensor_used_twice_receives_both_gradients(values):
    """d(x*x)/dx = 2x and d(x+x)/dx = 2: both uses of x contribute."""
    x = leaf(values)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * values)
    y = leaf(values)
    (y + y).sum().backward()
    np.testing.assert_array_equal(y.grad, np.full(values.shape, 2.0))


def test_diamond_graph_sums_the_gradients_of_both_paths():
    """a = 3x, b = exp(a), c = a^2, out = b + c: d out/dx = 3 exp(3x) + 2 * 3x * 3 = 3 exp(3x) + 18x.
    a is an interior node used twice, so its gradient must be complete before a's backward runs."""
    x = leaf([0.5, -1.0])
    a = 3 * x
    out = ts.exp(a) + a * a
    out.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * np.exp(3 * x.data) + 18 * x.data)


def test_deep_reuse_counts_every_path():
    """y_{k+1} = y_k + y_k doubles the number of paths at every step: d y_10 / d x = 2^10."""
    x = leaf(1.0)
    y = x
    for _ in range(10):
        y = y + y
    y.backward()
    assert x.grad == 2.0**10


def test_backward_twice_accumulates_into_grad():
    """Two passes of d(3x)/dx = 3 leave 6 in .grad (PyTorch's accumulate-until-zeroed rule)."""
    x = leaf([1.0, 2.0])
    (3 * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_grad_is_a_private_copy_not_an_alias_of_the_upstream_gradient():
    """Add passes its gradient through unchanged; x.grad must not be that same array, or the next
    accumulation would change y.grad too."""
    x, y = leaf([1.0]), leaf([2.0])
    upstream = np.array([5.0])
    (x + y).backward(upstream)
    x.grad += 1
    np.testing.assert_array_equal(y.grad, [5.0])
    np.testing.assert_array_equal(upstream, [5.0])


def test_backward_on_a_leaf_accumulates_its_own_gradient():
    x = leaf([1.0, 2.0])
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# ------------------------------------------------------------------------------------------------
# Graph recording: no_grad and detach
# ------------------------------------------------------------------------------------------------

def test_no_grad_context_manager_records_nothing():
    x = leaf([1.0, 2.0])
    with ts.no_grad():
        assert not ts.is_grad_enabled()
        y = x * 2 + 1
    assert ts.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), [3.0, 5.0])
    with pytest.raises(ValueError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_decorator_records_nothing_and_restores_the_mode_after_an_exception():
    @ts.no_grad()
    def double(t):
        return t * 2

    @ts.no_grad()
    def fail(t):
        raise KeyError("inside")

    x = leaf([1.0])
    assert not double(x).requires_grad
    with pytest.raises(KeyError):
        fail(x)
    assert ts.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_nests():
    with ts.no_grad():
        with ts.no_grad():
            pass
        assert not ts.is_grad_enabled()
    assert ts.is_grad_enabled()


def test_detach_stops_gradients():
    """out = x * detach(x): only the first factor is differentiated, so d out/dx = x (not 2x)."""
    x = leaf([2.0, -3.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), x.numpy())
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, -3.0])


def test_ops_on_tensors_without_requires_grad_record_nothing():
    a, b = ts.ones(2), ts.ones(2)
    c = a * b
    assert not c.requires_grad and c.grad_fn is None


# ------------------------------------------------------------------------------------------------
# Freeing the graph
# ------------------------------------------------------------------------------------------------

def test_second_backward_through_a_freed_graph_is_a_clear_error():
    x = leaf([1.0, 2.0])
    y = ts.exp(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_which_accumulates():
    """d sum(exp x)/dx = exp x, twice."""
    x = leaf([0.0, 1.0])
    y = ts.exp(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


class SaveAScratchArray(ts.Function):
    """y = 2x, saving an array nobody else holds, to watch backward release it."""

    scratch = None

    @staticmethod
    def forward(ctx, x):
        scratch = np.full(x.shape, 2.0)
        SaveAScratchArray.scratch = weakref.ref(scratch)
        ctx.save_for_backward(scratch)
        return x * scratch

    @staticmethod
    def backward(ctx, grad):
        (scratch,) = ctx.saved_tensors
        return grad * scratch


def test_backward_releases_the_saved_arrays():
    x = leaf([1.0, 2.0])
    y = SaveAScratchArray.apply(x).sum()
    gc.collect()
    assert SaveAScratchArray.scratch() is not None
    y.backward()
    gc.collect()
    assert SaveAScratchArray.scratch() is None, "the array saved for backward is still alive after backward"
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_retain_graph_keeps_the_saved_arrays():
    x = leaf([1.0])
    y = SaveAScratchArray.apply(x).sum()
    y.backward(retain_graph=True)
    gc.collect()
    assert SaveAScratchArray.scratch() is not None


# ------------------------------------------------------------------------------------------------
# Long graphs and multi-output nodes
# ------------------------------------------------------------------------------------------------

def test_a_chain_of_20000_ops_backpropagates_without_recursion_error():
    """y = x * 1.0001 repeated 20,000 times (plus a negation pair, so several op types appear):
    d y / d x = 1.0001^20000."""
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = -(y * 1.0001)
        y = -y
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**10_000, rtol=1e-9)


def test_a_long_chain_through_an_rnn_like_loop():
    """h_{t+1} = tanh(h_t * w) for 10,000 steps, w = 1 (so the product, about t^(-3/2), stays a
    normal float): matches a numpy loop of the chain rule d h_{t+1}/d h_t = w (1 - h_{t+1}^2)."""
    w = 1.0
    x = leaf([0.5])
    h = x
    values = [0.5]
    for _ in range(10_000):
        h = ts.tanh(h * w)
        values.append(np.tanh(values[-1] * w))
    h.sum().backward()
    expected = 1.0
    for h_next in values[1:]:
        expected *= w * (1 - h_next**2)
    np.testing.assert_allclose(x.grad, [expected], rtol=1e-9)


def test_split_with_only_some_outputs_used_gets_zeros_for_the_others():
    """pieces (x0), (x1, x2), (x3) of x; loss = 2 * sum(piece 1): d/dx = (0, 2, 2, 0)."""
    x = leaf([1.0, 2.0, 3.0, 4.0])
    pieces = ts.split(x, [1, 2, 1])
    (2 * pieces[1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 2.0, 0.0])


def test_unbind_outputs_used_in_different_places_all_reach_the_input():
    """rows r0, r1, r2 of a (3, 2) x; loss = sum(r0 * r2) + sum(r2): d/dx = (r2, 0, r0 + 1)."""
    x = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    r0, r1, r2 = ts.unbind(x)
    ((r0 * r2).sum() + r2.sum()).backward()
    np.testing.assert_array_equal(x.grad, [[5.0, 6.0], [0.0, 0.0], [2.0, 3.0]])


def test_backward_from_one_output_of_a_multi_output_node():
    x = leaf([1.0, 2.0, 3.0])
    first, rest = ts.split(x, [1, 2])
    rest.backward(np.array([7.0, 8.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 7.0, 8.0])


def test_chunked_gates_like_an_lstm_cell():
    """gates = x @ W chunked into 4; out = sum(sigmoid(i) * tanh(g)): matches gradcheck."""
    x = leaf(np.linspace(-1, 1, 6).reshape(2, 3))
    weight = leaf(np.linspace(-0.5, 0.7, 24).reshape(3, 8))

    def cell(x, weight):
        i, f, g, o = ts.chunk(x @ weight, 4, dim=1)
        return ts.sigmoid(i) * ts.tanh(g) + ts.sigmoid(o)

    assert ts.gradcheck(cell, [x, weight])


# ------------------------------------------------------------------------------------------------
# What the engine checks and does for every op
# ------------------------------------------------------------------------------------------------

class ReturnsTooFew(ts.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad


class ReturnsWrongShape(ts.Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, grad):
        return np.ones(5)


def test_engine_names_the_op_when_backward_returns_the_wrong_number_of_gradients():
    a, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(ValueError, match=r"ReturnsTooFew\.backward returned 1 gradient\(s\), expected 2"):
        ReturnsTooFew.apply(a, b).backward(np.ones(1))


def test_engine_names_the_op_when_backward_returns_the_wrong_shape():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"ReturnsWrongShape\.backward .* shape \(5,\) for input 0, whose shape is \(3,\)"):
        ReturnsWrongShape.apply(x).backward()


class BroadcastingAdd(ts.Function):
    """a + b written the naive way: backward hands both inputs the full-size gradient."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def test_engine_unbroadcasts_gradients_of_a_custom_function():
    """a: (2, 3), b: (3,), c: (2, 1). Each element of b is used in 2 rows and each of c in 3
    columns, so with an all-ones upstream gradient b.grad = 2 and c.grad = 3."""
    a, b, c = leaf(np.ones((2, 3))), leaf(np.ones(3)), leaf(np.ones((2, 1)))
    out = BroadcastingAdd.apply(BroadcastingAdd.apply(a, b), c)
    out.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(c.grad, [[3.0], [3.0]])


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=st.integers(0, 2**32 - 1))
def test_engine_unbroadcasting_matches_an_explicit_sum(shapes, seed):
    """The gradient of a broadcast input is the upstream gradient summed over every axis along
    which it was stretched (the added leading axes and its size-1 axes)."""
    rng = np.random.default_rng(seed)
    a, b = leaf(rng.standard_normal(shapes.input_shapes[0])), leaf(rng.standard_normal(shapes.input_shapes[1]))
    upstream = rng.standard_normal(shapes.result_shape)
    BroadcastingAdd.apply(a, b).backward(upstream)
    for t, shape in ((a, shapes.input_shapes[0]), (b, shapes.input_shapes[1])):
        padded = (1,) * (len(shapes.result_shape) - len(shape)) + tuple(shape)
        stretched = tuple(i for i, (n, m) in enumerate(zip(padded, shapes.result_shape)) if n == 1 and m != 1)
        leading = len(shapes.result_shape) - len(shape)
        expected = upstream.sum(axis=stretched, keepdims=True).reshape(padded)[(0,) * leading]
        np.testing.assert_allclose(t.grad, expected, rtol=1e-12, atol=1e-12)


class Scale(ts.Function):
    """y = x * factor, where factor is a plain Python number: it gets None as its gradient."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor, None


def test_custom_function_with_non_tensor_arguments_and_needs_input_grad():
    x, frozen = leaf([1.0, 2.0]), ts.tensor([1.0, 1.0], dtype=np.float64)
    seen = []

    class Spy(ts.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    Spy.apply(x, frozen)
    assert seen == [(True, False)]
    Scale.apply(x, 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_gradient_dtype_follows_the_input_not_the_op():
    """float32 leaf through a float64 computation: its gradient comes back as float32."""
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    (ts.to_dtype(x, np.float64) * ts.tensor([3.0, 4.0], dtype=np.float64)).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_backward_needs_grad_for_a_non_scalar_output_and_checks_its_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"grad must be given for a non-scalar output, got shape \(2,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad must have the output's shape \(2,\), got \(3,\)"):
        y.backward(np.ones(3))


def test_a_loss_kept_after_backward_does_not_keep_the_intermediate_tensors_alive():
    import gc
    import weakref

    x = ts.tensor(np.arange(4.0), requires_grad=True)
    hidden = (x * 2).tanh()
    watcher = weakref.ref(hidden)
    loss = (hidden * hidden).sum()
    del hidden
    gc.collect()
    assert watcher() is not None, "before backward the graph holds the intermediate tensor"
    loss.backward()
    gc.collect()
    assert watcher() is None, "after backward a kept loss must not pin the intermediate arrays"


# ------------------------------------------------------------------------------------------------
# In-place updates after forward (the version counter)
# ------------------------------------------------------------------------------------------------

def test_backward_after_an_optimizer_step_through_the_old_graph_is_an_error():
    """Mul saved w for backward; the step changes w in place, so the second backward would use the
    new w with the old graph (PyTorch raises here too, with the same words)."""
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    ts.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: input 0 of Mul, a leaf tensor "
                                           r"of shape \(2,\) and dtype float64"):
        loss.backward()


def test_a_new_forward_after_the_step_backpropagates_normally():
    """d sum(w * w)/dw = 2w, with w after one SGD step (w - 0.1 * 2w = 0.8w)."""
    w = leaf([1.0, 2.0])
    optimizer = ts.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    optimizer.step()
    optimizer.zero_grad()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * 0.8 * np.array([1.0, 2.0]))


def test_an_op_that_saved_nothing_of_the_updated_tensor_still_backpropagates():
    """Add keeps no input for backward, so its gradient (1) is right whatever w holds now."""
    w, frozen = leaf([1.0, 2.0]), ts.tensor([5.0, 5.0], dtype=np.float64)
    loss = ((w + 1.0) * frozen).sum()
    loss.backward(retain_graph=True)
    ts.optim.SGD([w], lr=0.1).step()
    w.grad = None
    loss.backward()
    np.testing.assert_array_equal(w.grad, [5.0, 5.0])


# ------------------------------------------------------------------------------------------------
# The engine's shortcuts for the usual case take the same decisions as the general path
# ------------------------------------------------------------------------------------------------

_unary_operands = st.one_of(
    st.floats(-5, 5), st.integers(-5, 5), st.booleans(),
    st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_]).flatmap(
        lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                                 elements=st.integers(-3, 3) if dtype is not np.bool_ else st.booleans())
    ).map(ts.tensor),
)


@given(_unary_operands)
def test_floating_input_is_unary_input_then_floating(value):
    """floating_input returns a floating-point tensor as it is and sends everything else through
    unary_input and floating: same dtype, shape and values either way."""
    from tinyseq.ops.args import floating, floating_input, unary_input

    general, shortcut = floating(unary_input(value)), floating_input(value)
    assert shortcut.dtype == general.dtype and shortcut.dtype.kind == "f"
    np.testing.assert_array_equal(shortcut.data, general.data)
    if isinstance(value, ts.Tensor) and value.dtype.kind == "f":
        assert shortcut is value and general is value


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.sampled_from([(np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64)]))
@example([2, 2, 3], [3, 3, 4], (np.float64, np.float64))  # batch dimensions that do not broadcast
@example([2, 1, 3], [3, 3, 4], (np.float64, np.float64))  # batch dimensions that do
@example([3], [2, 3, 1], (np.float64, np.float64))  # a vector against a batch
def test_matmul_accepts_exactly_what_numpy_accepts_and_agrees_with_it(a_shape, b_shape, dtypes):
    """matmul checks two tensors' shapes without converting them, and the batch dimensions only when
    there are some: it must refuse exactly the shapes numpy refuses (ValueError naming both shapes),
    a dtype mismatch (TypeError, as PyTorch), and otherwise give numpy's product."""
    rng = np.random.default_rng(0)
    a_values, b_values = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    a, b = ts.tensor(a_values, dtype=dtypes[0]), ts.tensor(b_values, dtype=dtypes[1])
    try:
        expected = np.matmul(a_values, b_values)
    except ValueError:
        expected = None
    if dtypes[0] != dtypes[1]:
        with pytest.raises(TypeError, match="matmul: both operands must have the same dtype"):
            ts.matmul(a, b)
    elif expected is None:
        with pytest.raises(ValueError, match=rf"matmul: shapes {re.escape(str(tuple(a_shape)))} and "
                                             rf"{re.escape(str(tuple(b_shape)))} do not fit"):
            ts.matmul(a, b)
    else:
        np.testing.assert_allclose(ts.matmul(a, b).data, expected, rtol=1e-5)


@given(st.lists(st.integers(0, 3), max_size=4), st.lists(st.integers(0, 3), max_size=4), st.booleans())
@example([2, 3], [3], False)  # b is a's trailing dimensions: the shortcut
@example([2, 3], [2], False)  # b is a's leading dimension: refused
@example([3], [2, 3], False)  # a shorter than b
@example([2, 1], [1], True)
def test_binary_ops_accept_exactly_the_shapes_numpy_broadcasts(a_shape, b_shape, b_is_a_suffix):
    """The binary ops' check lets a bias-like operand (the other's trailing dimensions) through
    without the full rule; every pair must still be accepted exactly when numpy broadcasts it, and
    refused with a ValueError naming the op and both shapes otherwise."""
    if b_is_a_suffix:
        b_shape = a_shape[len(a_shape) - len(b_shape):] if len(b_shape) <= len(a_shape) else b_shape
    a, b = ts.zeros(*a_shape, dtype=np.float64), ts.ones(*b_shape, dtype=np.float64)
    try:
        expected = np.broadcast_shapes(tuple(a_shape), tuple(b_shape))
    except ValueError:
        expected = None
    for op in (ts.add, ts.mul):
        if expected is None:
            with pytest.raises(ValueError, match=rf"{op.__name__}: shapes {re.escape(str(tuple(a_shape)))} and "
                                                 rf"{re.escape(str(tuple(b_shape)))} cannot be broadcast together"):
                op(a, b)
        else:
            assert op(a, b).shape == expected
