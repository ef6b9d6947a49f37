"""The API functions a sweep can run, and the pure worker that evaluates one batch of points.

`FUNCTIONS` maps a sweep's `function` name to the typed-API call behind the CLI command of that name
("module:attribute", imported only in the process that runs it, so workers load just what they need). The
arguments are the CLI's option names with underscores (`seq_len`, `global_batch`, `electricity_price`), passed
as keywords; `seed` goes to every function that takes one. The registry is open: a spec may name any
"package.module:function" whose source is annotated to return an `infraplan.results.Result` (read before the
module is imported; that is how `plan-scenario` joins when issue 14 lands: one more line here).

`train` (`sweep.train_run`: with `tokens`, the point's whole run, as `train --tokens`) is batched: each point is
resolved as `estimate_training` resolves it (`training.estimate.resolve_training`), the points with one model, stack
and job's cluster go through `training.estimate.evaluate_plans` as one array, the vectorised model the search uses,
and each row is finished as a single estimate is (`finish_training`): the same `TrainingEstimate`, or the same error,
that `estimate_training` gives for that point (tests/sweep/test_train_batch_property.py checks a few hundred).

`run_batch` is the task both backends run: a pure function of (function, points, seed) returning one flat row
per point, a point that raises records its one-line error and the batch goes on.
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.errors import InputError
from infraplan.results import Result
from infraplan.sweep.callables import read_usd_per_mwh, read_watts, source_refusal
from infraplan.sweep.results import RESERVED, flatten_result, one_line_error, table_cell
from infraplan.units import parse_bytes, parse_duration_s, parse_tokens  # (light: `re` and `math`)

INPUT_PREFIX = "in_"
"""Input columns: `in_gpus`, `in_system`, ... (an output field of the same name keeps its own name)."""
INPUT_UNITS: dict[str, str] = {
    "power": "power_w", "rack_power": "rack_power_w",  # W (campus --power, facility --rack-power; '1GW' parsed)
    "electricity_price": "electricity_price_usd_per_mwh", "server_price": "server_price_usd_per_accelerator",
    "rate": "rate_per_s", "ttft_slo": "ttft_slo_s", "tpot_slo": "tpot_slo_s",  # serve, serve-plan
}
"""A registered function's argument without a unit in its name -> its input column's name with the unit
(`in_power_w`, `in_electricity_price_usd_per_mwh`), as every number of a result carries its unit. The old names
(`in_power`, ...) are refused by `infraplan results` in one line naming the new one (`sweep.query`)."""
@dataclass(frozen=True)
class SweepFunction:
    """One sweepable API function: where it lives, its batched variant if any, its default points per task."""

    target: str
    batch_size: int = 1
    batched: str | None = None


_SWEEP = "infraplan.sweep.functions"
_COMMANDS = "infraplan.sweep.callables"  # the CLI commands without a typed API function
FUNCTIONS: dict[str, SweepFunction] = {
    "train": SweepFunction("infraplan.sweep.train_run:train", 2000, "infraplan.sweep.train_run:train_batch"),
    "search": SweepFunction("infraplan.sweep.train_run:search"),  # (`search --tokens`: hP62)
    "serve": SweepFunction("infraplan.sweep.serve_run:serve"),  # (the CLI's flat prefill options too: hW73)
    "serve-plan": SweepFunction("infraplan.serving.capacity:search_capacity"),
    "collective": SweepFunction(f"{_COMMANDS}:collective", 8),
    "facility": SweepFunction(f"{_COMMANDS}:facility", 16),
    "campus": SweepFunction(f"{_COMMANDS}:campus", 16),
}
"""Sweep function name -> SweepFunction. Add `plan-scenario` here when issue 14's API lands."""


