"""One seeded random generator behind randn, rand, parameter initialisation and dropout,
so ts.manual_seed(seed) makes a whole run repeatable."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator behind every random draw in tinyseq."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator():
    """The numpy Generator tinyseq draws from."""
    return _generator
