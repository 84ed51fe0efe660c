"""The linear-chain CRF (tinyseq/crf/, tinyseq/nn/crf.py) against independent references.

References used here:
  * brute force: every one of the K**L tag paths of a short sequence is scored directly from the
    definition s(y) = start[y_0] + sum_t e[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_{L-1}]
    (forbidden transitions score -inf); log Z, the marginals, the best path and the k best paths
    come from that list, with nothing shared with the kernels;
  * gradcheck: central finite differences in float64 with a random cotangent;
  * the log-space recursion, which the scaled probability-space path must match, and which must
    take over where the scaled path underflows;
  * the kernels' own plain-Python versions (.py_func), which must agree with the compiled code.
"""

import itertools

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.nn as nn
from tinyseq.crf import kernels
from tinyseq.nn.crf import allowed_transitions


def path_scores(emissions, start, end, transitions, length):
    """Every tag path of one sequence (L, K) and its score, by enumeration."""
    num_tags = emissions.shape[1]
    paths = np.array(list(itertools.product(range(num_tags), repeat=length)), dtype=np.int64)
    with np.errstate(invalid="ignore"):  # -inf + -inf is -inf, but numpy warns about nothing here
        scores = start[paths[:, 0]] + emissions[np.arange(length), paths].sum(axis=1) + end[paths[:, -1]]
        for t in range(1, length):
            scores = scores + transitions[paths[:, t - 1], paths[:, t]]
    return paths, scores


def brute_log_z(scores):
    top = scores.max()
    return -np.inf if top == -np.inf else top + np.log(np.exp(scores - top).sum())


def brute_marginals(paths, scores, num_tags):
    log_z = brute_log_z(scores)
    weights = np.exp(scores - log_z)
    marginals = np.zeros((paths.shape[1], num_tags))
    for path, weight in zip(paths, weights):
        marginals[np.arange(paths.shape[1]), path] += weight
    return marginals


def masked_tables(crf):
    start = crf.start_transitions.data.astype(np.float64).copy()
    end = crf.end_transitions.data.astype(np.float64).copy()
    trans = crf.transitions.data.astype(np.float64).copy()
    if crf.allowed is not None:
        start[~crf.allowed[0]], end[~crf.allowed[1]], trans[~crf.allowed[2]] = -np.inf, -np.inf, -np.inf
    return start, end, trans


@st.composite
def crf_problems(draw, max_tags=3, max_steps=4, constrained=None):
    """A small CRF problem: emissions (T, N, K), tags, lengths, a CRF with random scores and maybe
    random allowed transitions (always leaving the gold paths allowed)."""
    num_tags = draw(st.integers(1, max_tags))
    steps = draw(st.integers(1, max_steps))
    batch = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[rng.integers(batch)] = steps  # some sequence uses every step
    emissions = rng.normal(scale=2.0, size=(steps, batch, num_tags))
    tags = rng.integers(0, num_tags, size=(steps, batch))
    ts.manual_seed(seed)
    use_constraints = draw(st.booleans()) if constrained is None else constrained
    constraints = None
    if use_constraints:
        start, end = num_tags, num_tags + 1
        candidates = [(start, j) for j in range(num_tags)] + [(i, end) for i in range(num_tags)]
        candidates += [(i, j) for i in range(num_tags) for j in range(num_tags)]
        keep = rng.random(len(candidates)) < 0.6
        constraints = {pair for pair, k in zip(candidates, keep) if k}
        for n in range(batch):  # the gold paths stay allowed
            path = tags[: lengths[n], n]
            constraints |= {(start, int(path[0])), (int(path[-1]), end)}
            constraints |= {(int(a), int(b)) for a, b in zip(path[:-1], path[1:])}
        constraints = sorted(constraints)
    crf = nn.CRF(num_tags, constraints=constraints)
    for parameter in crf.parameters():  # larger than the default U(-0.1, 0.1), so they matter
        parameter.data[...] = rng.normal(size=parameter.shape)
    return crf, emissions, tags, lengths


@given(crf_problems())
def test_log_likelihood_matches_brute_force_enumeration(problem):
    crf, emissions, tags, lengths = problem
    start, end, trans = masked_tables(crf)
    got = crf(ts.tensor(emissions, dtype=np.float64), tags, lengths=lengths, reduction="none").data
    for n, length in enumerate(lengths):
        paths, scores = path_scores(emissions[:length, n], start, end, trans, length)
        gold = scores[np.all(paths == tags[:length, n], axis=1)][0]
        np.testing.assert_allclose(got[n], gold - brute_log_z(scores), rtol=1e-10, atol=1e-10)


