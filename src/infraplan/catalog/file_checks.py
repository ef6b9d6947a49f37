"""What a user's catalog file is held to beyond its schema's types: the bounds of a device's own figures, and the
one line its schema errors become (`catalog.schemas`, `catalog.loader.validated`).

Bounds (the quantity types of a device's own figures, used by `catalog.schemas`). A file writes a quantity with its
unit ("96GB", "4TB/s", "400Gbps", "700W") or as a bare SI number. Above: the physical bounds of `infraplan.limits`
(hV41: `memory_bytes: 1e30` was priced). Below (hU, session 52): a positive figure under the least any device has
is a unit left out, not a device: `memory_bytes: 96` (meant 96 GB) ran `train` to "95.5 GiB of 96 B (fits: NO)",
`memory_bandwidth_bytes_per_s: 4` (4 TB/s) priced every kernel at 4 B/s. A 0 stays where a field allows it (no SRAM
figure, no host link); the schemas refuse a 0 where a model divides by it. The unbounded `Bytes` / `BytesPerS` /
`Watts` are for quantities of whole sites and fleets (`catalog.facility_loader`).

Errors (`problem_text`: every problem a user must fix, in one line). A user writing an accelerator, system or stack
file from scratch met its required fields one run at a time: an accelerator file with the top-level figures but no
`memory_type` and no `efficiency` took eight runs, each naming the next "Field required" (the first of pydantic's
errors only; hU, session 52). Now the line names every missing field together, and a key the schema does not have
says which field it may mean (`tdp_watts` -> `tdp_w`: the typo was reported only as "tdp_w: Field required", the key
itself never named). Other problems follow the first, at most `SHOWN` of them, then their count. A union's branches
report one error each for the same field: one is kept per field. The web API's request errors have the same
did-you-mean (`web.app._field_hint`).

Renamed keys (`key_renamed`): one mechanism for every input key renamed for its unit or meaning, a pool's `capex_usd`
-> `price_usd_per_device` (planning/pool_price_key.py, hC48, session 45) and a cost file's or economics.yaml's
`cost_of_capital` -> `cost_of_capital_per_year` (catalog/facility_loader.py, hC57): the old name is read as the new
one with one warning line at every read (`warnings.warn_explicit` without a registry: `warnings.warn` shows a repeated
text once per process, so a second run of the same file in one web server or test said nothing; the CLI prints it on
stderr by its category, `cli.main._show_warning`), and both keys on one mapping are refused (ValueError, the schema's
one line). The rename runs in the schema (a `mode="before"` validator), so the specs stay frozen and keep refusing
unknown keys.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
import warnings
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from infraplan.limits import (
    MAX_DEVICE_BYTES_PER_S,
    MAX_DEVICE_EMBODIED_KGCO2E,
    MAX_DEVICE_FLOPS_PER_S,
    MAX_DEVICE_MEMORY_BYTES,
    MAX_DEVICE_POWER_W,
    MIN_DEVICE_BYTES_PER_S,
    MIN_DEVICE_FLOPS_PER_S,
    MIN_DEVICE_MEMORY_BYTES,
)
from infraplan.units import parse_bytes, parse_power_w, parse_rate_bytes_per_s

Bytes = Annotated[float, BeforeValidator(parse_bytes), Field(ge=0)]
BytesPerS = Annotated[float, BeforeValidator(parse_rate_bytes_per_s), Field(ge=0)]
Watts = Annotated[float, BeforeValidator(parse_power_w), Field(ge=0)]
RACK_UNITS = 42  # the rack's height in U that every server is packed in (`cluster.power.rack_fit`)


def parse_oversubscription(value: Any) -> Any:
    """A tier's oversubscription as a number (7) or as the ratio a network planner writes, "1:7" or "7:1" (the Llama 3
    paper's "1:7 oversubscription" is 7 down for 1 up; either order is read as the larger over the smaller, since a
    ratio below 1 is refused). A string that is not one is left for the schema's own "valid number" error."""
    if not isinstance(value, str) or ":" not in value:
        return value
    parts = value.split(":")
    try:
        a, b = (float(part) for part in parts)
    except ValueError:  # three parts or a word: named with the form expected
        raise ValueError(f"cannot read oversubscription {value!r}; expected a ratio such as 7, 1:7 or 7:1") from None
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"oversubscription {value!r}: both sides of the ratio must be positive, as in 1:7")
    return max(a, b) / min(a, b)


Oversubscription = Annotated[float, BeforeValidator(parse_oversubscription), Field(ge=1.0)]


def _fits_a_rack(units: int) -> int:
    """A server taller than the rack is a file's error, refused where the file loads (hM56: a 43U MSVP host was
    refused by `plan` at pricing and taken by `video --device`)."""
    if units > RACK_UNITS:
        raise ValueError(f"a {units}U server does not fit a {RACK_UNITS}U rack")
    return units


RackUnits = Annotated[int, Field(ge=1), AfterValidator(_fits_a_rack)]  # a server's height, 1..RACK_UNITS U


def _at_most(limit: float, unit: str, name: str, shown: str) -> AfterValidator:
    """A physical upper bound of a device figure (`infraplan.limits`), named with its value in the one-line error."""
    def check(value: float) -> float:
        if value > limit:
            raise ValueError(f"{value:.3g} {unit} is above the {shown} bound on any device ({name})")
        return value
    return AfterValidator(check)


