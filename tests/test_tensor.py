"""The Tensor's surface: operators with every kind of operand, comparisons, indexing, the small
accessors, the factories and the dtype rules (float32 by default, PyTorch's promotion of mixed
kinds), and manual_seed's reproducibility."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyseq as ts

ARITHMETIC = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


def leaf(values, dtype=np.float64):
    return ts.tensor(values, dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------------------------------------
# Operators
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ARITHMETIC, ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", [2, 0.5, np.float64(1.5), np.array([2.0, 3.0]), np.array([[1.0], [2.0]])],
                         ids=["int", "float", "numpy scalar", "numpy array", "numpy column"])
@pytest.mark.parametrize("tensor_on_the_left", [True, False], ids=["tensor op other", "other op tensor"])
def test_operators_accept_python_and_numpy_operands_on_either_side(op, other, tensor_on_the_left, float64):
    """The value matches numpy's on the raw arrays, the result is a Tensor in the graph, and the
    gradient with respect to the tensor passes gradcheck."""
    values = np.array([1.5, 2.5])
    x = leaf(values)
    result = op(x, other) if tensor_on_the_left else op(other, x)
    expected = op(values, other) if tensor_on_the_left else op(other, values)
    assert isinstance(result, ts.Tensor) and result.requires_grad
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)
    assert ts.gradcheck(lambda t: op(t, other) if tensor_on_the_left else op(other, t), [x])


def test_matmul_operator_with_numpy_on_either_side(float64):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = leaf([[0.5, -1.0], [2.0, 1.0]])
    np.testing.assert_allclose((x @ a).numpy(), x.data @ a)
    np.testing.assert_allclose((a @ x).numpy(), a @ x.data)
    (a @ x).sum().backward()
    # d sum(A X)/dX_kj = sum_i A_ik: column sums of A, repeated along j
    np.testing.assert_allclose(x.grad, [[4.0, 4.0], [6.0, 6.0]])


def test_unary_minus_and_reflected_subtraction(float64):
    x = leaf([1.0, -2.0])
    np.testing.assert_array_equal((-x).numpy(), [-1.0, 2.0])
    y = 10 - x
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [9.0, 12.0])
    np.testing.assert_array_equal(x.grad, [-1.0, -1.0])


def test_operators_keep_float32_with_python_and_numpy_scalars():
    x = ts.ones(3)
    for result in (x * 2.0, 2.0 * x, x * np.float64(2), np.float64(2) * x, x / 3, x**2, 2**x, x + np.ones(3)):
        assert result.dtype == np.float32


def test_mixed_kinds_follow_pytorch_promotion():
    """An integer tensor or array meeting a float32 tensor gives float32 (numpy alone would give
    float64); integer true division gives the default float dtype; int with int stays int."""
    x, counts = ts.ones(2), ts.tensor([1, 2])
    assert (x + counts).dtype == np.float32
    assert (counts * x).dtype == np.float32
    assert (x * np.array([1, 2])).dtype == np.float32
    assert (counts / counts).dtype == np.float32
    assert (counts + 1.5).dtype == np.float32
    assert (counts + 1).dtype == np.int64
    np.testing.assert_array_equal((counts / 2).numpy(), [0.5, 1.0])


@pytest.mark.parametrize("compare", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne],
                         ids=lambda op: op.__name__)
def test_comparisons_give_bool_tensors_outside_the_graph(compare):
    x = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    other = np.array([2.0, 2.0, 2.0])
    for result, expected in ((compare(x, 2.0), compare(x.data, 2.0)), (compare(x, ts.tensor(other)), compare(x.data, other)),
                             (compare(other, x), compare(other, x.data))):
        assert isinstance(result, ts.Tensor)
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.numpy(), expected)


def test_a_one_element_tensor_is_truthy_by_its_value():
    assert not ts.tensor([0.0])
    assert ts.tensor(3.0) > 2
    with pytest.raises(ValueError):
        bool(ts.tensor([1.0, 2.0]))


# ------------------------------------------------------------------------------------------------
# Indexing
# ------------------------------------------------------------------------------------------------

def test_slicing_values_and_gradient(float64):
    x = leaf(np.arange(12.0).reshape(3, 4))
    y = x[1:, ::2]
    np.testing.assert_array_equal(y.numpy(), [[4.0, 6.0], [8.0, 10.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])


def test_integer_array_index_with_repeats_accumulates(float64):
    """x[[0, 2, 0, 0]]: element 0 is picked three times, so its gradient is 3 (times the cotangent)."""
    x = leaf([10.0, 20.0, 30.0])
    y = x[np.array([0, 2, 0, 0])]
    np.testing.assert_array_equal(y.numpy(), [10.0, 30.0, 10.0, 10.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [8.0, 0.0, 2.0])


def test_integer_index_given_as_list_or_int_tensor(float64):
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(x[[1, 1]].numpy(), [[3.0, 4.0], [3.0, 4.0]])
    rows, cols = ts.tensor([0, 1, 1]), ts.tensor([1, 0, 0])
    picked = x[rows, cols]
    np.testing.assert_array_equal(picked.numpy(), [2.0, 3.0, 3.0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [2.0, 0.0]])


def test_boolean_mask_index(float64):
    x = leaf([[1.0, -2.0], [-3.0, 4.0]])
    mask = x > 0
    y = x[mask]
    np.testing.assert_array_equal(y.numpy(), [1.0, 4.0])
    y.backward(np.array([5.0, 6.0]))
    np.testing.assert_array_equal(x.grad, [[5.0, 0.0], [0.0, 6.0]])


@given(hnp.arrays(np.float64, (3, 4), elements=st.floats(-5, 5)),
       hnp.integer_array_indices((3, 4), result_shape=hnp.array_shapes(max_dims=2, max_side=5)))
def test_integer_array_gradient_equals_a_count_of_picks(values, index):
    """With an all-ones cotangent, each element's gradient is the number of times it was picked."""
    x = leaf(values)
    x[index].sum().backward()
    counts = np.zeros((3, 4))
    for position in zip(*(i.ravel() for i in index)):
        counts[position] += 1
    np.testing.assert_array_equal(x.grad, counts)


