"""Gradient mode: whether ops record the graph that backward() walks.

`no_grad()` switches recording off, as a context manager or a decorator. Inside it every op still
computes its forward value, but its result has requires_grad=False and remembers no parents, so
evaluation and optimizer updates cost no memory for a graph.
"""

import functools

_grad_enabled = True


def is_grad_enabled():
    """True when ops record the graph (the default), False inside no_grad()."""
    return _grad_enabled


class no_grad:
    """Context manager and decorator that disables graph recording.

        with ts.no_grad():
            prediction = model(x)        # nothing is recorded

        @ts.no_grad()
        def evaluate(model, x): ...
    """

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False
        return self

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper
