"""check_op: test an op of your own the way tinyseq tests its own, without editing tinyseq.

    from tinyseq.testing import check_op
    check_op(swish, reference=lambda x: x / (1 + np.exp(-x)))

Hypothesis draws the inputs: shapes that broadcast together, values from `domain`, and sometimes
non-contiguous (strided) arrays. For each draw check_op compares fn with the numpy reference (when
one is given) and backward with central finite differences in float64, using a random cotangent.
When a draw fails, Hypothesis shrinks it to the smallest failing input it can find, and the error
shows that input, the element where the two gradients differ, and both gradients in full.

tests/test_ops.py checks every registered op through check_example, the one-draw check below, so
a learner's op and tinyseq's own ops pass the same test. Hypothesis is a test-time dependency:
it is imported when check_op runs, not when tinyseq is imported.
"""

import numbers

import numpy as np

from .gradcheck import GradcheckError, finite_differences, gradcheck
from .ops.shape import concat
from .tensor import Tensor


class OpCheckError(AssertionError):
    """An op disagrees with its reference or with finite differences; the message says where."""


def check_op(fn, reference=None, shapes=1, domain=(-3.0, 3.0), *, params=None, examples=None, strided=True,
             rtol=1e-7, atol=1e-10, grad_rtol=1e-3, grad_atol=1e-5, eps=1e-6, max_examples=None, name=None):
    """Check fn's values against reference and its gradients against finite differences, on inputs
    drawn by Hypothesis; raise OpCheckError (an AssertionError) for the smallest failing input.

    fn: (*tensors, **params) -> Tensor, or a tuple of Tensors.
    reference: (*arrays, **params) -> array (or a tuple), plain numpy; None checks gradients only.
    shapes: how many tensor inputs fn takes (their shapes are drawn to broadcast together, 0 to 3
        dimensions of size 1 to 3), or a Hypothesis strategy of a tuple of shapes (or of
        hypothesis.extra.numpy.mutually_broadcastable_shapes(...), e.g. with a signature for matmul).
    domain: where the values come from, chosen where fn is smooth (log: (0.1, 10); relu: away from
        0): a (low, high) pair, a Hypothesis strategy of floats, or a list of either, one per input.
    params: keyword arguments for fn and reference.
    examples: instead of shapes, domain and params, a strategy of (arrays, params) pairs.
    strided: also draw non-contiguous inputs (every other element, the last axis reversed).
    rtol, atol: tolerance of the forward comparison; grad_rtol, grad_atol, eps: of the gradient
        comparison (gradcheck's float64 defaults).
    max_examples: how many draws (default: the active Hypothesis profile's).
    """
    hypothesis, strategies, _ = _hypothesis()
    name = name or _name(fn)
    if examples is None:
        examples = _examples(shapes, domain, params or {})
    flags = strategies.booleans() if strided else strategies.just(False)

    @hypothesis.given(example=examples, strided=flags, seed=strategies.integers(0, 2**32 - 1))
    def draws(example, strided, seed):
        arrays, kwargs = example
        if strided:
            arrays = tuple(strided_view(a) for a in arrays)
        check_example(fn, arrays, kwargs, reference=reference, rtol=rtol, atol=atol, grad_rtol=grad_rtol,
                      grad_atol=grad_atol, eps=eps, seed=seed, name=name)

    options = {"deadline": None}  # the first call compiles and allocates; a time limit would be noise
    if max_examples is not None:
        options["max_examples"] = max_examples
    hypothesis.settings(**options)(draws)()


def check_example(fn, arrays, params=None, *, reference=None, gradient=True, rtol=1e-7, atol=1e-10,
                  grad_rtol=1e-3, grad_atol=1e-5, eps=1e-6, seed=0, name=None):
    """One draw of check_op: float arrays become float64 tensors that require grad (integer and
    bool arrays become tensors that do not); fn's outputs must match reference(*arrays) (shape and
    values) and, when `gradient`, backward must match central differences for a random cotangent."""
    params = params or {}
    name = name or _name(fn)
    arrays = [np.asarray(a) for a in arrays]
    tensors = [Tensor(a, requires_grad=a.dtype.kind == "f", dtype=np.float64 if a.dtype.kind == "f" else a.dtype)
               for a in arrays]
    if reference is not None:
        outputs = fn(*tensors, **params)
        _check_forward(name, arrays, outputs, reference(*arrays, **params), rtol, atol)
    if gradient and any(t.requires_grad for t in tensors):
        _check_gradient(name, _one_output(fn, params), tensors, seed, eps, grad_rtol, grad_atol)


def strided_view(a):
    """The values of a as a non-contiguous view into a larger buffer: every other element along each
    axis, the last axis walked backwards (a negative stride)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a
    buffer = np.zeros(tuple(2 * n for n in a.shape), dtype=a.dtype)
    view = buffer[(slice(None, None, 2),) * (a.ndim - 1) + (slice(None, None, -2),)]
    view[...] = a
    return view


def _name(fn):
    """How messages call fn: "swish", or "Swish.apply" for a Function's apply."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):
        return f"{owner.__name__}.{fn.__name__}"
    return getattr(fn, "__name__", "fn")


def _hypothesis():
    try:
        import hypothesis
        from hypothesis import strategies
        from hypothesis.extra import numpy as hypothesis_numpy
    except ImportError:
        raise ImportError(
            "tinyseq.testing.check_op needs Hypothesis, a test-time dependency: pip install hypothesis "
            "(or pip install -e '.[test]')"
        ) from None
    return hypothesis, strategies, hypothesis_numpy