@given(crf_problems())
def test_marginals_match_brute_force_enumeration(problem):
    crf, emissions, _, lengths = problem
    start, end, trans = masked_tables(crf)
    got = crf.marginals(ts.tensor(emissions, dtype=np.float64), lengths=lengths).data
    for n, length in enumerate(lengths):
        paths, scores = path_scores(emissions[:length, n], start, end, trans, length)
        np.testing.assert_allclose(got[:length, n], brute_marginals(paths, scores, crf.num_tags), atol=1e-10)
        assert np.all(got[length:, n] == 0)


@given(crf_problems())
def test_viterbi_matches_brute_force_argmax(problem):
    crf, emissions, _, lengths = problem
    start, end, trans = masked_tables(crf)
    decoded = crf.decode(emissions, lengths=lengths)
    for n, length in enumerate(lengths):
        paths, scores = path_scores(emissions[:length, n], start, end, trans, length)
        assert len(decoded[n]) == length
        # Compare scores, not paths: two paths can tie (e.g. with one tag).
        decoded_score = scores[np.all(paths == decoded[n], axis=1)][0]
        np.testing.assert_allclose(decoded_score, scores.max(), rtol=1e-12)


@given(crf_problems(), st.integers(1, 6))
def test_nbest_are_the_k_highest_scoring_paths_in_order(problem, k):
    crf, emissions, _, lengths = problem
    start, end, trans = masked_tables(crf)
    decoded = crf.decode(emissions, lengths=lengths, top_k=k)
    for n, length in enumerate(lengths):
        paths, scores = path_scores(emissions[:length, n], start, end, trans, length)
        allowed_scores = np.sort(scores[scores > -np.inf])[::-1]
        expected = allowed_scores[:k]
        got_scores = np.array([score for _, score in decoded[n]])
        np.testing.assert_allclose(got_scores, expected, rtol=1e-12, atol=1e-12)
        assert len({tuple(path) for path, _ in decoded[n]}) == len(decoded[n]), "n-best paths must differ"
        for path, score in decoded[n]:  # each reported score is its path's score
            np.testing.assert_allclose(scores[np.all(paths == path, axis=1)][0], score, rtol=1e-12)


@given(crf_problems(max_tags=3, max_steps=3))
def test_gradient_matches_finite_differences(problem):
    crf, emissions, tags, lengths = problem
    x = ts.tensor(emissions, dtype=np.float64, requires_grad=True)
    for parameter in crf.parameters():
        parameter.data = parameter.data.astype(np.float64)
    # reduction "none" with gradcheck's random cotangent weighs every sequence differently.
    assert ts.gradcheck(lambda e, s, n, t: crf(e, tags, lengths=lengths, reduction="none"),
                        [x, crf.start_transitions, crf.end_transitions, crf.transitions])


@pytest.mark.parametrize("reduction", ["sum", "mean", "token_mean"])
def test_reductions_follow_their_definitions(reduction):
    rng = np.random.default_rng(1)
    crf = nn.CRF(4)
    emissions, tags, lengths = rng.normal(size=(5, 3, 4)), rng.integers(0, 4, size=(5, 3)), np.array([5, 2, 3])
    per_sequence = crf(emissions, tags, lengths=lengths, reduction="none").data
    expected = {"sum": per_sequence.sum(), "mean": per_sequence.mean(), "token_mean": per_sequence.sum() / 10}
    np.testing.assert_allclose(crf(emissions, tags, lengths=lengths, reduction=reduction).data,
                               expected[reduction], rtol=1e-6)


def test_mask_lengths_and_batch_first_agree():
    rng = np.random.default_rng(2)
    emissions, tags = rng.normal(size=(4, 3, 5)).astype(np.float32), rng.integers(0, 5, size=(4, 3))
    lengths = np.array([4, 1, 3])
    mask = np.arange(4)[:, None] < lengths[None, :]
    ts.manual_seed(0)
    crf = nn.CRF(5)
    ts.manual_seed(0)
    crf_batch_first = nn.CRF(5, batch_first=True)
    by_mask = crf(emissions, tags, mask=mask, reduction="none").data
    np.testing.assert_array_equal(by_mask, crf(emissions, tags, lengths=lengths, reduction="none").data)
    batch_first = crf_batch_first(emissions.transpose(1, 0, 2), tags.T, mask=mask.T, reduction="none").data
    np.testing.assert_array_equal(by_mask, batch_first)
    assert crf.decode(emissions, mask=mask) == crf_batch_first.decode(emissions.transpose(1, 0, 2), mask=mask.T)
    np.testing.assert_allclose(crf.marginals(emissions, mask=mask).data.transpose(1, 0, 2),
                               crf_batch_first.marginals(emissions.transpose(1, 0, 2), mask=mask.T).data)