def _at_least(limit: float, unit: str, name: str, shown: str, example: str) -> AfterValidator:
    """A positive device figure below `limit` (module docstring): a unit left out, named with an example."""
    def check(value: float) -> float:
        if 0 < value < limit:
            raise ValueError(f"{value:.3g} {unit} is below the {shown} of any device ({name}): a unit left out? "
                             f"(e.g. {example})")
        return value
    return AfterValidator(check)


DeviceBytes = Annotated[Bytes, _at_most(MAX_DEVICE_MEMORY_BYTES, "B", "MAX_DEVICE_MEMORY_BYTES", "1 PiB")]
DeviceMemoryBytes = Annotated[DeviceBytes, _at_least(MIN_DEVICE_MEMORY_BYTES, "B", "MIN_DEVICE_MEMORY_BYTES",
                                                     "1 MiB", "96GB")]
DeviceBytesPerS = Annotated[BytesPerS, _at_most(MAX_DEVICE_BYTES_PER_S, "B/s", "MAX_DEVICE_BYTES_PER_S", "100 PB/s"),
                            _at_least(MIN_DEVICE_BYTES_PER_S, "B/s", "MIN_DEVICE_BYTES_PER_S", "1 MB/s",
                                      "4TB/s or 400Gbps")]
DeviceWatts = Annotated[Watts, _at_most(MAX_DEVICE_POWER_W, "W", "MAX_DEVICE_POWER_W", "1 MW")]
PeakFlops = Annotated[float, Field(gt=0), _at_most(MAX_DEVICE_FLOPS_PER_S, "FLOP/s", "MAX_DEVICE_FLOPS_PER_S",
                                                   "10 EFLOP/s"),
                      _at_least(MIN_DEVICE_FLOPS_PER_S, "FLOP/s", "MIN_DEVICE_FLOPS_PER_S", "1 GFLOP/s",
                                "148e12 for 148 TFLOP/s")]
DeviceEmbodiedKg = Annotated[float, Field(ge=0), _at_most(MAX_DEVICE_EMBODIED_KGCO2E, "kgCO2e",
                                                          "MAX_DEVICE_EMBODIED_KGCO2E", "1,000 tCO2e")]


SHOWN = 6
"""Problems named in the one line; beyond them their count."""


def _field_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (itself, an Optional's, a dict's or a list's values)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return []
    return [m for arg in typing.get_args(annotation) for m in _field_models(arg)]


def _fields_at(cls: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model that holds the last part of `loc` (empty where it cannot be followed)."""
    models = [cls]
    for part in loc[:-1]:
        models = [m for model in models if isinstance(part, str) and part in model.model_fields
                  for m in _field_models(model.model_fields[part].annotation)] or models
    return sorted({name for model in models for name in model.model_fields})


def _where(loc: tuple[Any, ...]) -> str:
    """A location as a user writes it: union branch tags (`list[...]`, `function-after[...]`) left out."""
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and "[" in p))


_INTEGER_ERRORS = frozenset({"int_from_float", "int_parsing"})  # pydantic's "not a whole number" errors


def problem_text(cls: type[BaseModel], errors: list[Any]) -> str:
    """`where: message` for the first error, every missing field named with it, then the rest (see module)."""
    seen: dict[str, Any] = {}
    for err in errors:
        seen.setdefault(_where(tuple(err["loc"])), err)
    missing = [where for where, err in seen.items() if err["type"] == "missing"]
    parts: list[str] = []
    for where, err in seen.items():
        if err["type"] == "missing":
            if where == missing[0]:
                parts.append(f"{', '.join(missing)}: Field required")
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), _fields_at(cls, tuple(err["loc"])), n=1,
                                              cutoff=0.6)
            message += f" (did you mean {close[0]}?)" if close else ""
        elif err["type"] in _INTEGER_ERRORS:  # the value too: `1.5e0` read as 1.5 (`yaml_text`, hL60)
            value = err.get("input")
            message += f" (value {(repr(value) if isinstance(value, str) else str(value))[:40]})"
        parts.append(f"{where}: {message}" if where else message)
    shown = "; ".join(parts[:SHOWN])
    return shown + (f"; and {len(parts) - SHOWN} more" if len(parts) > SHOWN else "")


def renamed(data: dict[str, Any], new: str, old: str) -> dict[str, Any]:
    """`data` with its key `old` named `new` (the keys' order kept)."""
    return {(new if k == old else k): v for k, v in data.items()}


def warn_renamed(line: str, category: type[Warning]) -> None:
    """The one warning line of an old key read (module docstring, "Renamed keys": at every read)."""
    warnings.warn_explicit(line, category, __file__, 0, module=__name__)


def key_renamed(data: Any, new: str, old: str, meaning: str, line: str, category: type[Warning]) -> Any:
    """`data` (a mapping a schema validates) with `old` read as `new` and `line` warned (as `category`); unchanged
    without `old`; both keys: ValueError "give `new` (`meaning`) or its old name `old`, not both"."""
    if not isinstance(data, dict) or old not in data:
        return data
    if new in data:
        raise ValueError(f"give {new} ({meaning}) or its old name {old}, not both")
    warn_renamed(line, category)
    return renamed(data, new, old)