@lru_cache(maxsize=64)
def _import_target(target: str) -> Callable[..., Any]:
    """The attribute of a 'package.module:attribute' path, imported (registry and batch paths, and checked ones)."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


@lru_cache(maxsize=64)
def resolve_callable(name: str) -> Callable[..., Any]:
    """The callable of a function name (registry) or of a 'package.module:function' path.

    A path, `infraplan.*` ones included, must name a Python function whose source declares `-> R` with R a
    subclass of `infraplan.results.Result`: its source is read first, without importing the module (whose
    top-level code would run), and the annotation is checked again once imported. So a CLI object
    (`infraplan.cli.main:app`), a helper (`infraplan.sweep.functions:resolve_callable`) or `os:system` is refused
    before anything runs."""
    target = FUNCTIONS[name].target if name in FUNCTIONS else name
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise InputError(f"unknown sweep function {name!r}; choose from {', '.join(FUNCTIONS)} "
                         "or give 'package.module:function'")
    if name not in FUNCTIONS and (refusal := source_refusal(name, module_name, attribute)) is not None:
        raise InputError(refusal)
    try:
        function = _import_target(target)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"sweep function {name!r}: cannot import it ({exc})") from None
    except Exception as exc:  # the module's own top-level code failed
        raise InputError(f"sweep function {name!r}: importing {module_name!r} failed ({one_line_error(exc)})") \
            from None
    if not callable(function):
        raise InputError(f"sweep function {name!r} is not callable")
    try:  # a class or builtin without a readable signature was a ValueError traceback in check_arguments
        inspect.signature(function)
    except (TypeError, ValueError):
        raise InputError(f"sweep function {name!r} has no readable signature: name a Python function that "
                         "returns a typed result") from None
    if name not in FUNCTIONS:
        # an open path must declare its typed result before it runs: `os:system` ran the spec's shell command
        try:  # and was refused only afterwards, for returning an int
            returns = inspect.signature(function, eval_str=True).return_annotation
        except (NameError, AttributeError, SyntaxError, TypeError, ValueError):
            returns = None
        if not (isinstance(returns, type) and issubclass(returns, Result)):
            raise InputError(f"sweep function {name!r} does not declare a typed result: a sweep runs a function "
                             "annotated `-> R` where R subclasses infraplan.results.Result")
    return function


def check_arguments(name: str, argument_names: Sequence[str]) -> None:
    """Refuse, before anything runs, an argument the function does not take (with the ones it does)."""
    parameters = inspect.signature(resolve_callable(name)).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    unknown = [a for a in argument_names if a not in parameters]
    missing = [p.name for p in parameters.values() if p.default is inspect.Parameter.empty and p.name not in
               argument_names and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    if unknown:
        raise InputError(f"sweep function {name!r} takes no argument {unknown[0]!r}; it takes "
                         f"{', '.join(p for p in parameters if p not in ('progress',))}")
    if missing:
        raise InputError(f"sweep function {name!r} needs argument {missing[0]!r} (in `fixed` or an axis)")


def takes_seed(name: str) -> bool:
    return "seed" in inspect.signature(resolve_callable(name)).parameters


def default_batch_size(name: str) -> int:
    return FUNCTIONS[name].batch_size if name in FUNCTIONS else 1


_QUANTITIES: dict[str, Callable[[str], float | None]] = {
    "power": lambda v: read_watts(v, "power"), "rack_power": lambda v: read_watts(v, "rack_power"),  # W
    "bytes": parse_bytes,  # collective's buffer, B ('1GiB' as `--bytes` reads it)
    # serve / serve-plan SLOs, s ('2s', '50ms' as `--ttft-slo` reads it)
    "ttft_slo": parse_duration_s, "tpot_slo": parse_duration_s,
    "electricity_price": read_usd_per_mwh,  # facility / campus, USD/MWh ('0.07/kWh' as `--electricity-price` reads it)
    "tokens": lambda v: parse_tokens(v, name="tokens"),  # train's / search's whole run ('15.6T' as `--tokens` reads it)
}
"""A registered function's argument that takes a quantity as text -> its reader to SI (the command's own), so its
input column holds numbers only: `bytes: ["1GiB", 4096]` stored '"1GiB"' as JSON text, and with one point per part
the parts' columns (text, int) could not be joined (a pyarrow traceback, hU44)."""
_READ_BEFORE_CALL = frozenset({"ttft_slo", "tpot_slo"})
"""Of `_QUANTITIES`, the arguments whose API function takes the number only (`estimate_serving`, `search_capacity`:
seconds): the sweep reads their text before the call, as the CLI does (`ttft_slo: "2s"` failed every point with a
numpy UFuncTypeError and stored "2s" in `in_ttft_slo_s`, hR42); `power` and `bytes` are read by their wrappers."""


