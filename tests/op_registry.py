"""The op registry: every public op paired with a plain-numpy reference and a safe input strategy.

tests/test_ops.py runs the same checks on every entry here: the forward value against the numpy
reference, the gradient against central differences (ts.gradcheck), and both again on
non-contiguous inputs; entries with `operands` are also checked on broadcasting shapes. A public op
(a name in tinyseq.ops.__all__) without an entry makes test_every_public_op_has_a_registry_entry
fail, so adding an op means writing its Function and one `OpEntry(...)` line below.

An entry draws an `Example`: the arrays the op takes (float arrays become tensors that require
grad; int and bool arrays become tensors that do not) and the remaining keyword arguments. Inputs
stay away from the places where a derivative does not exist (relu and abs at 0, max at ties, clamp
at its bounds), because central differences there measure something else; the behaviour at those
points is pinned down by hand-derived tests instead.

References are written from each op's definition with different numpy code from tinyseq's where
that is possible (softmax as exp / sum, not shifted; expand as a multiplication by ones; flip by
negative-step slices), so a shared mistake is unlikely.
"""

import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyseq as ts


class Example(NamedTuple):
    arrays: tuple
    params: dict


@dataclass(frozen=True)
class OpEntry:
    """How to test one public op.

    id: the test id (an op may have several entries, e.g. pow with a tensor or a scalar exponent).
    op: the name in tinyseq.ops.__all__ that this entry covers.
    apply: (*tensors, **params) -> Tensor or tuple of Tensors, calling tinyseq.
    reference: (*arrays, **params) -> array or tuple of arrays, plain numpy; None when the op is
        random (dropout) and `check_forward` states the property its output must have instead.
    examples: a strategy of Example.
    operands: for ops that broadcast, one (element strategy, dtype) pair per array, so test_ops
        can draw mutually broadcastable shapes for them; `signature` (a gufunc signature) says
        which dimensions are the core ones, for matmul.
    """

    id: str
    op: str
    apply: Callable
    reference: Callable | None
    examples: st.SearchStrategy
    operands: tuple = ()
    signature: str | None = None
    check_forward: Callable | None = None
    rtol: float = 1e-10  # the forward check against `reference`; gradcheck uses its own atol and rtol
    atol: float = 1e-12
    notes: str = field(default="", compare=False)


# ---------------------------------------------------------------------------------------------
# Input strategies
# ---------------------------------------------------------------------------------------------

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
NONEMPTY_SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(low, high):
    """Floats with low <= |x| <= high: keeps relu, abs and division away from their singular point."""
    return floats(low, high) | floats(-high, -low)


ANY = floats(-3, 3)
MODERATE = floats(-5, 5)
POSITIVE = floats(0.1, 10)
NONZERO = away_from_zero(0.5, 3)
KINKLESS = away_from_zero(0.01, 3)
# maximum/minimum draw one operand from each grid, so no two compared values are within 0.05.
EVEN_GRID = st.integers(-30, 30).map(lambda k: k / 10)
ODD_GRID = st.integers(-30, 30).map(lambda k: k / 10 + 0.05)


def array(shape, elements, dtype=np.float64):
    return hnp.arrays(dtype, shape, elements=elements)


@st.composite
def distinct_array(draw, shape):
    """An array whose elements differ pairwise by at least 0.1 (no ties for max/min)."""
    size = math.prod(shape)
    values = draw(st.lists(st.integers(-60, 60), min_size=size, max_size=size, unique=True))
    return np.array(values, dtype=np.float64).reshape(shape) / 10


@st.composite
def dims(draw, ndim, allow_none=True, allow_tuple=True):
    """A dim argument for an ndim-d tensor: None, an int (possibly negative) or a tuple of distinct ints."""
    if ndim == 0:
        return None
    choices = [st.integers(-ndim, ndim - 1)]
    if allow_none:
        choices.append(st.none())
    if allow_tuple:
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return draw(st.one_of(*choices))


