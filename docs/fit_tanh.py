"""Fit the coefficients of tinyseq/nn/fast_tanh.py's float32 tanh and print them.

    python docs/fit_tanh.py

The approximation is tanh(x) ~= x P(x^2) / Q(x^2) on [0, 9] (odd, so this covers [-9, 9]), P of
degree 5 and Q of degree 3 with Q(0) = 1. Fitting a rational function is not linear in its
coefficients, but  x P(s) - tanh(x) Q(s) = 0  is: each round solves that linear system by least
squares over 3,999 points clustered toward both ends (Chebyshev spacing), dividing each row by
tanh(x) Q_prev(s) so that the residual approximates the relative error of the last round's Q
(Sanathanan and Koerner's iteration). After a few rounds the row weights are also multiplied by
the square root of each point's current error (Lawson's reweighting), which moves the fit from least
squares toward the least maximum error. 60 rounds; it takes about a second.

tests/test_fast_tanh.py runs this fit and checks that it gives the module's coefficients, then
checks the module's accuracy on its own (against float64 np.tanh, which does not depend on this fit).
"""

import numpy as np

CLAMP = 9.0
NUMERATOR_TERMS, DENOMINATOR_TERMS = 6, 3  # p0..p5; q1..q3 (q0 = 1)


def fit(rounds=60, points=4000):
    """Return (p, q, max relative error on the fitting points); q includes q0 = 1."""
    x = (1 - np.cos(np.linspace(0, np.pi, points))) / 2 * CLAMP
    x = x[1:]  # tanh(0) = 0: relative error is undefined there (the fit is exact: x P / Q -> p0 x)
    target = np.tanh(x)
    s = x * x
    weight = np.ones_like(x)
    q_previous = np.ones_like(x)
    for round_number in range(rounds):
        columns = [x * s**k for k in range(NUMERATOR_TERMS)]
        columns += [-target * s**k for k in range(1, DENOMINATOR_TERMS + 1)]
        system = np.stack(columns, axis=1)
        row_weight = weight / (target * q_previous)
        coefficients, *_ = np.linalg.lstsq(system * row_weight[:, None], target * row_weight, rcond=None)
        p = coefficients[:NUMERATOR_TERMS]
        q = np.concatenate([[1.0], coefficients[NUMERATOR_TERMS:]])
        q_previous = np.polyval(q[::-1], s)
        error = np.abs(x * np.polyval(p[::-1], s) / q_previous - target) / target
        if round_number > 5:
            weight = weight * np.sqrt(error / error.max()) + 1e-12
            weight /= weight.mean()
    return p, q, error.max()


def main():
    p, q, max_error = fit()
    print("P =", [float(c) for c in p])
    print("Q =", [float(c) for c in q[1:]], "(q0 = 1)")
    print(f"max relative error on the fitting points (float64 arithmetic): {max_error:.3g}")


if __name__ == "__main__":
    main()