def test_state_dict_has_pytorch_crf_names_and_shapes():
    crf = nn.CRF(7)
    assert {name: value.shape for name, value in crf.state_dict().items()} == {
        "start_transitions": (7,), "end_transitions": (7,), "transitions": (7, 7)}
    assert all(np.abs(p.data).max() <= 0.1 for p in crf.parameters())


# ---------------------------------------------------------------------------------------------
# BIO constraints
# ---------------------------------------------------------------------------------------------

LABELS = ["O", "B-city", "I-city", "B-date", "I-date"]


def test_allowed_transitions_bio_by_hand():
    pairs = set(allowed_transitions(LABELS))
    start, end = 5, 6
    # Written out by hand from the BIO rule: I-x only after B-x or I-x.
    expected = {(start, 0), (start, 1), (start, 3)} | {(i, end) for i in range(5)}
    for i in range(5):
        expected |= {(i, 0), (i, 1), (i, 3)}
    expected |= {(1, 2), (2, 2), (3, 4), (4, 4)}
    assert pairs == expected


def test_constraints_hold_in_training_and_decoding():
    rng = np.random.default_rng(3)
    crf = nn.CRF(5, constraints=allowed_transitions(LABELS))
    # Emissions that strongly prefer I- tags everywhere: decoding must still produce valid BIO.
    emissions = rng.normal(size=(6, 4, 5))
    emissions[:, :, [2, 4]] += 10.0
    for path in crf.decode(emissions):
        tags = [LABELS[i] for i in path]
        assert not tags[0].startswith("I-")
        for before, after in zip(tags, tags[1:]):
            assert not after.startswith("I-") or before[2:] == after[2:]
    # In training the forbidden paths get no probability: the marginal of I- at step 0 is zero.
    marginals = crf.marginals(emissions).data
    assert np.all(marginals[0, :, [2, 4]] == 0)
    # A gold path starting with an I- tag has log-likelihood -inf (documented) and a zero gradient.
    tags = np.zeros((6, 4), dtype=np.int64)
    tags[0, 0] = 2
    x = ts.tensor(emissions, requires_grad=True)
    log_likelihood = crf(x, tags, reduction="none")
    assert log_likelihood.data[0] == -np.inf and np.all(np.isfinite(log_likelihood.data[1:]))
    log_likelihood.sum().backward()
    assert np.all(x.grad[:, 0] == 0) and np.any(x.grad[:, 1] != 0)


