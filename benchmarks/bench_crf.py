"""Benchmark: CRF log-likelihood + gradient, and Viterbi decoding, tinyseq vs pytorch-crf 0.7.2.

    python benchmarks/bench_crf.py --threads 2                  # both sizes, both calls
    python benchmarks/bench_crf.py --threads 1 --timer cpu      # on a busy machine
    python benchmarks/bench_crf.py --size viterbi,64,50,20

Timed calls, through the public APIs with their argument checks, float32 emissions (T, N, K),
every step real:
  likelihood: ll = crf(emissions, tags) (reduction "sum") from a fresh leaf tensor, then
              (-ll).backward(), which gives the gradient for the emissions and the three score tables;
  viterbi:    crf.decode(emissions), the best path of each sequence as lists of tag ids.
pytorch-crf (torchcrf.CRF) runs the same calls on its own parameters; both draw them from
U(-0.1, 0.1). Each contender runs in its own process with the same thread count
(benchmarks/harness.py says why and how).
"""

import sys

import numpy as np

import harness

CONTENDERS = ("tinyseq", "pytorch-crf")
CASES = [  # (call, N, T, K)
    ("likelihood", 32, 30, 120),
    ("viterbi", 32, 30, 120),
    ("likelihood", 64, 50, 20),
    ("viterbi", 64, 50, 20),
]


def make_inputs(batch, steps, tags, seed=0):
    """float32 emissions (T, N, K) and random gold tags (T, N)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps, batch, tags)).astype(np.float32), rng.integers(0, tags, size=(steps, batch))


def make_step(contender, case):
    """One likelihood + gradient or one Viterbi decode of `contender` at case (call, N, T, K)."""
    call, batch, steps, tags = case
    emissions, gold = make_inputs(batch, steps, tags)
    if contender == "tinyseq":
        import tinyseq as ts
        import tinyseq.nn as nn

        crf = nn.CRF(tags)

        def likelihood():
            x = ts.tensor(emissions, requires_grad=True)
            (-crf(x, gold)).backward()
            return x.grad

        def viterbi():
            return crf.decode(emissions)
    else:
        torch = harness.import_torch()
        try:
            from torchcrf import CRF
        except ImportError:
            raise harness.Unavailable("pytorch-crf is not installed (pip install -e '.[parity]'): its column is skipped") from None
        import warnings

        warnings.filterwarnings("ignore", category=UserWarning)  # its own uint8-mask deprecation warning
        crf = CRF(tags)
        emissions_t, gold_t = torch.tensor(emissions), torch.tensor(gold)

        def likelihood():
            x = emissions_t.clone().requires_grad_()
            crf.zero_grad()
            (-crf(x, gold_t)).backward()
            return x.grad

        def viterbi():
            return crf.decode(emissions_t)

    return likelihood if call == "likelihood" else viterbi


def main(argv=None):
    harness.main(__file__, title="linear-chain CRF: log-likelihood + gradient, and Viterbi, float32",
                 case_names=("call", "N", "T", "K"), cases=CASES, contenders=CONTENDERS,
                 ratios=[("tinyseq", "pytorch-crf")], make_step=make_step, argv=argv,
                 check_case=lambda case: harness.case_error(case, ("call", "N", "T", "K"),
                                                            {"call": ("likelihood", "viterbi")}))


if __name__ == "__main__":
    main(sys.argv[1:])
