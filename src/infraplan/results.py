"""Base class of every typed result: frozen pydantic models whose JSON is what `--json` prints.

Every command's output is a subclass (one per domain, in `<package>/results.py`). Field names carry their
unit (`step_time_s`, `memory_per_gpu_bytes`, `usd_per_gpu_hour`). Non-finite floats serialise as JSON
`null` (never `NaN`/`Infinity`), so `--json` output is always valid JSON.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, model_serializer


def finite_or_none(value: Any) -> Any:
    """`value` with every non-finite float (in dicts and lists too) replaced by None: JSON `null`, never `NaN`."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


class Result(BaseModel):
    """A command's output: immutable, no unknown fields; `to_json()` is the `--json` text.

    `defer_build`: built on first use, as the catalog's `Spec` (a command builds only the results it returns).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="null", defer_build=True)

    @model_serializer(mode="wrap")
    def _serialise(self, handler: Any) -> Any:
        return finite_or_none(handler(self))

    def to_json(self, indent: int = 2) -> str:
        return self.model_dump_json(indent=indent)


class SparseResult(Result):
    """A result whose optional fields (default None) are left out of the JSON when they were never set.

    For outputs that have always had a variable set of keys (a plan that does not fit has no latencies; an
    infeasible capacity search has no deployment): the JSON keeps today's keys, the schema marks those fields
    optional.
    """

    @model_serializer(mode="wrap")
    def _serialise(self, handler: Any) -> Any:
        data = finite_or_none(handler(self))
        if not isinstance(data, dict):
            return data
        fields = type(self).model_fields
        return {k: v for k, v in data.items()
                if v is not None or k in self.model_fields_set or k not in fields or fields[k].is_required()}


R = TypeVar("R", bound=Result)


def with_warnings(result: R, lines: list[str]) -> R:
    """`result` with `lines` (each once) first in its `warnings` where it has the field, else its `notes` (the
    web's rule since hG56 for an uploaded config's lines, serve's field for what a reader must not miss), a line
    the field already holds not repeated; unchanged without lines or either field. The CLI's `--json`
    (cli/commands/_output.py `emit`) and the web's answer (web/runners.py `run`) both call it: one answer two ways."""
    fields = type(result).model_fields
    field = "warnings" if "warnings" in fields else "notes" if "notes" in fields else None
    if field is None or not lines:
        return result
    held = list(getattr(result, field))
    new = [line for line in dict.fromkeys(lines) if line not in held]
    return result.model_copy(update={field: [*new, *held]}) if new else result
