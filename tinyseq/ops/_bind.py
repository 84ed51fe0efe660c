"""The one place where Tensor gets its operators and op methods: x + y, x @ w, x[0], x.sum(dim=0).

Why here and not in tensor.py: the ops are built on Tensor (they take and return Tensors), so the
engine cannot import them without a cycle. Instead the engine is complete without them, and this
module, run once by `import tinyseq`, attaches each op to Tensor. Every binding is written out, so
searching for `sum =` or `__add__ =` finds it.

Every name in ops.__all__ is a method except the ops in FUNCTIONS_ONLY; tests/test_tensor.py checks
that this list and ops.__all__ agree, so a new op needs one line here.
"""

import numpy as np

from ..tensor import Tensor
from .elementwise import (abs, add, clamp, div, exp, log, maximum, minimum, mul, neg, pow, relu, sigmoid,
                          softplus, sqrt, sub, tanh, to_dtype, where)
from .linalg import matmul
from .nn import cross_entropy, dropout, embedding, linear, log_softmax, softmax
from .reduce import amax, amin, logsumexp, max, mean, min, sum, var
from .shape import (chunk, expand, flip, getitem, pad, permute, reshape, split, squeeze, transpose, unbind,
                    unsqueeze, view)

# These take a sequence of tensors first, so `x.stack()` would mean nothing (PyTorch has no such methods).
FUNCTIONS_ONLY = ("cat", "concat", "stack")


# Python calls the reflected operator when the left operand is not a Tensor: 2 - x is x.__rsub__(2).
def _radd(self, other): return add(other, self)
def _rsub(self, other): return sub(other, self)
def _rmul(self, other): return mul(other, self)
def _rtruediv(self, other): return div(other, self)
def _rpow(self, other): return pow(other, self)
def _rmatmul(self, other): return matmul(other, self)


def _where(self, condition, other):
    """x.where(condition, other): x where condition holds, else other (PyTorch's argument order)."""
    return where(condition, self, other)


def _transposed(self):
    """All dimensions reversed (numpy's .T)."""
    return permute(self, *reversed(range(self.ndim)))


def _float(self):
    """This tensor as float32, differentiably (same shape)."""
    return to_dtype(self, np.float32)


def _double(self):
    """This tensor as float64, differentiably (same shape)."""
    return to_dtype(self, np.float64)


# Operators
Tensor.__add__ = add
Tensor.__radd__ = _radd
Tensor.__sub__ = sub
Tensor.__rsub__ = _rsub
Tensor.__mul__ = mul
Tensor.__rmul__ = _rmul
Tensor.__truediv__ = div
Tensor.__rtruediv__ = _rtruediv
Tensor.__pow__ = pow
Tensor.__rpow__ = _rpow
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = _rmatmul
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__getitem__ = getitem
Tensor.T = property(_transposed)
Tensor.float = _float
Tensor.double = _double

# Elementwise
Tensor.add = add
Tensor.sub = sub
Tensor.mul = mul
Tensor.div = div
Tensor.neg = neg
Tensor.pow = pow
Tensor.exp = exp
Tensor.log = log
Tensor.sqrt = sqrt
Tensor.abs = abs
Tensor.tanh = tanh
Tensor.sigmoid = sigmoid
Tensor.relu = relu
Tensor.softplus = softplus
Tensor.clamp = clamp
Tensor.maximum = maximum
Tensor.minimum = minimum
Tensor.where = _where
Tensor.to_dtype = to_dtype

# Reductions
Tensor.sum = sum
Tensor.mean = mean
Tensor.amax = amax
Tensor.amin = amin
Tensor.max = max
Tensor.min = min
Tensor.logsumexp = logsumexp
Tensor.var = var

# Shape
Tensor.reshape = reshape
Tensor.view = view
Tensor.permute = permute
Tensor.transpose = transpose
Tensor.expand = expand
Tensor.squeeze = squeeze
Tensor.unsqueeze = unsqueeze
Tensor.getitem = getitem
Tensor.split = split
Tensor.chunk = chunk
Tensor.unbind = unbind
Tensor.pad = pad
Tensor.flip = flip

# Linear algebra and neural-network ops
Tensor.matmul = matmul
Tensor.linear = linear
Tensor.log_softmax = log_softmax
Tensor.softmax = softmax
Tensor.cross_entropy = cross_entropy
Tensor.embedding = embedding
Tensor.dropout = dropout