def test_index_out_of_range_is_an_index_error_naming_the_shape():
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        ts.ones(2, 3)[5]


def test_iterating_gives_the_rows():
    rows = list(ts.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert len(rows) == 2
    np.testing.assert_array_equal(rows[1].numpy(), [3.0, 4.0])


# ------------------------------------------------------------------------------------------------
# Accessors
# ------------------------------------------------------------------------------------------------

def test_item_numpy_detach_shape_dtype_ndim_and_T():
    x = ts.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == np.float32 and x.size == 6 and len(x) == 2
    assert isinstance(x.numpy(), np.ndarray) and x.numpy() is x.data
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.numpy(), x.data.T)
    x.T.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))
    assert ts.tensor(2.5).item() == 2.5 and isinstance(ts.tensor(2.5).item(), float)
    assert ts.tensor([[7]]).item() == 7
    with pytest.raises(ValueError, match=r"only one-element tensors.*\(2, 3\)"):
        x.item()
    detached = x.detach()
    assert not detached.requires_grad and detached.numpy() is x.numpy()


def test_T_of_a_3d_tensor_reverses_all_dimensions():
    assert ts.zeros(2, 3, 4).T.shape == (4, 3, 2)
    assert ts.zeros(()).T.shape == ()


def test_every_public_op_is_also_a_method(float64):
    x = leaf([[1.0, 4.0], [9.0, 16.0]])
    np.testing.assert_allclose(x.sqrt().numpy(), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(x.sum(dim=0).numpy(), [10.0, 20.0])
    np.testing.assert_allclose(x.max(1, keepdim=True).values.numpy(), [[4.0], [16.0]])
    np.testing.assert_allclose(x.amax(1, keepdim=True).numpy(), [[4.0], [16.0]])
    assert x.reshape(4).shape == (4,) and x.reshape(1, 4).shape == (1, 4) and x.view(-1).shape == (4,)
    assert [p.shape for p in x.split(1, dim=1)] == [(2, 1), (2, 1)]
    with pytest.raises(AttributeError, match="no attribute 'not_an_op'"):
        x.not_an_op()


def test_tensor_methods_match_the_op_list():
    """Every op in ops.__all__ is a Tensor method (bound in ops/_bind.py) unless it takes a sequence
    of tensors, and every op method of Tensor is in the op list: the two cannot drift apart."""
    from tinyseq import ops
    from tinyseq.ops._bind import FUNCTIONS_ONLY

    assert "__getattr__" not in vars(ts.Tensor), "methods must be defined where grep finds them"
    assert set(FUNCTIONS_ONLY) <= set(ops.__all__)
    for name in ops.__all__:
        if name not in FUNCTIONS_ONLY:
            assert name in vars(ts.Tensor), f"ops.{name} is no Tensor method: add `Tensor.{name} = {name}` to ops/_bind.py"
    op_methods = {name for name, value in vars(ts.Tensor).items()
                  if not name.startswith("_") and getattr(value, "__module__", "").startswith("tinyseq.ops.")
                  and callable(value)}
    assert op_methods <= set(ops.__all__) | {"float", "double"}, op_methods - set(ops.__all__)


def test_where_method_follows_pytorch_argument_order():
    """x.where(condition, y) is where(condition, x, y), as torch.Tensor.where."""
    x, y = ts.tensor([1.0, 2.0]), ts.tensor([10.0, 20.0])
    np.testing.assert_array_equal(x.where(ts.tensor([True, False]), y).numpy(), [1.0, 20.0])


def test_float_and_double_convert_differentiably():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.float().dtype == np.float32
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_argmax_returns_integer_indices_outside_the_graph():
    x = ts.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]], requires_grad=True)
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), [1, 0])
    assert x.argmax().item() == 3 and not x.argmax().requires_grad


