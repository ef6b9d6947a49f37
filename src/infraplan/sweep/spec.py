"""The sweep spec: one API function, fixed arguments, and axes whose combinations are the points.

A spec is YAML (or a dict) validated by a frozen pydantic schema that rejects unknown fields:

```yaml
function: train                 # a registered name (sweep.functions.FUNCTIONS) or "package.module:function"
seed: 0                         # passed to every function that takes a seed (unless an axis sets `seed`)
fixed: {model: llama3-405b, seq_len: 8192, global_batch: 2048}
axes:                           # groups, combined as a cartesian product of the groups
  - product:                    # every combination of these axes
      system: [meta-genai-roce-24k, dgx-h100-superpod]
      gpus: {log: {start: 1024, stop: 16384, factor: 2}}     # 1024, 2048, ..., 16384
      micro_batch: {range: {start: 1, stop: 4, step: 1}}     # 1, 2, 3, 4 (stop inclusive)
  - zip:                        # aligned: the i-th values go together (all the same length)
      tp: [8, 8, 4]
      pp: [16, 8, 8]
```

`axes` may also be a plain mapping (one product group). A log axis takes `factor` (start, start*factor, ...
up to stop) or `num` (that many points spaced evenly in log between start and stop, both included;
`integer: true` rounds them). Each point is `fixed` overlaid with its axis values; its identity
(`point_id`) is a content hash of (function, arguments, seed), and the same point is the same row whatever the
backend, the order or the run that computed it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from infraplan.catalog.loader import looks_like_path
from infraplan.catalog.loader_kinds import another_kinds_file
from infraplan.catalog.spec_base import Spec
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.errors import InputError

Scalar = str | int | float | bool | None
MAX_POINTS = 10**9
"""Above this a spec is refused: the product of its axes would not finish on any cluster."""
MAX_AXIS_VALUES = 10**6
"""Values one range or log axis may hold: its list is built in memory (a 10**9-value range hung the CLI for
minutes building it; a million values is already a day of serving simulations)."""


class _Frozen(Spec):
    """Frozen, no unknown key, no boolean where a number goes (`catalog.spec_base.Spec`: `range: {start: true}` was
    a range from 1, hR53); infinities reach the axes' own checks, which name them."""

    model_config = ConfigDict(allow_inf_nan=True)


class RangeAxis(_Frozen):
    """start, start+step, ... up to stop (inclusive when it falls on the grid)."""

    start: float | int
    stop: float | int
    step: float | int = 1

    @model_validator(mode="after")
    def _check(self) -> RangeAxis:
        if not all(math.isfinite(v) for v in (self.start, self.stop, self.step)):
            raise ValueError("range start, stop and step must be finite")
        if self.step == 0 or (self.stop - self.start) / self.step < 0:
            raise ValueError(f"range from {self.start} to {self.stop} by {self.step} is empty")
        return self

    def values(self) -> list[Scalar]:
        count = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        if count > MAX_AXIS_VALUES:
            raise ValueError(f"range has {count:,} values: more points than the limit of {MAX_AXIS_VALUES:,} per "
                             "axis")
        whole = all(isinstance(v, int) for v in (self.start, self.step))
        return [self.start + i * self.step if whole else float(self.start + i * self.step) for i in range(count)]


class LogAxis(_Frozen):
    """Geometric values: start*factor^i up to stop, or `num` values from start to stop evenly in log."""

    start: float | int = Field(gt=0)
    stop: float | int = Field(gt=0)
    factor: float | int | None = None
    num: int | None = Field(default=None, ge=1, le=MAX_AXIS_VALUES)
    integer: bool = False

    @model_validator(mode="after")
    def _check(self) -> LogAxis:
        if (self.factor is None) == (self.num is None):
            raise ValueError("a log axis takes exactly one of `factor` or `num`")
        if not (math.isfinite(self.start) and math.isfinite(self.stop)) or self.stop < self.start:
            raise ValueError(f"log axis from {self.start} to {self.stop} is empty")
        if self.factor is not None and not (math.isfinite(self.factor) and self.factor > 1):
            raise ValueError(f"log axis factor must be > 1, got {self.factor}")
        return self

    def values(self) -> list[Scalar]:
        out: list[float | int] = []
        if self.factor is not None:
            v: float | int = self.start
            while v <= self.stop * (1 + 1e-12):
                if len(out) == MAX_AXIS_VALUES:  # was cut there silently, then swept
                    raise ValueError(f"log axis from {self.start} to {self.stop} by x{self.factor} has more than "
                                     f"the limit of {MAX_AXIS_VALUES:,} points per axis")
                out.append(v)
                v = v * self.factor
        else:
            n = int(self.num or 1)
            ratio = math.log(self.stop / self.start)
            out = [self.start * math.exp(ratio * i / (n - 1)) if n > 1 else self.start for i in range(n)]
            out[-1] = self.stop if n > 1 else out[-1]
        if self.integer:
            return list(dict.fromkeys(round(v) for v in out))
        return list(out)


