"""The op set. Each family lives in its own file; __all__ lists every public op, and the test
registry (tests/op_registry.py) must hold an entry for each name here."""

from .elementwise import (abs, add, clamp, div, exp, log, maximum, minimum, mul, neg, pow, relu,
                          sigmoid, softplus, sqrt, sub, tanh, to_dtype, where)
from .linalg import matmul
from .nn import cross_entropy, dropout, embedding, linear, log_softmax, softmax
from .reduce import amax, amin, logsumexp, max, mean, min, sum, var
from .shape import (cat, chunk, concat, expand, flip, getitem, pad, permute, reshape, split, squeeze,
                    stack, transpose, unbind, unsqueeze, view)

__all__ = [
    # elementwise
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu",
    "softplus", "clamp", "maximum", "minimum", "where", "to_dtype",
    # reductions
    "sum", "mean", "amax", "amin", "max", "min", "logsumexp", "var",
    # shape
    "reshape", "view", "permute", "transpose", "expand", "squeeze", "unsqueeze", "getitem", "concat", "cat",
    "stack", "split", "chunk", "unbind", "pad", "flip",
    # linear algebra
    "matmul",
    # neural-network ops
    "linear", "log_softmax", "softmax", "cross_entropy", "embedding", "dropout",
]
