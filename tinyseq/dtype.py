"""The default floating-point dtype, and the rule that turns user data into arrays.

float32 is the default because it is what makes CPU training fast; gradcheck and the exactness
tests switch to float64 with set_default_dtype(np.float64).
"""

import numpy as np

_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype):
    """Set the dtype that float data (Python floats, float arrays) and new parameters get."""
    global _default_dtype
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"set_default_dtype: dtype must be float32 or float64, got {dtype!r}") from None
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: dtype must be float32 or float64, got {dtype}")
    _default_dtype = dtype


def get_default_dtype():
    """The current default floating-point dtype (float32 unless changed)."""
    return _default_dtype


def as_array(data, dtype=None, name="data"):
    """Convert user data to an ndarray: float data takes the default dtype unless dtype is given,
    integer and bool data keep theirs; object, string and complex data are refused."""
    try:
        array = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as error:  # ragged nested lists, unconvertible values
        raise type(error)(f"{name}: cannot make an array of numbers from {type(data).__name__} data: {error}") from None
    if dtype is None and array.dtype == np.uint64 and not isinstance(data, (np.ndarray, np.generic)):
        # numpy stores Python ints in [2**63, 2**64) as uint64; PyTorch (and tinyseq) integers are int64.
        raise ValueError(f"{name}: integers must fit in int64 [-2**63, 2**63), got a value up to {array.max()}")
    if array.dtype.kind == "O" and _holds_python_int(data):
        raise ValueError(f"{name}: integers must fit in int64 [-2**63, 2**63), got one outside it")
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"{name}: expected numeric or bool data, got an array of dtype {array.dtype} "
            f"(tinyseq tensors hold float, int or bool numbers)"
        )
    if dtype is None and array.dtype.kind == "f" and array.dtype != _default_dtype:
        array = array.astype(_default_dtype)
    return array


def _holds_python_int(data):
    """True if nested lists or tuples data hold a Python int (numpy makes an object array of huge ones)."""
    if isinstance(data, (list, tuple)):
        return any(_holds_python_int(item) for item in data)
    return isinstance(data, int) and not isinstance(data, bool)
