"""The one-plan fast path of the array formulas: the same arithmetic on Python floats when every input holds one
element.

The kernel (`hardware.kernels`) and collective (`network.collectives`) cost formulas are written once against a
`MathOps` namespace: numpy ufuncs for arrays of configurations (the search), or their Python-float equivalents
for a single plan, where per-call numpy overhead would dominate (issue 18: a single estimate in microseconds).
The float path gives bit-identical results (tests/hardware/test_kernel_fast_path.py,
tests/network/test_collective_fast_path.py).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MathOps:
    """The element-wise operations the cost formulas use: numpy ufuncs, or their Python-float equivalents."""

    maximum: Callable[[Any, Any], Any]
    minimum: Callable[[Any, Any], Any]
    ceil: Callable[[Any], Any]
    log2: Callable[[Any], Any]
    where: Callable[[Any, Any, Any], Any]


NUMPY_OPS = MathOps(np.maximum, np.minimum, np.ceil, np.log2, np.where)
# max/min of two non-NaN floats equal np.maximum/np.minimum; np.log2 keeps numpy's rounding (math.log2 differs by an
# ulp on some inputs); the ceiling stays a float so every later product is the array path's float product
FLOAT_OPS = MathOps(max, min, lambda x: float(math.ceil(x)), lambda x: float(np.log2(x)),
                    lambda c, a, b: a if c else b)


def one_element(*values: Any) -> tuple[list[float], int] | None:
    """The values as Python floats and the largest ndim among them when each holds exactly one element (numbers,
    numpy scalars or one-element arrays); None otherwise (the array path)."""
    floats: list[float] = []
    ndim = 0
    for v in values:
        kind = type(v)
        if kind is float or kind is int:
            floats.append(float(v))
        elif kind is np.ndarray:
            if v.size != 1:
                return None
            if v.ndim > ndim:
                ndim = v.ndim
            floats.append(float(v.item()))
        elif isinstance(v, float | int | np.number):
            floats.append(float(v))
        else:
            return None
    return floats, ndim


def as_array(value: float, ndim: int) -> np.ndarray:
    """A float result in the shape the array path gives one-element inputs of at most `ndim` dimensions."""
    if ndim == 1:
        return np.array([value])
    return np.array(value) if ndim == 0 else np.full((1,) * ndim, value)


def interp(x: float, xp: Sequence[float], fp: Sequence[float]) -> float:
    """`np.interp(x, xp, fp)` of one float on increasing knots `xp`, bit for bit: numpy's branches (outside the
    knots the end values, on a knot its value) and its arithmetic, slope * (x - xp[j]) + fp[j], retried from the
    right knot when that is NaN (numpy/_core/src/multiarray/compiled_base.c, arr_interp)."""
    if math.isnan(x):
        return x
    last = len(xp) - 1
    if x >= xp[last]:
        return fp[last]
    if x < xp[0]:
        return fp[0]
    j = bisect_right(xp, x) - 1
    if xp[j] == x:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    value = slope * (x - xp[j]) + fp[j]
    if math.isnan(value):
        value = slope * (x - xp[j + 1]) + fp[j + 1]
        if math.isnan(value) and fp[j] == fp[j + 1]:
            value = fp[j]
    return value
