"""The one-plan fast path of the array formulas: the same arithmetic on Python floats when every input holds one
element.

The kernel (`hardware.kernels`) and collective (`network.collectives`) cost formulas are written once against a
`MathOps` namespace: numpy ufuncs for arrays of configurations (the search), or their Python-float equivalents
for a single plan, where per-call numpy overhead would dominate (issue 18: a single estimate in microseconds).
The float path gives bit-identical results (tests/hardware/test_kernel_fast_path.py,
tests/network/test_collective_fast_path.py).

The training model carries one plan the same way: `PlanArrays.one_row` holds a one-element plan's fields as
Python ints, and the formulas of `training` (layer and head times, the EP all-to-all, the stage split, traffic,
step assembly, memory, FLOPs, plan rules) and `ops.layer` / `ops.params` take either arrays over plans or those
plain numbers: `to_float`, `to_bool`, `pick`, `negate`, `larger`, `smaller`, `anywhere` below do what numpy does
to an array and the plain-Python operation otherwise, `ops_of` picks the MathOps. IEEE doubles give the same
bits either way (tests/training/test_one_plan_float_path.py checks every output of sampled plans alone against
the same plans in a grid).
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np


@dataclass(frozen=True)
class MathOps:
    """The element-wise operations the cost formulas use: numpy ufuncs, or their Python-float equivalents."""

    maximum: Callable[[Any, Any], Any]
    minimum: Callable[[Any, Any], Any]
    ceil: Callable[[Any], Any]
    log2: Callable[[Any], Any]
    where: Callable[[Any, Any, Any], Any]
    floor: Callable[[Any], Any] = np.floor
    as_float: Callable[[Any], Any] = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731 (int -> float64 values)


NUMPY_OPS = MathOps(np.maximum, np.minimum, np.ceil, np.log2, np.where)
# max/min of two non-NaN floats equal np.maximum/np.minimum; np.log2 keeps numpy's rounding (math.log2 differs by an
# ulp on some inputs); the ceiling and floor stay floats so every later product is the array path's float product;
# where(c, a, b) of a plan's floats picks one operand as np.where does (a later float product gives the same bits).
# The two-argument max and min are spelled as builtins' own comparison (`max(a, b)` keeps `a` unless `b > a`): the
# same result, ~2.5x cheaper than calling the builtins (their iterator protocol), which a single estimate calls
# a few hundred times
FLOAT_OPS = MathOps(lambda a, b: b if b > a else a, lambda a, b: b if b < a else a, lambda x: float(math.ceil(x)),
                    lambda x: float(np.log2(x)), lambda c, a, b: a if c else b, lambda x: float(math.floor(x)), float)


def ops_of(value: Any) -> MathOps:
    """FLOAT_OPS for a plain Python number (a one-plan row, `PlanArrays.one_row`), NUMPY_OPS otherwise."""
    return FLOAT_OPS if type(value) is int or type(value) is float else NUMPY_OPS


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


# Element-wise helpers for formulas that take either arrays over plans or one plan's plain Python numbers
# (`PlanArrays.one_row`): each does what numpy does to the array, and the plain-Python operation otherwise.
_PLAIN = (int, float, bool)


def to_float(x: Any) -> Any:
    """`np.asarray(x, dtype=np.float64)`, or `float(x)` of a plain number (a float as it is: `float` returns it)."""
    kind = type(x)
    if kind is float:
        return x
    return float(x) if kind is int or kind is bool else np.asarray(x, dtype=np.float64)


def to_bool(x: Any) -> Any:
    """`np.asarray(x, dtype=bool)`, or `bool(x)` of a plain number."""
    return bool(x) if type(x) in _PLAIN else np.asarray(x, dtype=bool)


def pick(condition: Any, a: Any, b: Any) -> Any:
    """`np.where(condition, a, b)`, or `a if condition else b` for a plain condition."""
    if type(condition) is bool:
        return a if condition else b
    return np.where(condition, a, b)


def negate(x: Any) -> Any:
    """`~x` of a boolean array, `not x` of a plain bool."""
    return (not x) if type(x) is bool else ~x


def larger(a: Any, b: Any) -> Any:
    """`np.maximum(a, b)`, or `max(a, b)` of two plain numbers."""
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return b if b > a else a  # max(a, b), without the builtin's call cost (see FLOAT_OPS)
    return np.maximum(a, b)


def smaller(a: Any, b: Any) -> Any:
    """`np.minimum(a, b)`, or `min(a, b)` of two plain numbers."""
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return b if b < a else a  # min(a, b), without the builtin's call cost (see FLOAT_OPS)
    return np.minimum(a, b)


def anywhere(x: Any) -> bool:
    """`np.any(x)`, or the plain bool itself (an array's own `any`: `np.any`'s answer without its wrappers)."""
    kind = type(x)
    if kind in _PLAIN:
        return bool(x)
    return bool(x.any()) if kind is np.ndarray else bool(np.any(x))


def is_plain(x: Any) -> bool:
    """Whether `x` is a plain Python number or bool (one plan's value, `PlanArrays.one_row`), not an array."""
    return type(x) in _PLAIN


# arrays of at least this many elements are priced once per run of equal consecutive inputs (`price_runs`)
RUN_MIN_ELEMENTS = 1024


def price_runs(formula: Callable[..., np.ndarray], *values: Any, min_elements: int = RUN_MIN_ELEMENTS) -> np.ndarray:
    """`formula(*values)` of an element-wise formula, run once per run of equal consecutive inputs and repeated.

    Applies when every array among `values` is 1-D of one length n >= `min_elements` (the others plain numbers
    or 0-d) and the runs number at most half of n; otherwise `formula` runs on the values as they are. Inputs are
    compared by their bits, so each element gets the bits `formula` gives it on the whole arrays (issue 18: a
    search's rows, sorted by their keys (`training.row_memo`), repeat the inputs of most kernels and collectives).
    """
    arrays = [v for v in values if type(v) is np.ndarray and v.ndim]
    n = arrays[0].size if arrays else 0
    if n < min_elements or any(a.ndim != 1 or a.size != n for a in arrays):
        return formula(*values)
    changed = np.zeros(n - 1, dtype=bool)
    step = np.empty(n - 1, dtype=bool)
    for a in arrays:
        bits = a.view(np.dtype(f"i{a.itemsize}")) if a.dtype.kind == "f" else a
        np.logical_or(changed, np.not_equal(bits[1:], bits[:-1], out=step), out=changed)
    starts = np.flatnonzero(changed)
    if 2 * (starts.size + 1) > n:
        return formula(*values)
    starts = np.concatenate((np.zeros(1, dtype=starts.dtype), starts + 1))
    out = np.asarray(formula(*(v[starts] if type(v) is np.ndarray and v.ndim else v for v in values)))
    return np.repeat(out, np.diff(np.append(starts, n)))


def price_distinct(formula: Callable[..., np.ndarray], *values: Any,
                   min_elements: int = RUN_MIN_ELEMENTS) -> np.ndarray:
    """`price_runs` for inputs that repeat out of order: the rows sorted by value (numeric 1-D arrays of one length
    n >= `min_elements`), priced once per run of equal rows, and put back in place. Element-wise, so each element
    gets the bits `formula` gives it on the whole arrays; other inputs run `formula` as they are."""
    arrays = [v for v in values if type(v) is np.ndarray and v.ndim]
    n = arrays[0].size if arrays else 0
    if n < min_elements or any(a.ndim != 1 or a.size != n or a.dtype.kind not in "fiu" for a in arrays):
        return formula(*values)
    order = np.lexsort(arrays[::-1])
    priced = np.asarray(price_runs(formula, *(v[order] if type(v) is np.ndarray and v.ndim else v for v in values),
                                   min_elements=min_elements))
    out = np.empty(n, dtype=priced.dtype)
    out[order] = priced
    return out


_Record = TypeVar("_Record", bound=type)


def fast_frozen_init(cls: _Record) -> _Record:
    """A frozen dataclass with an `__init__` that gives the instance its `__dict__` whole: one dict of its fields.

    The dataclass's own frozen `__init__` sets each field through `object.__setattr__` (~60 ns a field); a single
    estimate builds a few dozen small records (`ops.layer`'s operation tables: ~1 us each, issue 18). The dict is
    built as a literal and set in one call, not filled through `self.__dict__`: CPython 3.11 makes that a split
    dict sharing the class's keys, whose attribute reads miss the interpreter's specialised load every time
    (LOAD_ATTR_WITH_HINT reads a combined table only), while a literal's own table serves them (hE session 53:
    -25 k of 2.17 M instructions a never-seen estimate, -1.2 %). Same fields, defaults, order and keywords (so
    `dataclasses.replace` works), still frozen after construction; only for dataclasses without `__post_init__`,
    `init=False` fields or default factories (checked here)."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(not f.init or f.default_factory is not dataclasses.MISSING
                                            for f in fields):
        raise TypeError(f"fast_frozen_init: {cls.__name__} needs the dataclass's own __init__")
    defaults = {f"_default_{f.name}": f.default for f in fields if f.default is not dataclasses.MISSING}
    params = ", ".join(f.name if f.default is dataclasses.MISSING else f"{f.name}=_default_{f.name}" for f in fields)
    values = ", ".join(f"'{f.name}': {f.name}" for f in fields)
    namespace: dict[str, Any] = dict(defaults, _set=object.__setattr__)
    exec(f"def __init__(self, {params}):\n    _set(self, '__dict__', {{{values}}})", namespace)  # noqa: S102 (our own fields)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__dict__["__init__"].__doc__
    type.__setattr__(cls, "__init__", init)
    return cls