def unary(elements, shapes=SHAPES):
    return array(shapes, elements).map(lambda a: Example((a,), {}))


def binary(first, second):
    return SHAPES.flatmap(lambda shape: st.tuples(array(shape, first), array(shape, second))).map(
        lambda pair: Example(pair, {}))


@st.composite
def reduction(draw, distinct=False, allow_tuple=True):
    """(x,) with dim (None, an int or, with allow_tuple, a tuple) and keepdim."""
    shape = draw(SHAPES)
    x = draw(distinct_array(shape) if distinct else array(shape, ANY))
    return Example((x,), {"dim": draw(dims(len(shape), allow_tuple=allow_tuple)), "keepdim": draw(st.booleans())})


def values_of(extreme):
    """max / min as a one-output op for the registry: along a dim they return (values, indices), and
    the indices (integers, outside the graph) are checked against PyTorch in test_torch_parity."""
    def values(x, dim, keepdim):
        result = extreme(x, dim, keepdim)
        return result if dim is None else result.values
    return values


def axes_of(dim, ndim):
    """The reduced axes, as numpy wants them (a tuple), for a tinyseq dim argument."""
    if dim is None:
        return tuple(range(ndim))
    return tuple(d % ndim for d in ((dim,) if isinstance(dim, int) else dim))


# ---------------------------------------------------------------------------------------------
# Examples of the ops whose arguments depend on the input's shape
# ---------------------------------------------------------------------------------------------

@st.composite
def var_examples(draw):
    """correction 0 or 1, but never as many as the elements reduced (N - correction must be > 0)."""
    example = draw(reduction())
    (x,) = example.arrays
    count = math.prod(x.shape[a] for a in axes_of(example.params["dim"], x.ndim))
    correction = draw(st.sampled_from([0, 1])) if count > 1 else 0
    return Example(example.arrays, {**example.params, "correction": correction})


@st.composite
def clamp_examples(draw):
    x = draw(array(SHAPES, ODD_GRID))
    low = draw(st.none() | EVEN_GRID)
    high = draw((st.none() | EVEN_GRID) if low is not None else EVEN_GRID)
    return Example((x,), {"min": low, "max": high})


@st.composite
def reshape_examples(draw):
    shape = draw(SHAPES)
    size = math.prod(shape)
    factors = draw(st.permutations([f for f in _prime_factors(size)]))
    cuts = sorted(draw(st.lists(st.integers(0, len(factors)), max_size=3)))
    pieces, start = [], 0
    for cut in cuts + [len(factors)]:
        pieces.append(math.prod(factors[start:cut]))
        start = cut
    if draw(st.booleans()):
        pieces[draw(st.integers(0, len(pieces) - 1))] = -1
    return Example((draw(array(shape, ANY)),), {"shape": tuple(pieces)})


def _prime_factors(n):
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


@st.composite
def permute_examples(draw):
    shape = draw(SHAPES)
    order = draw(st.permutations(range(len(shape))))
    signed = [d - len(shape) if draw(st.booleans()) else d for d in order]
    return Example((draw(array(shape, ANY)),), {"dims": tuple(signed)})


@st.composite
def transpose_examples(draw):
    shape = draw(NONEMPTY_SHAPES)
    ndim = len(shape)
    return Example((draw(array(shape, ANY)),), {"dim0": draw(st.integers(-ndim, ndim - 1)),
                                                "dim1": draw(st.integers(-ndim, ndim - 1))})


@st.composite
def expand_examples(draw):
    shape = draw(SHAPES)
    stretched = [n if n != 1 else draw(st.sampled_from([1, 2, 3])) for n in shape]
    sizes = [-1 if draw(st.booleans()) else n for n in stretched]
    leading = draw(st.lists(st.integers(1, 3), max_size=2))
    return Example((draw(array(shape, ANY)),), {"sizes": tuple(leading + sizes)})