def _examples(shapes, domain, params):
    """The strategy of (arrays, params) that check_op draws from when no `examples` is given."""
    _, strategies, hnp = _hypothesis()
    if isinstance(shapes, numbers.Integral):
        if shapes < 1:
            raise ValueError(f"check_op: shapes must be the number of tensor inputs (>= 1) or a strategy, got {shapes}")
        shapes = hnp.mutually_broadcastable_shapes(num_shapes=int(shapes), min_dims=0, max_dims=3, max_side=3)
    elif not isinstance(shapes, strategies.SearchStrategy):
        raise TypeError(f"check_op: shapes must be an int or a Hypothesis strategy, got {type(shapes).__name__}")

    @strategies.composite
    def draw_example(draw):
        drawn = draw(shapes)
        input_shapes = tuple(getattr(drawn, "input_shapes", drawn))
        elements = _elements(domain, len(input_shapes), strategies)
        arrays = tuple(draw(hnp.arrays(np.float64, shape, elements=element))
                       for shape, element in zip(input_shapes, elements))
        return arrays, params

    return draw_example()


def _elements(domain, count, strategies):
    """One float strategy per input from domain: a (low, high) pair, a strategy, or a list of those."""
    def one(spec):
        if isinstance(spec, strategies.SearchStrategy):
            return spec
        if isinstance(spec, (tuple, list)) and len(spec) == 2 and all(isinstance(v, numbers.Real) for v in spec):
            return strategies.floats(float(spec[0]), float(spec[1]), allow_nan=False, allow_infinity=False)
        raise TypeError(f"check_op: domain must be a (low, high) pair or a Hypothesis strategy, got {spec!r}")

    per_input = isinstance(domain, (list, tuple)) and not all(isinstance(v, numbers.Real) for v in domain)
    if not per_input:
        return [one(domain)] * count
    if len(domain) != count:
        raise ValueError(f"check_op: domain lists {len(domain)} entries, but fn takes {count} tensor inputs")
    return [one(spec) for spec in domain]


def _one_output(fn, params):
    """fn with its outputs flattened and joined when it has several (a random cotangent on the join
    is a random cotangent on every piece)."""
    def joined(*tensors):
        out = fn(*tensors, **params)
        return concat([piece.reshape(-1) for piece in out]) if isinstance(out, tuple) else out

    return joined


def _check_forward(name, arrays, outputs, expected, rtol, atol):
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    if len(outputs) != len(expected):
        raise OpCheckError(f"{name}: {len(outputs)} output(s), the reference gives {len(expected)}\n{_describe(arrays)}")
    for number, (out, want) in enumerate(zip(outputs, expected)):
        got, want = np.asarray(out.data), np.asarray(want)
        if got.shape != want.shape:
            raise OpCheckError(f"{name}: output {number} has shape {got.shape}, the reference's is {want.shape}\n"
                               f"{_describe(arrays)}")
        if any(a.dtype.kind == "f" for a in arrays) and got.dtype.kind == "f" and got.dtype != np.float64:
            raise OpCheckError(f"{name}: float64 inputs gave a {got.dtype} output {number}\n{_describe(arrays)}")
        bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
        if np.any(bad):
            element = tuple(int(i) for i in np.argwhere(bad)[0])
            raise OpCheckError(
                f"{name}: output {number} differs from the reference at element {element}: "
                f"{got[element]!r} instead of {want[element]!r} (rtol {rtol}, atol {atol})\n{_describe(arrays)}\n"
                f"  output:    {_show(got)}\n  reference: {_show(want)}"
            )


def _check_gradient(name, fn, tensors, seed, eps, rtol, atol):
    """gradcheck decides; when it fails, both gradients are computed in full for the message."""
    try:
        gradcheck(fn, tensors, eps=eps, atol=atol, rtol=rtol, seed=seed)
    except GradcheckError:
        raise OpCheckError(_gradient_report(name, fn, tensors, seed, eps, rtol, atol)) from None


def _gradient_report(name, fn, tensors, seed, eps, rtol, atol):
    """Where backward and central differences of <cotangent, fn(inputs)> differ most, and both in full."""
    output = fn(*tensors)
    cotangent = np.random.default_rng(seed).standard_normal(output.shape)  # gradcheck's cotangent
    for t in tensors:
        t.grad = None
    output.backward(cotangent)
    worst = None
    for position, tensor in enumerate(tensors):
        if not tensor.requires_grad:
            continue
        analytic = np.zeros(tensor.shape) if tensor.grad is None else np.array(tensor.grad, dtype=np.float64)
        numerical = finite_differences(fn, tensors, tensor.data, cotangent, eps)
        excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
        excess = np.where(np.isnan(excess), np.inf, excess)
        element = np.unravel_index(np.argmax(excess), excess.shape)
        if worst is None or excess[element] > worst[0]:
            worst = (excess[element], position, tuple(int(i) for i in element), analytic, numerical)
    _, position, element, analytic, numerical = worst
    return (
        f"{name}: the gradient of input {position} differs from finite differences at element {element}: "
        f"backward gives {analytic[element]:.6g}, finite differences {numerical[element]:.6g} "
        f"(rtol {rtol}, atol {atol})\n{_describe([t.data for t in tensors])}\n"
        f"  cotangent (random, seed {seed}): {_show(cotangent)}\n"
        f"  gradient of input {position} from backward:            {_show(analytic)}\n"
        f"  gradient of input {position} from finite differences:  {_show(numerical)}"
    )


def _describe(arrays):
    return "\n".join(f"  input {i}: shape {np.shape(a)}, {np.asarray(a).dtype}{', strided' if _strided(a) else ''}: "
                     f"{_show(a)}" for i, a in enumerate(arrays))


def _strided(a):
    return isinstance(a, np.ndarray) and a.ndim > 0 and not a.flags.c_contiguous


def _show(a):
    return np.array2string(np.asarray(a), precision=6, separator=", ", max_line_width=1000, threshold=60)
