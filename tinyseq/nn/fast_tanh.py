"""tanh and sigmoid for the compiled loops of the recurrent layers (nn/fused.py): the exact libm tanh
for float64, a rational function that compiles to vector instructions for float32.

Why not np.tanh. On a CPU without AVX-512 (this project's 2-core test machines, most laptops) numpy's
float32 tanh and exp are scalar loops: about 4-7 ns an element, where np.add takes 0.4 ns. Inside a
Numba loop math.tanh is a scalar libm call too (Numba vectorises it only with Intel's SVML, which the
llvmlite on PyPI does not have). At the demos' sizes an LSTM step then spent more time in its gate
nonlinearities than in its recurrent matmul (measured: 65 us of np.tanh over the (32, 512) gates
against 85 us for the (32, 128) x (128, 512) matmul, one thread).

What this file does instead, for float32 only:

    tanh(x) ~= x P(x^2) / Q(x^2)   for |x| <= 9,     tanh(x) = sign(x)  beyond,

    P(s) = p0 + p1 s + ... + p5 s^5,   Q(s) = 1 + q1 s + q2 s^2 + q3 s^3,

with the coefficients below fitted to the least maximum relative error on [0, 9] by docs/fit_tanh.py
(a linearised least-squares fit, reweighted toward the minimax solution; run it to get them again).
Q has positive coefficients, so it never vanishes. Beyond |x| = 9 the true tanh is within 3e-8 of
+-1 and rounds to it in float32; the result is clamped to [-1, 1] (rounding could overshoot). The
function uses only +, *, / and comparisons, so a loop over an array of them compiles to AVX2 vector
code (8 floats at a time) when the loop itself allows it (nn/fused.py says what that takes).
Measured accuracy, evaluated in float32 (tests/test_fast_tanh.py, against float64 np.tanh on a
dense grid and under Hypothesis): within 8 units in the last place everywhere; numpy's own float32
tanh is within about 1. Measured speed: 13 us for 16,384 float32 values in a compiled loop, where
np.tanh takes 56 us (one thread, this project's AMD EPYC VM).

sigmoid(x) = 1 / (1 + e^-x) = tanh(x / 2) / 2 + 1/2, so the sigmoid gates use the same function.

Deliberate difference from the composed reference path (nn/cells.py, which calls np.tanh): in
float32 the two agree to a few units in the last place per nonlinearity, not bit for bit
(tests/test_fused_recurrence.py compares them, float32 to 1e-4 relative, float64 to 1e-10).
NaN stays NaN, +-inf gives +-1.

Outside compiled code (NUMBA_DISABLE_JIT=1, or a call from Python) tanh and sigmoid are the exact
math.tanh for every dtype: the rational function exists only where it pays.

If you edit this file: Numba's on-disk cache (cache=True) checks only the source file of each cached
function, so the loops of nn/fused.py that inline these functions keep their old compiled code until
fused.py changes too or its cache files (tinyseq/nn/__pycache__/fused.*.nbi, .nbc) are deleted.
"""

import math

import numba
import numpy as np
from numba.extending import overload

CLAMP = np.float32(9.0)
# x P(x^2) / Q(x^2): P's coefficients p0..p5 and Q's q1..q3 (q0 = 1), from docs/fit_tanh.py.
P = tuple(np.float32(c) for c in (0.9999999428904315, 0.12919239707512553, 0.002920773672005916,
                                   9.267520107176184e-06, -1.278071411463938e-08, 1.825589679427253e-11))
Q = tuple(np.float32(c) for c in (0.4625252372906319, 0.023763218025182196, 0.00022810177476718439))
P0, P1, P2, P3, P4, P5 = P
Q1, Q2, Q3 = Q
ONE, HALF = np.float32(1.0), np.float32(0.5)


def rational_tanh(x):
    """The float32 approximation, written for one number (plain Python runs it too, for the tests)."""
    x = CLAMP if x > CLAMP else x  # NaN fails both comparisons and stays NaN
    x = -CLAMP if x < -CLAMP else x
    s = x * x
    p = ((((P5 * s + P4) * s + P3) * s + P2) * s + P1) * s + P0
    q = ((Q3 * s + Q2) * s + Q1) * s + ONE
    y = x * p / q
    y = ONE if y > ONE else y  # near +-9 the rounding of float32 arithmetic can overshoot 1 by an ulp
    return -ONE if y < -ONE else y


_rational_tanh_compiled = numba.njit(cache=True, fastmath={"contract"}, error_model="numpy")(rational_tanh)


def tanh(x):
    """tanh(x) of one number: exact (math.tanh) in Python; in compiled code, the rational function
    for a float32 and math.tanh for anything else."""
    return math.tanh(x)


@overload(tanh)
def _tanh_by_type(x):
    if isinstance(x, numba.types.Float) and x.bitwidth == 32:
        return lambda x: _rational_tanh_compiled(x)
    return lambda x: math.tanh(x)


@numba.njit(cache=True, error_model="numpy")
def sigmoid(x):
    """sigmoid(x) = tanh(x / 2) / 2 + 1/2 (float32 in, float32 out: HALF is a float32 constant)."""
    return HALF * tanh(HALF * x) + HALF