@st.composite
def squeeze_examples(draw):
    shape = tuple(draw(st.lists(st.sampled_from([1, 1, 2, 3]), max_size=4)))
    return Example((draw(array(shape, ANY)),), {"dim": draw(dims(len(shape), allow_tuple=False))})


@st.composite
def unsqueeze_examples(draw):
    shape = draw(SHAPES)
    return Example((draw(array(shape, ANY)),), {"dim": draw(st.integers(-len(shape) - 1, len(shape)))})


@st.composite
def getitem_examples(draw):
    """Basic indices (ints, slices, None, Ellipsis), integer arrays with repeats, boolean masks."""
    shape = draw(NONEMPTY_SHAPES)
    kind = draw(st.sampled_from(["basic", "integer array", "mask"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "integer array":
        index = draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2, max_side=4)))
    else:
        mask_dims = draw(st.integers(1, len(shape)))
        index = draw(hnp.arrays(np.bool_, shape[:mask_dims]))
    return Example((draw(array(shape, ANY)),), {"index": index})


@st.composite
def concat_examples(draw):
    base = list(draw(NONEMPTY_SHAPES))
    dim = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(1, 3))
    arrays = []
    for _ in range(count):
        base[dim] = draw(st.integers(1, 3))
        arrays.append(draw(array(tuple(base), ANY)))
    return Example(tuple(arrays), {"dim": dim})


@st.composite
def stack_examples(draw):
    shape = draw(SHAPES)
    count = draw(st.integers(1, 3))
    return Example(tuple(draw(array(shape, ANY)) for _ in range(count)),
                   {"dim": draw(st.integers(-len(shape) - 1, len(shape)))})


@st.composite
def split_examples(draw):
    shape = draw(NONEMPTY_SHAPES)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[dim]
    if draw(st.booleans()):
        sections = draw(st.integers(1, length + 1))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))  # repeated cuts give empty sections
        sections = [end - start for start, end in zip([0] + cuts, cuts + [length])]
    return Example((draw(array(shape, ANY)),), {"split_size_or_sections": sections, "dim": dim})


@st.composite
def chunk_examples(draw):
    shape = draw(NONEMPTY_SHAPES)
    return Example((draw(array(shape, ANY)),), {"chunks": draw(st.integers(1, 4)),
                                                "dim": draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def unbind_examples(draw):
    shape = draw(NONEMPTY_SHAPES)
    return Example((draw(array(shape, ANY)),), {"dim": draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def pad_examples(draw):
    shape = draw(NONEMPTY_SHAPES)
    padded_dims = draw(st.integers(1, len(shape)))
    pad = tuple(draw(st.lists(st.integers(0, 2), min_size=2 * padded_dims, max_size=2 * padded_dims)))
    return Example((draw(array(shape, ANY)),), {"pad": pad, "value": draw(ANY)})


@st.composite
def flip_examples(draw):
    shape = draw(NONEMPTY_SHAPES)
    return Example((draw(array(shape, ANY)),), {"dims": draw(dims(len(shape), allow_none=False))})


MATMUL_SIGNATURE = "(m?,n),(n,p?)->(m?,p?)"


@st.composite
def matmul_examples(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(signature=MATMUL_SIGNATURE, max_dims=2, max_side=3))
    return Example(tuple(draw(array(s, ANY)) for s in shapes.input_shapes), {})


@st.composite
def linear_examples(draw):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    in_features, out_features = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = draw(array(batch + (in_features,), ANY))
    weight = draw(array((out_features, in_features), ANY))
    if draw(st.booleans()):
        return Example((x, weight, draw(array((out_features,), ANY))), {})
    return Example((x, weight), {})


@st.composite
def softmax_examples(draw):
    shape = draw(NONEMPTY_SHAPES)
    return Example((draw(array(shape, MODERATE)),), {"dim": draw(st.integers(-len(shape), len(shape) - 1))})


@st.composite
def cross_entropy_examples(draw):
    """Logits (C,), (N, C) or (N, C, d1[, d2]); targets valid or ignored, never all ignored for mean."""
    classes = draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    if layout == "unbatched":
        target_shape, logits_shape = (), (classes,)
    else:
        n = draw(st.integers(1, 3))
        extra = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=2)) if layout == "spatial" else ()
        target_shape, logits_shape = (n,) + extra, (n, classes) + extra
    ignore_index = draw(st.sampled_from([-100, 0, 2]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    target = draw(hnp.arrays(np.int64, target_shape, elements=st.sampled_from(list(range(classes)) + [ignore_index])))
    if reduction == "mean" and np.all(target == ignore_index):
        target = np.full(target_shape, (ignore_index + 1) % classes, dtype=np.int64)
        if np.all(target == ignore_index):
            reduction = "sum"
    logits = draw(array(logits_shape, MODERATE))
    weight = draw(st.none() | hnp.arrays(np.float64, (classes,), elements=st.floats(0.5, 2.0)))
    label_smoothing = draw(st.sampled_from([0.0, 0.1, 0.6]))
    return Example((logits, target), {"weight": weight, "ignore_index": ignore_index, "reduction": reduction,
                                      "label_smoothing": label_smoothing})


@st.composite
def embedding_examples(draw):
    """Indices of any shape (repeats likely) into a (num_embeddings, dim) weight; padding_idx or not."""
    num_embeddings, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4))
    indices = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, num_embeddings - 1)))
    padding_idx = draw(st.none() | st.integers(-num_embeddings, num_embeddings - 1))
    return Example((indices, draw(array((num_embeddings, dim), ANY))), {"padding_idx": padding_idx})


