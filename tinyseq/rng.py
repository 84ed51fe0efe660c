"""One seeded random generator behind randn, rand, parameter initialisation and dropout,
so ts.manual_seed(seed) makes a whole run repeatable."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator behind every random draw in tinyseq: seed is an int >= 0, or None for
    fresh entropy from the operating system."""
    global _generator
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"manual_seed: seed must be an int or None, got {type(seed).__name__} {seed!r}")
    if seed is not None and seed < 0:
        raise ValueError(f"manual_seed: seed must be >= 0, got {seed}")
    _generator = np.random.default_rng(seed)


def generator():
    """The numpy Generator tinyseq draws from."""
    return _generator