def test_every_path_forbidden_is_a_clear_error():
    # Tag 1 may never end a sequence and tag 0 may never start one: no path of length 1 exists.
    crf = nn.CRF(2, constraints=[(2, 1), (0, 3), (1, 0), (0, 0)])
    with pytest.raises(ValueError, match="every tag path of sequence 0 .length 1. is forbidden"):
        crf(np.zeros((1, 1, 2)), np.zeros((1, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="every tag path"):
        crf.decode(np.zeros((1, 1, 2)))
    assert crf.decode(np.zeros((2, 1, 2))) == [[1, 0]]  # length 2 has exactly one allowed path


# ---------------------------------------------------------------------------------------------
# The kernels: scaled vs log space, compiled vs plain Python
# ---------------------------------------------------------------------------------------------


def kernel_inputs(seed, batch=3, steps=5, num_tags=4, scale=1.0):
    rng = np.random.default_rng(seed)
    emissions = np.ascontiguousarray(rng.normal(scale=scale, size=(batch, steps, num_tags)))
    tags = rng.integers(0, num_tags, size=(batch, steps))
    lengths = rng.integers(1, steps + 1, size=batch)
    start, end = rng.normal(size=num_tags), rng.normal(size=num_tags)
    trans = rng.normal(scale=scale, size=(num_tags, num_tags))
    return emissions, tags, lengths, start, end, trans


@given(st.integers(0, 10_000), st.sampled_from([1.0, 50.0]))
def test_scaled_forward_backward_matches_log_space(seed, scale):
    emissions, _, _, start, end, trans = kernel_inputs(seed, scale=scale)
    exp_trans, shift = kernels.shifted_exp_transitions(trans)
    ok, log_z, unary, pair = kernels.scaled_forward_backward(emissions[0], start, end, exp_trans, shift, True)
    reference = kernels.log_forward_backward(emissions[0], start, end, trans, True)
    if ok:
        np.testing.assert_allclose(log_z, reference[0], rtol=1e-12)
        np.testing.assert_allclose(unary, reference[1], atol=1e-12)
        np.testing.assert_allclose(pair, reference[2], atol=1e-11)
    result = kernels.forward_backward(emissions[0], start, end, trans, exp_trans, shift, True)
    for got, want in zip(result, reference):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-11)


def test_log_space_takes_over_where_the_scaled_path_underflows():
    # Transitions 2000 apart: exp(trans - max) underflows to 0 for the only allowed way through.
    trans = np.array([[0.0, -2000.0], [-2000.0, -2000.0]])
    emissions = np.array([[0.0, -1e9], [-1e9, 0.0], [0.0, -1e9]])
    start, end = np.zeros(2), np.zeros(2)
    exp_trans, shift = kernels.shifted_exp_transitions(trans)
    ok, *_ = kernels.scaled_forward_backward(emissions, start, end, exp_trans, shift, True)
    assert not ok
    log_z, unary, _ = kernels.forward_backward(emissions, start, end, trans, exp_trans, shift, True)
    np.testing.assert_allclose(log_z, -4000.0, rtol=1e-12)  # the path 0 -> 1 -> 0 dominates
    np.testing.assert_allclose(unary, [[1, 0], [0, 1], [1, 0]], atol=1e-12)


def test_huge_scores_give_finite_results():
    crf = nn.CRF(3)
    crf.transitions.data[...] = 1e4
    crf.start_transitions.data[...] = crf.end_transitions.data[...] = 0.0
    emissions = np.full((4, 2, 3), 1e5)
    log_likelihood = crf(emissions, np.zeros((4, 2), dtype=np.int64), reduction="none").data
    np.testing.assert_allclose(log_likelihood, -4 * np.log(3), atol=1e-6)  # all 3**4 paths tie


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="with NUMBA_DISABLE_JIT=1 there is no compiled code to compare")
@pytest.mark.parametrize("name", ["crf_log_likelihood_and_grad", "crf_marginals", "viterbi_decode", "nbest_decode"])
def test_compiled_kernels_equal_their_plain_python(name):
    emissions, tags, lengths, start, end, trans = kernel_inputs(7)
    trans[0, 1] = -np.inf
    args = {"crf_log_likelihood_and_grad": (emissions, tags, lengths, start, end, trans, True),
            "crf_marginals": (emissions, lengths, start, end, trans),
            "viterbi_decode": (emissions, lengths, start, end, trans),
            "nbest_decode": (emissions, lengths, start, end, trans, 3)}[name]
    kernel = getattr(kernels, name)
    for got, want in zip(kernel(*args), kernel.py_func(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, fragment", [
    (lambda c: c(np.zeros((3, 2, 4)), np.full((3, 2), 4)), ValueError, r"tags must be in \[0, 4\), got 4"),
    (lambda c: c(np.zeros((3, 2, 4)), np.full((3, 2), -1)), ValueError, "got -1 at step 0 of sequence 0"),
    (lambda c: c(np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=int), mask=np.array([[1, 0], [1, 0], [0, 0]], bool)),
     ValueError, "first timestep must all be on"),
    (lambda c: c(np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=int), mask=np.array([[1, 1], [0, 1], [1, 1]], bool)),
     ValueError, "sequence 0 has a gap"),
    (lambda c: c(np.zeros((3, 4)), np.zeros((3,), dtype=int)), ValueError, "emissions must have shape"),
    (lambda c: c(np.zeros((3, 2, 5)), np.zeros((3, 2), dtype=int)), ValueError, "num_tags = 4"),
    (lambda c: c(np.zeros((3, 2, 4)), np.zeros((2, 3), dtype=int)), ValueError, r"tags must have shape \(3, 2\)"),
    (lambda c: c(np.zeros((3, 2, 4)), np.zeros((3, 2))), TypeError, "tags must hold integers"),
    (lambda c: c(np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=int), lengths=[3, 0]), ValueError,
     r"lengths must be in \[1, 3\].*got 0 for sequence 1"),
    (lambda c: c(np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=int), reduction="avg"), ValueError, "reduction"),
    (lambda c: c(np.full((3, 2, 4), np.nan), np.zeros((3, 2), dtype=int)), ValueError, "NaN"),
    (lambda c: c(np.zeros((3, 2, 4), dtype=np.int64), np.zeros((3, 2), dtype=int)), TypeError, "float32 or float64"),
    (lambda c: c.decode(np.zeros((3, 2, 4)), top_k=0), ValueError, "top_k must be a positive int"),
    (lambda c: c.decode(np.zeros((3, 2, 4)), mask=np.ones((2, 3), bool)), ValueError, "mask must have shape"),
])
def test_bad_calls_name_the_argument(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call(nn.CRF(4))


def test_bad_constraints_and_labels_are_refused():
    with pytest.raises(ValueError, match="label 'X-city' at position 1 is not O, B-<type> or I-<type>"):
        allowed_transitions(["O", "X-city"])
    with pytest.raises(ValueError, match="scheme must be one of"):
        allowed_transitions(["O"], scheme="BIOES")
    with pytest.raises(ValueError, match=r"constraint \(0, 9\) is out of range"):
        nn.CRF(3, constraints=[(0, 9)])
    with pytest.raises(ValueError, match="num_tags must be a positive int"):
        nn.CRF(0)