@st.composite
def dropout_examples(draw):
    x = draw(array(SHAPES, KINKLESS))
    return Example((x,), {"p": draw(st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0])),
                          "seed": draw(st.integers(0, 2**31))})


@st.composite
def where_examples(draw):
    shape = draw(SHAPES)
    return Example((draw(hnp.arrays(np.bool_, shape)), draw(array(shape, ANY)), draw(array(shape, ANY))), {})


# ---------------------------------------------------------------------------------------------
# References that need more than one line
# ---------------------------------------------------------------------------------------------

def reference_clamp(x, min=None, max=None):
    lower = x if min is None else np.where(x < min, min, x)
    return lower if max is None else np.where(lower > max, max, lower)


def reference_var(x, dim, keepdim, correction):
    return np.var(x, axis=axes_of(dim, x.ndim), ddof=correction, keepdims=keepdim)


def reference_logsumexp(x, dim, keepdim):
    return np.log(np.sum(np.exp(x), axis=axes_of(dim, x.ndim), keepdims=keepdim))


def reference_transpose(x, dim0, dim1):
    order = list(range(x.ndim))
    order[dim0], order[dim1] = order[dim1], order[dim0]
    return np.transpose(x, order)


def reference_expand(x, sizes):
    """Broadcasting by multiplication with ones; -1 keeps the input's size (aligned from the right)."""
    offset = len(sizes) - x.ndim
    shape = [x.shape[i - offset] if s == -1 else s for i, s in enumerate(sizes)]
    return x * np.ones(shape)


def reference_squeeze(x, dim):
    if dim is None:
        return x.reshape([n for n in x.shape if n != 1])
    return x.reshape([n for i, n in enumerate(x.shape) if not (i == dim % x.ndim and n == 1)])


def reference_split(x, split_size_or_sections, dim):
    """PyTorch's documented rule: an int cuts pieces of that size from the start (the last may be
    shorter); a list gives each piece's size."""
    length = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        starts = range(0, max(length, 1), split_size_or_sections)
        sizes = [min(split_size_or_sections, length - start) for start in starts]
    else:
        sizes = split_size_or_sections
    pieces, start = [], 0
    for size in sizes:
        pieces.append(np.take(x, range(start, start + size), axis=dim))
        start += size
    return tuple(pieces)