def test_repr_shows_values_and_graph_state():
    assert repr(ts.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(ts.tensor([1.0], requires_grad=True))
    assert "grad_fn=Mul" in repr(ts.tensor([1.0], requires_grad=True) * 2)


# ------------------------------------------------------------------------------------------------
# Factories and dtypes
# ------------------------------------------------------------------------------------------------

def test_float_data_defaults_to_float32_and_integer_data_keeps_its_dtype():
    assert ts.tensor([1.0, 2.0]).dtype == np.float32
    assert ts.tensor(np.array([1.0, 2.0])).dtype == np.float32
    assert ts.tensor([1, 2]).dtype == np.int64
    assert ts.tensor([True]).dtype == np.bool_
    assert ts.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert ts.tensor(np.ones(2), dtype=np.float64).dtype == np.float64


def test_tensor_copies_its_data():
    source = np.array([1.0, 2.0], dtype=np.float32)
    t = ts.tensor(source)
    source[0] = 100
    assert t.numpy()[0] == 1.0


@pytest.mark.parametrize("make, shape, value", [
    (lambda **k: ts.zeros(2, 3, **k), (2, 3), 0.0),
    (lambda **k: ts.zeros((2, 3), **k), (2, 3), 0.0),
    (lambda **k: ts.ones(4, **k), (4,), 1.0),
    (lambda **k: ts.full((2, 2), 7.5, **k), (2, 2), 7.5),
    (lambda **k: ts.zeros_like(ts.ones(3, 1), **k), (3, 1), 0.0),
    (lambda **k: ts.ones_like(ts.ones(3, 1), **k), (3, 1), 1.0),
], ids=["zeros(*size)", "zeros(size)", "ones", "full", "zeros_like", "ones_like"])
def test_constant_factories_shape_value_dtype_and_requires_grad(make, shape, value):
    t = make()
    assert t.shape == shape and t.dtype == np.float32 and not t.requires_grad
    np.testing.assert_array_equal(t.numpy(), np.full(shape, value))
    assert make(dtype=np.float64).dtype == np.float64
    assert make(requires_grad=True).requires_grad


def test_full_takes_its_dtype_from_the_fill_value_like_pytorch():
    assert ts.full((2,), 3).dtype == np.int64
    assert ts.full((2,), True).dtype == np.bool_
    assert ts.full((2,), 3.0).dtype == np.float32


def test_like_factories_keep_the_other_tensors_dtype():
    assert ts.zeros_like(ts.ones(2, dtype=np.float64)).dtype == np.float64
    assert ts.ones_like(ts.tensor([1, 2])).dtype == np.int64


def test_arange_follows_pytorch():
    np.testing.assert_array_equal(ts.arange(4).numpy(), [0, 1, 2, 3])
    assert ts.arange(4).dtype == np.int64
    np.testing.assert_array_equal(ts.arange(1, 7, 2).numpy(), [1, 3, 5])
    assert ts.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_array_equal(ts.arange(0.0, 1.0, 0.25).numpy(), [0.0, 0.25, 0.5, 0.75])
    assert ts.arange(3, dtype=np.float64).dtype == np.float64


def test_set_default_dtype_changes_float_data_and_factories(float64):
    assert ts.get_default_dtype() == np.float64
    assert ts.tensor([1.0]).dtype == np.float64
    assert ts.zeros(2).dtype == np.float64 and ts.randn(2).dtype == np.float64
    assert ts.tensor([1]).dtype == np.int64


def test_set_default_dtype_refuses_non_float_dtypes():
    with pytest.raises(TypeError, match="float32 or float64, got int32"):
        ts.set_default_dtype(np.int32)
    assert ts.get_default_dtype() == np.float32


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got int64"):
        ts.tensor([1, 2], requires_grad=True)


def test_manual_seed_makes_randn_rand_and_dropout_reproducible():
    def draws():
        return ts.randn(3, 2).numpy(), ts.rand(4).numpy(), ts.dropout(ts.ones(50), p=0.5).numpy()

    ts.manual_seed(1234)
    first = draws()
    ts.manual_seed(1234)
    second = draws()
    ts.manual_seed(4321)
    other = draws()
    ts.manual_seed(None)
    for a, b, c in zip(first, second, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_random_factories_have_the_right_distribution_roughly():
    """randn: mean 0, std 1; rand: in [0, 1) with mean 1/2. 20,000 draws put the sample mean
    within 5 standard errors (0.035 and 0.010) of the truth."""
    ts.manual_seed(0)
    normal, uniform = ts.randn(20_000).numpy(), ts.rand(20_000).numpy()
    ts.manual_seed(None)
    assert abs(normal.mean()) < 0.035 and abs(normal.std() - 1) < 0.035
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.011


def test_dropout_keeps_about_one_minus_p_and_preserves_the_mean():
    """Inverted dropout: each element kept with probability 1 - p and scaled by 1/(1 - p). With
    p = 0.3 on 20,000 ones, the kept fraction is within 5 standard errors (0.016) of 0.7."""
    ts.manual_seed(7)
    out = ts.dropout(ts.ones(20_000), p=0.3).numpy()
    ts.manual_seed(None)
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.016
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_in_evaluation_is_the_identity():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    assert ts.dropout(x, p=0.5, training=False) is x


def test_size_is_numpys_count_and_pytorchs_method():
    """x.size == 6 (numpy's habit) and x.size() / x.size(d) (PyTorch's) both work; neither is silently wrong."""
    x = ts.zeros(2, 3)
    assert x.size == 6 and x.size + 1 == 7 and not (ts.zeros(0, 3).size != 0)
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3 and ts.tensor(1.0).size() == ()
    with pytest.raises(ValueError, match=r"size\(\): dim must be in \[-2, 2\) for a 2-d tensor, got 2"):
        x.size(2)
    with pytest.raises(TypeError, match=r"size\(\): dim must be an int, got 0.5"):
        x.size(0.5)


def test_pytorch_conveniences_dim_numel_tolist_and_abs():
    """x.dim(), x.numel(), x.tolist() and abs(x) as in PyTorch (values written out by hand); abs(x)
    records the same op as ts.abs, so its gradient is sign(x)."""
    x = ts.tensor([[-1.5, 2.0, 0.5], [3.0, -4.0, 0.25]], requires_grad=True)
    assert x.dim() == 2 and ts.tensor(7.0).dim() == 0
    assert x.numel() == 6 and ts.zeros(0, 3).numel() == 0
    assert x.tolist() == [[-1.5, 2.0, 0.5], [3.0, -4.0, 0.25]] and ts.tensor(3).tolist() == 3
    assert isinstance(x.tolist()[0][0], float)
    y = abs(x)
    assert y.tolist() == [[1.5, 2.0, 0.5], [3.0, 4.0, 0.25]] and y.grad_fn == ts.abs(x).grad_fn
    y.sum().backward()
    assert x.grad.tolist() == [[-1.0, 1.0, 1.0], [1.0, -1.0, 1.0]]