class AxisValues(_Frozen):
    """An axis given as {range: ...} or {log: ...}; a plain list is taken as is."""

    range: RangeAxis | None = None
    log: LogAxis | None = None

    @model_validator(mode="after")
    def _one(self) -> AxisValues:
        if (self.range is None) == (self.log is None):
            raise ValueError("an axis is a list, {range: {...}} or {log: {...}}")
        return self

    def values(self) -> list[Scalar]:
        axis = self.range or self.log
        assert axis is not None
        return axis.values()


Axis = list[Scalar] | AxisValues


def axis_values(axis: Axis) -> list[Scalar]:
    return list(axis) if isinstance(axis, list) else axis.values()


class AxisGroup(_Frozen):
    """Either `product` (every combination of its axes) or `zip` (aligned values)."""

    product: dict[str, Axis] | None = None
    zip: dict[str, Axis] | None = None

    @model_validator(mode="after")
    def _one(self) -> AxisGroup:
        if (self.product is None) == (self.zip is None):
            raise ValueError("an axis group is {product: {...}} or {zip: {...}}")
        if not (self.product or self.zip):  # empty: a zip ran no point and a product one (hM12, session 40)
            raise ValueError("an axis group names at least one axis")
        empty = [name for name, axis in (self.product or self.zip or {}).items() if isinstance(axis, list) and not axis]
        if empty:  # a product with it has no point, a zip of it none: the sweep wrote an empty folder, exit 0
            raise ValueError(f"axis {empty[0]!r} lists no value")
        if self.zip is not None:
            lengths = {name: len(axis_values(axis)) for name, axis in self.zip.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"zip axes must have equal lengths, got {lengths}")
        return self

    @property
    def names(self) -> list[str]:
        return list((self.product or self.zip or {}).keys())

    def columns(self) -> list[list[Scalar]]:
        return [axis_values(a) for a in (self.product or self.zip or {}).values()]

    def size(self) -> int:
        columns = self.columns()
        if self.zip is not None:
            return len(columns[0]) if columns else 1
        return math.prod(len(c) for c in columns)

    def combinations(self) -> Iterator[tuple[Scalar, ...]]:
        columns = self.columns()
        return iter(zip(*columns, strict=True)) if self.zip is not None else itertools.product(*columns)


class SweepSpec(_Frozen):
    """A sweep: `function` evaluated at every point of the axes, with `fixed` arguments and `seed`."""

    function: str = Field(min_length=1, description="registered function name or 'package.module:function'")
    fixed: dict[str, Any] = Field(default_factory=dict, description="arguments shared by every point")
    axes: list[AxisGroup] = Field(default_factory=list, description="axis groups, combined as a product")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="seed given to seeded functions")
    batch_size: int | None = Field(default=None, ge=1, le=100_000,
                                   description="points per task [the function's default]")

    @field_validator("axes", mode="before")
    @classmethod
    def _plain_mapping(cls, value: Any) -> Any:
        return [{"product": value}] if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _names(self) -> SweepSpec:
        seen: set[str] = set()
        for group in self.axes:
            for name in group.names:
                if name in seen or name in self.fixed:
                    raise ValueError(f"argument {name!r} is given twice (fixed or in two axes)")
                seen.add(name)
        if self.size() > MAX_POINTS:
            raise ValueError(f"the axes give {self.size():,} points (limit {MAX_POINTS:,})")
        return self

    def size(self) -> int:
        """Points in the sweep (with any repeats the axes produce)."""
        return math.prod(group.size() for group in self.axes)

    def argument_names(self) -> list[str]:
        return [*self.fixed, *(name for group in self.axes for name in group.names)]

    def points(self) -> Iterator[dict[str, Any]]:
        """Every point's full arguments (fixed overlaid with its axis values), lazily, in spec order."""
        names = [group.names for group in self.axes]
        for combo in itertools.product(*(group.combinations() for group in self.axes)):
            point = dict(self.fixed)
            for group_names, values in zip(names, combo, strict=True):
                point.update(zip(group_names, values, strict=True))
            yield point


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, floats in repr: the text a content hash is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)


