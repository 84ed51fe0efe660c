"""The feed-forward layers: Linear, Embedding, Dropout, Sequential.

Initialisation follows PyTorch so that a model trains the same way in both: Linear draws weight
and bias from U(-1/sqrt(in_features), 1/sqrt(in_features)); Embedding from N(0, 1).
"""

import numpy as np

from .. import rng
from ..dtype import get_default_dtype
from ..ops import dropout, embedding, linear
from .module import Module, ModuleList, Parameter


def uniform_parameter(shape, bound):
    """A Parameter drawn from U(-bound, bound) with the seeded generator, in the default dtype."""
    return Parameter(rng.generator().uniform(-bound, bound, size=shape).astype(get_default_dtype()))


class Linear(Module):
    """y = x W^T + b.   x: (*, in_features) -> y: (*, out_features).

    weight: (out_features, in_features)   bias: (out_features,)
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {value!r}")
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / np.sqrt(in_features)
        self.weight = uniform_parameter((out_features, in_features), bound)
        self.bias = uniform_parameter((out_features,), bound) if bias else None

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table: integer indices (*) -> rows of weight (*, embedding_dim).

    weight: (num_embeddings, embedding_dim), drawn from N(0, 1); the padding_idx row starts at zero
    and never receives a gradient.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"Embedding: {name} must be an int, got {type(value).__name__} {value!r}")
            if value < 0:
                raise ValueError(f"Embedding: {name} must be >= 0, got {value}")
        if padding_idx is not None:
            if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(f"Embedding: padding_idx must be an int or None, got {padding_idx!r}")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [{-num_embeddings}, {num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        weight = rng.generator().standard_normal((num_embeddings, embedding_dim)).astype(get_default_dtype())
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = Parameter(weight)

    def forward(self, indices):
        return embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        padding = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"


class Dropout(Module):
    """Zeroes each element with probability p in training mode (scaling the rest by 1/(1-p));
    the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout: p must be a number in [0, 1], got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Sequential(ModuleList):
    """Modules applied one after another; registered as "0", "1", ... (a ModuleList with a forward)."""

    def __init__(self, *modules):
        super().__init__(modules)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x
