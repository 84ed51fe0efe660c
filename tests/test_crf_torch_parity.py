"""nn.CRF against pytorch-crf 0.7.2 (torchcrf.CRF) with the same parameters: log-likelihood for every
reduction, its gradients with respect to the emissions and the three score tables, Viterbi paths,
and a state dict that loads both ways. Skipped when torch or pytorch-crf is not installed."""

import numpy as np
import pytest

PARITY = "pytorch-crf parity tests need torch and pytorch-crf: pip install -e '.[parity]' to enable"
torch = pytest.importorskip("torch", reason=PARITY)
torchcrf = pytest.importorskip("torchcrf", reason=PARITY)

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402

NAMES = ("start_transitions", "end_transitions", "transitions")


def twin_crfs(num_tags, batch_first, seed):
    """A tinyseq CRF and a pytorch-crf CRF with the same float64 parameters."""
    ours = nn.CRF(num_tags, batch_first=batch_first)
    theirs = torchcrf.CRF(num_tags, batch_first=batch_first).double()
    rng = np.random.default_rng(seed)
    for name in NAMES:
        value = rng.normal(size=getattr(ours, name).shape)
        getattr(ours, name).data = value.copy()
        getattr(theirs, name).data = torch.tensor(value)
    return ours, theirs


def inputs(steps, batch, num_tags, seed, batch_first):
    rng = np.random.default_rng(seed)
    emissions = rng.normal(scale=2.0, size=(steps, batch, num_tags))
    tags = rng.integers(0, num_tags, size=(steps, batch))
    lengths = rng.integers(1, steps + 1, size=batch)
    lengths[0] = steps
    mask = np.arange(steps)[:, None] < lengths[None, :]
    if batch_first:
        return emissions.transpose(1, 0, 2).copy(), tags.T.copy(), mask.T.copy()
    return emissions, tags, mask


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "token_mean"])
def test_log_likelihood_and_gradients_match_pytorch_crf(reduction, batch_first):
    ours, theirs = twin_crfs(6, batch_first, seed=0)
    emissions, tags, mask = inputs(7, 5, 6, seed=1, batch_first=batch_first)
    x = ts.tensor(emissions, dtype=np.float64, requires_grad=True)
    ours_ll = ours(x, tags, mask=mask, reduction=reduction)
    xt = torch.tensor(emissions, requires_grad=True)
    theirs_ll = theirs(xt, torch.tensor(tags), mask=torch.tensor(mask), reduction=reduction)
    np.testing.assert_allclose(ours_ll.data, theirs_ll.detach().numpy(), rtol=1e-10)
    cotangent = np.random.default_rng(2).normal(size=ours_ll.shape)
    ours_ll.backward(cotangent)
    theirs_ll.backward(torch.tensor(cotangent))
    # pytorch-crf's emission gradient past a sequence's end is 0 too, since masked steps are skipped.
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name in NAMES:
        np.testing.assert_allclose(getattr(ours, name).grad, getattr(theirs, name).grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("batch_first", [False, True])
def test_viterbi_paths_match_pytorch_crf(batch_first):
    ours, theirs = twin_crfs(9, batch_first, seed=3)
    emissions, _, mask = inputs(12, 8, 9, seed=4, batch_first=batch_first)
    expected = theirs.decode(torch.tensor(emissions), mask=torch.tensor(mask))
    assert ours.decode(emissions, mask=mask) == expected


def test_state_dicts_load_both_ways():
    ours, theirs = twin_crfs(4, False, seed=5)
    fresh_theirs = torchcrf.CRF(4).double()
    fresh_theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    fresh_ours = nn.CRF(4)
    fresh_ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for name in NAMES:
        np.testing.assert_array_equal(getattr(fresh_theirs, name).detach().numpy(), getattr(ours, name).data)
        # load_state_dict keeps the parameter's dtype (float32 here), as PyTorch does.
        np.testing.assert_allclose(getattr(fresh_ours, name).data, getattr(theirs, name).detach().numpy(), rtol=1e-6)