def content_hash(*parts: str, size: int = 10) -> str:
    """BLAKE2b of the parts (hex, `size` bytes): 80 bits keeps a billion points collision-free in practice."""
    digest = hashlib.blake2b(digest_size=size)
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def point_id(function: str, arguments: Mapping[str, Any], seed: int) -> str:
    """The content hash of one point: function, every argument, seed."""
    return content_hash(function, canonical_json(dict(arguments)), str(seed))


def shown_path(path: str | Path) -> str:
    """A path as an error line shows it: control characters escaped, at most 120 characters."""
    text = str(path) if str(path).isprintable() else ascii(str(path))
    return text if len(text) <= 120 else text[:120] + "..."


def _beside(value: Any, spec: Path) -> Any:
    """A file a spec file names (a model config.json, a system or stack YAML), read beside the spec where it is there,
    as a plan or fleet-mix spec's pool files are (`catalog.loader.pool_files_beside`); anything else as written (hU,
    session 52: `model: cfg/x.json` beside the spec failed every point, "no such file", unless run from its folder)."""
    if not isinstance(value, str) or not looks_like_path(value) or Path(value).is_absolute():
        return value
    near = spec.parent / value
    try:
        return str(near) if near.is_file() else value
    except (OSError, ValueError):  # a name the system cannot look up: read as written, refused there in one line
        return value


def _files_beside(data: Any, spec: Path) -> Any:
    """`data` with its `fixed` values and its axes' listed values read `_beside` the spec file."""
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("fixed"), dict):
        data["fixed"] = {k: _beside(v, spec) for k, v in data["fixed"].items()}
    groups = data.get("axes")
    groups = [{"product": groups}] if isinstance(groups, dict) else groups if isinstance(groups, list) else []
    for group in groups:
        for axes in (group.get(kind) for kind in ("product", "zip")) if isinstance(group, dict) else ():
            if isinstance(axes, dict):
                axes.update({name: [_beside(v, spec) for v in values] for name, values in axes.items()
                             if isinstance(values, list)})
    return data


def load_spec(source: str | Path | Mapping[str, Any]) -> SweepSpec:
    """A spec from a YAML file path or a mapping; any problem is one InputError line. A file a spec file names is
    read beside it where it is there (`_files_beside`), else as written (from the working directory)."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
        shown = "spec"
    else:
        path = Path(source)
        shown = shown_path(source)
        try:
            if path.exists() and not (path.is_file() or path.is_dir()):  # a FIFO blocked the read for ever (hH70)
                raise OSError(0, "not a regular file (a pipe or a device)")
            data = _files_beside(safe_load_yaml(path.read_text(encoding="utf-8")), path)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"sweep spec {shown}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
        except yaml.YAMLError as exc:
            raise InputError(f"sweep spec {shown}: not valid YAML ({str(exc).splitlines()[0]})") from None
        except (ValueError, RecursionError) as exc:  # a 5,000-digit integer, nesting deeper than Python's stack
            reason = str(exc).split(";")[0] if isinstance(exc, ValueError) else "nested too deep"
            raise InputError(f"sweep spec {shown}: not valid YAML ({reason})") from None
    if not isinstance(data, Mapping):
        raise InputError(f"sweep spec {shown}: expected a mapping with `function`, `fixed` and `axes`")
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        if not isinstance(source, Mapping) and (other := another_kinds_file(dict(data), str(source), "sweep")):
            raise InputError(other) from None  # a plan scenario or a system file: what it is, who reads it (hU69)
        errors = exc.errors()
        # a union (list | {range} | {log}) reports every branch: the value error of the branch meant is the useful one,
        # else its bound or type error (an axis written as a mapping is not the list branch: "should be a valid list"
        # hid `num: 0`, `start: 0`, an unknown key)
        meant = [e for e in errors if not (e["type"] == "list_type" and isinstance(e.get("input"), Mapping))]
        first = next((e for e in errors if e["type"] == "value_error"), (meant or errors)[0])
        where = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("list[", "function-after["))) or "spec"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InputError(f"sweep spec {shown}: {where}: {message}") from None
    except ValueError as exc:  # raised while counting the points (a range too long to expand)
        raise InputError(f"sweep spec {shown}: {exc}") from None