def input_columns(arguments: Mapping[str, Any], name: str = "") -> dict[str, Any]:
    """`in_<argument>` columns; a registered function's unit-less argument named with its unit (`INPUT_UNITS`), and
    its quantities given as text read to SI (`_QUANTITIES`: a power as '1GW' stored in W, a size as '1GiB' in B;
    null where it does not parse: the point's `error` says why)."""
    registered = name in FUNCTIONS
    units = INPUT_UNITS if registered else {}
    out = {}
    for key, value in arguments.items():
        if registered and key in _QUANTITIES and isinstance(value, str):
            try:
                value = _QUANTITIES[key](value)
            except (InputError, ValueError):
                value = None
        out[f"{INPUT_PREFIX}{units.get(key, key)}"] = table_cell(value)
    return out


_KIND_WORDS = {"str": "text (a preset name, a file path or a choice)", "int": "a whole number",
               "float": "a finite number", "bool": "true or false", "None": "null"}
"""The kinds a spec's YAML value may be, by the annotation names a registered function's parameters use."""


def _kind_refused(annotation: str, value: Any) -> str | None:
    """What a parameter annotated `annotation` (as written: `int`, `float | None`, `str | Stack | None`) takes, where
    the spec's `value` is none of it; None where it is, or where the annotation is not a plain union of these names
    (`Sequence[str]`, a callable: not checked). A class name beside them is an object a Python caller passes, never
    YAML's; a whole number may come as 8.0 (a `log` axis' points) but not as a boolean."""
    members = [m.strip() for m in annotation.split("|")]
    if any(not re.fullmatch(r"[A-Za-z_]\w*", m) for m in members):
        return None
    simple = [m for m in members if m in _KIND_WORDS]
    if not [m for m in simple if m != "None"]:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    whole = number and float(value).is_integer() and abs(value) < 2**63
    taken = {"None": value is None, "str": isinstance(value, str), "bool": isinstance(value, bool), "int": whole,
             "float": number}
    if any(taken[m] for m in simple):
        return None
    return " or ".join(_KIND_WORDS[m] for m in simple if m != "None")


def check_argument_kinds(name: str, values: Mapping[str, Sequence[Any]]) -> None:
    """Refuse, before anything runs, a spec value of a kind a registered function's parameter does not take
    (`_kind_refused`; `values`: each argument's values in the spec), in one line: hI62, `stack: 3` failed every point
    with "TypeError: argument of type 'int' is not iterable", `model: 3` with an AttributeError, `seq_len: nan` with
    "ValueError: cannot convert float NaN to integer", `top: 2.5` with "TypeError: Partition index must be integer".
    A quantity read by its command's reader (`_QUANTITIES`: '1GiB', '2s') takes text or a finite number, the reader
    judging the rest."""
    if name not in FUNCTIONS:
        return
    parameters = inspect.signature(resolve_callable(name)).parameters
    for argument, given in values.items():
        annotation = parameters[argument].annotation if argument in parameters else None
        if argument in _QUANTITIES:  # text or a number, whatever the wrapper's annotation says; null where the
            # parameter takes it: its annotation says so, or its default is None (`train` / `search`'s `tokens`, a
            # run option: `sweep.train_run.run_signature`; hJ63: `tokens: null` was refused, `costs: null` ran)
            takes_none = "None" in str(annotation) or (argument in parameters and parameters[argument].default is None)
            annotation = "float | str" + (" | None" if takes_none else "")
        if not isinstance(annotation, str):
            continue
        for value in given:
            if (takes := _kind_refused(annotation, value)) is not None:
                shown = (repr(value) if isinstance(value, str) else str(value))[:60]
                raise InputError(f"sweep argument {argument!r} takes {takes}, got {shown} ({type(value).__name__})")


