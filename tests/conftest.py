"""Shared test configuration: Hypothesis profiles and common fixtures.

Profiles:
  ci        deterministic (derandomize=True), no deadline; chosen automatically when CI=true.
  dev       the default for local runs: random examples, no deadline.
  thorough  many more examples, for a long local run: HYPOTHESIS_PROFILE=thorough python -m pytest
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# function_scoped_fixture: the float64 fixture only sets a global default, which holds for every example.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
settings.register_profile("ci", derandomize=True, max_examples=25, print_blob=True, **_common)
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("thorough", max_examples=500, **_common)

_default_profile = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default_profile))


@pytest.fixture
def float64():
    """Run a test with float64 as the default dtype, restoring the previous default after."""
    import tinyseq as ts

    previous = ts.get_default_dtype()
    ts.set_default_dtype(np.float64)
    try:
        yield
    finally:
        ts.set_default_dtype(previous)