def reference_chunk(x, chunks, dim):
    """PyTorch's documented rule: pieces of ceil(length / chunks), the last one possibly shorter,
    so fewer than `chunks` pieces may come back."""
    return reference_split(x, -(-x.shape[dim] // chunks), dim)


def reference_pad(x, pad, value):
    """Fill a larger array with value and copy x into its middle; pad pairs start at the last dim."""
    before, after = [0] * x.ndim, [0] * x.ndim
    for pair in range(len(pad) // 2):
        before[x.ndim - 1 - pair], after[x.ndim - 1 - pair] = pad[2 * pair], pad[2 * pair + 1]
    out = np.full([b + n + a for b, n, a in zip(before, x.shape, after)], value)
    out[tuple(slice(b, b + n) for b, n in zip(before, x.shape))] = x
    return out


def reference_flip(x, dims):
    flipped = axes_of(dims, x.ndim)
    return x[tuple(slice(None, None, -1) if axis in flipped else slice(None) for axis in range(x.ndim))]


def reference_matmul(a, b):
    """einsum on the 2-D forms, then the dimensions added for 1-D operands are dropped."""
    out = np.einsum("...ij,...jk->...ik", a[None, :] if a.ndim == 1 else a, b[:, None] if b.ndim == 1 else b)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


def reference_linear(x, weight, bias=None):
    out = np.einsum("...i,oi->...o", x, weight)
    return out if bias is None else out + bias


def reference_softmax(x, dim):
    e = np.exp(x)
    return e / e.sum(axis=dim, keepdims=True)


def reference_cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Position by position: (1 - e) w[y] (-log p[y]) + (e / C) sum_c w[c] (-log p[c]) with
    p = exp(logits) / sum of exp(logits), 0 where ignored; the mean divides by the sum of w[y]."""
    if logits.ndim == 1:
        logits, target = logits[None], target[None]
        unbatched = True
    else:
        unbatched = False
    classes_last = np.moveaxis(logits, 1, -1)
    classes = logits.shape[1]
    weight = np.ones(classes) if weight is None else weight
    losses, total_weight = np.zeros(target.shape), 0.0
    for position in np.ndindex(target.shape):
        if target[position] != ignore_index:
            row = classes_last[position]
            minus_log_p = -np.log(np.exp(row) / np.exp(row).sum())
            losses[position] = ((1 - label_smoothing) * weight[target[position]] * minus_log_p[target[position]]
                                + label_smoothing / classes * np.dot(weight, minus_log_p))
            total_weight += weight[target[position]]
    if reduction == "none":
        return losses[0] if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / total_weight


def dropout_output_is_a_scaled_mask(example, output):
    """Each element is dropped (0) or kept and scaled by 1 / (1 - p); the same seed, the same mask."""
    (x,), p, seed = example.arrays, example.params["p"], example.params["seed"]
    kept = output != 0
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    np.testing.assert_allclose(output, np.where(kept, x * scale, 0.0), rtol=1e-12)
    if p == 0.0:
        assert kept.all()
    if p == 1.0:
        assert not kept.any()
    again = ts_apply_dropout(ts.tensor(x, dtype=np.float64), p=p, seed=seed).numpy()
    np.testing.assert_array_equal(again, output)


def ts_apply_dropout(x, p, seed):
    """Dropout with the generator reseeded first, so the mask is a fixed function of seed and
    gradcheck's repeated forward passes all see the same mask."""
    ts.manual_seed(seed)
    return ts.dropout(x, p=p)


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------

def _unary_entry(name, reference, elements, **extra):
    return OpEntry(name, name, getattr(ts, name), reference, unary(elements), **extra)


def _binary_entry(name, reference, first, second, **extra):
    return OpEntry(name, name, getattr(ts, name), reference, binary(first, second),
                   operands=((first, np.float64), (second, np.float64)), **extra)

REGISTRY = [
    # elementwise
    _binary_entry("add", np.add, ANY, ANY),
    _binary_entry("sub", np.subtract, ANY, ANY),
    _binary_entry("mul", np.multiply, ANY, ANY),
    _binary_entry("div", np.divide, ANY, NONZERO),
    _binary_entry("pow", lambda a, b: np.exp(b * np.log(a)), floats(0.5, 2.5), floats(-2, 2), rtol=1e-9),
    OpEntry("pow_scalar_exponent", "pow", lambda x, exponent: x**exponent, lambda x, exponent: np.power(x, exponent),
            st.tuples(array(SHAPES, floats(0.5, 2.5)), st.sampled_from([2, 3, -1, 0.5, -1.5, 0])).map(
                lambda drawn: Example((drawn[0],), {"exponent": drawn[1]}))),
    OpEntry("pow_scalar_base", "pow", lambda x, base: base**x, lambda x, base: np.exp(x * np.log(base)),
            st.tuples(array(SHAPES, ANY), st.sampled_from([2, 0.5, math.e])).map(
                lambda drawn: Example((drawn[0],), {"base": drawn[1]})), rtol=1e-9),
    _unary_entry("neg", np.negative, ANY),
    _unary_entry("exp", np.exp, ANY),
    _unary_entry("log", np.log, POSITIVE),
    _unary_entry("sqrt", np.sqrt, POSITIVE),
    _unary_entry("abs", lambda x: np.where(x < 0, -x, x), KINKLESS),
    _unary_entry("tanh", lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), MODERATE, rtol=1e-9),
    _unary_entry("sigmoid", lambda x: 1 / (1 + np.exp(-x)), MODERATE, rtol=1e-9),
    _unary_entry("relu", lambda x: np.where(x > 0, x, 0.0), KINKLESS),
    _unary_entry("softplus", lambda x: np.log1p(np.exp(x)), MODERATE, rtol=1e-9),
    OpEntry("clamp", "clamp", ts.clamp, reference_clamp, clamp_examples()),
    _binary_entry("maximum", lambda a, b: np.where(a > b, a, b), EVEN_GRID, ODD_GRID),
    _binary_entry("minimum", lambda a, b: np.where(a < b, a, b), ODD_GRID, EVEN_GRID),
    OpEntry("where", "where", ts.where, lambda c, a, b: c * a + ~c * b, where_examples(),
            operands=((st.booleans(), np.bool_), (ANY, np.float64), (ANY, np.float64))),
    OpEntry("to_dtype", "to_dtype", lambda x: ts.to_dtype(x, np.float64), lambda x: x.astype(np.float64), unary(ANY),
            notes="float64 to float64 here: a float32 round trip is too coarse for finite differences; "
                  "test_tensor checks the float32 gradient's dtype"),
    # reductions
    OpEntry("sum", "sum", ts.sum, lambda x, dim, keepdim: np.sum(x, axis=axes_of(dim, x.ndim), keepdims=keepdim),
            reduction()),
    OpEntry("mean", "mean", ts.mean,
            lambda x, dim, keepdim: np.sum(x, axis=axes_of(dim, x.ndim), keepdims=keepdim)
            / math.prod(x.shape[a] for a in axes_of(dim, x.ndim)), reduction()),
    OpEntry("amax", "amax", ts.amax, lambda x, dim, keepdim: np.amax(x, axis=axes_of(dim, x.ndim), keepdims=keepdim),
            reduction(distinct=True)),
    OpEntry("amin", "amin", ts.amin, lambda x, dim, keepdim: np.amin(x, axis=axes_of(dim, x.ndim), keepdims=keepdim),
            reduction(distinct=True)),
    OpEntry("max", "max", values_of(ts.max),
            lambda x, dim, keepdim: np.amax(x, axis=axes_of(dim, x.ndim), keepdims=keepdim),
            reduction(distinct=True, allow_tuple=False)),
    OpEntry("min", "min", values_of(ts.min),
            lambda x, dim, keepdim: np.amin(x, axis=axes_of(dim, x.ndim), keepdims=keepdim),
            reduction(distinct=True, allow_tuple=False)),
    OpEntry("logsumexp", "logsumexp", ts.logsumexp, reference_logsumexp, reduction(), rtol=1e-9),
    OpEntry("var", "var", ts.var, reference_var, var_examples(), rtol=1e-9),
    # shape
    OpEntry("reshape", "reshape", lambda x, shape: ts.reshape(x, *shape), lambda x, shape: x.reshape(shape),
            reshape_examples()),
    OpEntry("view", "view", lambda x, shape: ts.view(x, shape), lambda x, shape: x.reshape(shape), reshape_examples()),
    OpEntry("permute", "permute", lambda x, dims: ts.permute(x, *dims), lambda x, dims: np.transpose(x, dims),
            permute_examples()),
    OpEntry("transpose", "transpose", ts.transpose, reference_transpose, transpose_examples()),
    OpEntry("expand", "expand", lambda x, sizes: ts.expand(x, *sizes), reference_expand, expand_examples()),
    OpEntry("squeeze", "squeeze", ts.squeeze, reference_squeeze, squeeze_examples()),
    OpEntry("unsqueeze", "unsqueeze", ts.unsqueeze, lambda x, dim: np.expand_dims(x, dim), unsqueeze_examples()),
    OpEntry("getitem", "getitem", ts.getitem, lambda x, index: x[index], getitem_examples()),
    OpEntry("concat", "concat", lambda *xs, dim: ts.concat(xs, dim=dim),
            lambda *xs, dim: np.concatenate(xs, axis=dim), concat_examples()),
    OpEntry("cat", "cat", lambda *xs, dim: ts.cat(list(xs), dim), lambda *xs, dim: np.concatenate(xs, axis=dim),
            concat_examples()),
    OpEntry("stack", "stack", lambda *xs, dim: ts.stack(xs, dim=dim), lambda *xs, dim: np.stack(xs, axis=dim),
            stack_examples()),
    OpEntry("split", "split", ts.split, reference_split, split_examples()),
    OpEntry("chunk", "chunk", ts.chunk, reference_chunk, chunk_examples()),
    OpEntry("unbind", "unbind", ts.unbind,
            lambda x, dim: tuple(np.take(x, i, axis=dim) for i in range(x.shape[dim])), unbind_examples()),
    OpEntry("pad", "pad", ts.pad, reference_pad, pad_examples()),
    OpEntry("flip", "flip", ts.flip, reference_flip, flip_examples()),
    # linear algebra
    OpEntry("matmul", "matmul", ts.matmul, reference_matmul, matmul_examples(),
            operands=((ANY, np.float64), (ANY, np.float64)),
            signature=MATMUL_SIGNATURE, rtol=1e-9, atol=1e-12),
    # neural-network ops
    OpEntry("linear", "linear", ts.linear, reference_linear, linear_examples(), rtol=1e-9),
    OpEntry("log_softmax", "log_softmax", ts.log_softmax, lambda x, dim: np.log(reference_softmax(x, dim)),
            softmax_examples(), rtol=1e-9, atol=1e-10),
    OpEntry("softmax", "softmax", ts.softmax, reference_softmax, softmax_examples(), rtol=1e-9),
    OpEntry("cross_entropy", "cross_entropy", ts.cross_entropy, reference_cross_entropy, cross_entropy_examples(),
            rtol=1e-9, atol=1e-10),
    OpEntry("embedding", "embedding", ts.embedding,
            lambda indices, weight, padding_idx: np.take(weight, indices, axis=0), embedding_examples(),
            notes="the padding row's gradient is zero by design, so test_ops compares against a scatter-add "
                  "instead of finite differences when padding_idx is given"),
    OpEntry("dropout", "dropout", ts_apply_dropout, None, dropout_examples(),
            check_forward=dropout_output_is_a_scaled_mask),
]