def check_axis_kinds(name: str, axes: Mapping[str, Sequence[Any]]) -> None:
    """Refuse, before anything runs, a listed axis mixing text with numbers (`tp: ["auto", 8]`): its input column
    would hold both, which a results table cannot (a part of text and one of numbers do not join). A registered
    function's quantity (`_QUANTITIES`) may mix them: each value is read to SI."""
    for axis, values in axes.items():
        if name in FUNCTIONS and axis in _QUANTITIES:
            continue
        text = [v for v in values if isinstance(v, str | list | dict)]
        numbers = [v for v in values if isinstance(v, int | float)]  # bools too: a column of true and 1
        if text and numbers:
            raise InputError(f"axis {axis!r} mixes text and numbers ({text[0]!r}, {numbers[0]!r}): a results column "
                             "holds one kind; give every value as a number, or every one as text")


def _call_one(name: str, arguments: Mapping[str, Any], seed: int, seeded: bool) -> Result:
    kwargs = dict(arguments)
    if name in FUNCTIONS:  # a quantity written with its unit, read as the command reads it (`_READ_BEFORE_CALL`)
        kwargs.update({k: _QUANTITIES[k](v) for k, v in arguments.items() if k in _READ_BEFORE_CALL
                       and isinstance(v, str)})
    if seeded and kwargs.get("trace") is None:  # a trace carries its draws: `serve` refuses a seed beside one
        kwargs.setdefault("seed", seed)
    result = resolve_callable(name)(**kwargs)
    if not isinstance(result, Result):
        raise TypeError(f"{name} returned {type(result).__name__}, not an infraplan Result")
    return result


@lru_cache(maxsize=64)
def _whole_only(name: str) -> frozenset[str]:
    """A registered function's parameters that take a whole number and no other number (`int`, `int | None`, ...)."""
    if name not in FUNCTIONS:
        return frozenset()
    parameters = inspect.signature(resolve_callable(name)).parameters
    return frozenset(n for n, p in parameters.items() if isinstance(p.annotation, str) and "int" in
                     (kinds := {m.strip() for m in p.annotation.split("|")}) and "float" not in kinds)


