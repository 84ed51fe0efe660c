"""tinyseq: a small, readable deep-learning framework for sequence models.

    import tinyseq as ts
    import tinyseq.nn as nn
    import tinyseq.nn.functional as F
"""

from .memory import keep_freed_memory_unless_disabled

keep_freed_memory_unless_disabled()  # glibc keeps freed arrays' memory for reuse: see tinyseq/memory.py

from .ops import _bind  # noqa: F401,E402  (gives Tensor its operators and op methods: see that file)
from . import ctc, data, metrics, nn, ops, optim
from .creation import arange, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .dtype import get_default_dtype, set_default_dtype
from .function import Context, Function
from .grad_mode import is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .io import load, save
from .ops import *  # noqa: F401,F403  (every public op: ts.exp, ts.concat, ts.where, ...)
from .rng import manual_seed
from .tensor import Tensor
from . import interop, viz  # the PyTorch bridge and the graph picture: torch and matplotlib load on first use

__version__ = "0.1.0"