def _called_with(name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The point's arguments as the function is called: a whole number a `log` axis gave as a float (8.0) passed as
    the int it is (hI62: `pp: 4.0` failed with "TypeError: 'float' object cannot be interpreted as an integer")."""
    whole = _whole_only(name)
    return {k: int(v) if k in whole and isinstance(v, float) and v.is_integer() else v for k, v in arguments.items()}


def run_batch(name: str, points: Sequence[tuple[str, Mapping[str, Any]]], seed: int) -> list[dict[str, Any]]:
    """Evaluate a batch of (key, arguments) points; one row per point: `key`, `error`, inputs, outputs."""
    seeded = takes_seed(name)
    batched = FUNCTIONS[name].batched if name in FUNCTIONS else None
    outcomes: list[Result | BaseException]
    if batched is not None and len(points) > 1:
        outcomes = _import_target(batched)([_called_with(name, a) for _, a in points])
    else:
        outcomes = []
        for _, arguments in points:
            try:
                outcomes.append(_call_one(name, _called_with(name, arguments), seed, seeded))
            except Exception as exc:  # one failing point records its error; the sweep goes on
                outcomes.append(exc)
    rows = []
    for (key, arguments), outcome in zip(points, outcomes, strict=True):
        row: dict[str, Any] = {"key": key, "error": None, "config_warnings": config_warnings(arguments),
                               **input_columns(arguments, name)}
        if isinstance(outcome, BaseException):
            row["error"] = one_line_error(outcome)
        else:  # an output named like a sweep column (a result's own `seed`) keeps its value as out_<name>
            row.update({f"out_{k}" if k in RESERVED else k: v for k, v in flatten_result(outcome).items()})
        rows.append(row)
    return rows


def config_warnings(arguments: Mapping[str, Any]) -> str | None:
    """The point's model config warnings (`catalog.loader.model_config_warnings`), one per line; None when none
    (or the model does not load: its error is the row's). Each is said once a process on stderr, so the rows
    carried none of them before."""
    model = arguments.get("model")
    if not isinstance(model, str):
        return None
    from infraplan.catalog.loader import model_config_warnings

    try:
        lines = model_config_warnings(model)
    except Exception:  # the point's own error says why
        return None
    return "\n".join(lines) or None


def train_batch(points: Sequence[Mapping[str, Any]]) -> list[Result | BaseException]:
    """Many `estimate_training` points, each `estimate_training(**point)` to the bit (notes, band, flags) or its
    error: every point is resolved by `training.estimate.resolve_training` and finished by `finish_training`, as a
    single estimate is; the points sharing a model, stack and job's cluster (with their higher-precision twins) are
    priced in one `evaluate_plans` call, the vectorised model the search uses; a LoRA point alone (`lora_rank`), and a
    DSA warm-up point (`dsa_stage`)."""
    from infraplan.cluster import Cluster
    from infraplan.training.estimate import (
        TrainingPoint,
        estimate_training,
        evaluate_plans,
        finish_training,
        resolve_training,
    )
    from infraplan.training.one_plan_memo import PLAN_FIELDS
    from infraplan.training.plan import PlanArrays

    parameters = inspect.signature(estimate_training).parameters
    required = [k for k, p in parameters.items() if p.default is inspect.Parameter.empty]
    outcomes: list[Result | BaseException | None] = [None] * len(points)
    groups: dict[tuple[int, int, int], list[tuple[int, TrainingPoint]]] = {}
    clusters: dict[tuple[str, int], Cluster] = {}  # a generic cluster of `gpus` is built afresh (`for_gpus`): once
    for i, point in enumerate(points):
        try:
            if any(k not in parameters for k in point) or any(k not in point for k in required):
                estimate_training(**point)  # its own TypeError, word for word
            if (point.get("lora_rank") is not None or point.get("lora_targets") is not None  # (hF56: was priced
                    or point.get("dsa_stage", "sparse") != "sparse"  # (DSA's warm-up, `training.dsa_warmup`)
                    or point.get("memory_margin") is not None):  # (its headroom flag at that margin, hW73)
                outcomes[i] = estimate_training(**point)  # by `evaluate_plans`, every weight trained, in silence)
                continue
            args = dict(point)
            args.pop("dsa_stage", None)  # (the sparse stage: the default pricing)
            system, gpus = args["system"], args["gpus"]
            if isinstance(system, str) and type(gpus) is int:
                cluster = clusters.get((system, gpus))
                if cluster is None:
                    try:  # (a bad name is left to `resolve_training`, which says so where `train` does)
                        cluster = clusters[(system, gpus)] = Cluster.resolve(system).for_gpus(gpus)
                    except Exception:
                        cluster = None
                args["system"] = system if cluster is None else cluster
            resolved = resolve_training(**args)
        except Exception as exc:  # one failing point records its error; the batch goes on
            outcomes[i] = exc
            continue
        key = (id(resolved.shape), id(resolved.profile), id(resolved.cluster))
        groups.setdefault(key, []).append((i, resolved))
    for members in groups.values():
        shape, profile, cluster = members[0][1].shape, members[0][1].profile, members[0][1].cluster
        keys = [plan.row_key for _, p in members for plan in (p.plan, *(twin for _, twin in p.twins))]
        columns = np.array(keys, dtype=np.int64).T
        merged = PlanArrays(**{f: columns[j].copy() for j, f in enumerate(PLAN_FIELDS)})
        try:
            results = {k: np.asarray(v).tolist() for k, v in evaluate_plans(shape, cluster, merged, profile).items()}
        except Exception:  # each point alone, for its own error
            for i, _ in members:
                try:
                    outcomes[i] = estimate_training(**points[i])
                except Exception as exc:
                    outcomes[i] = exc
            continue
        row = 0
        for i, p in members:
            values = {k: v[row] for k, v in results.items()}
            twins = {}
            for d, _ in p.twins:
                row += 1
                twins[d] = {k: v[row] for k, v in results.items()}
            row += 1
            try:
                outcomes[i] = finish_training(p, values, twins)
            except Exception as exc:
                outcomes[i] = exc
    return [o if o is not None else RuntimeError("not evaluated") for o in outcomes]
