"""Shared output helpers: a typed result as JSON (`--json`) or through a Rich renderer, and human units."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from rich.console import Console

from infraplan.results import Result

console = Console()

R = TypeVar("R", bound=Result)


def emit(result: R, as_json: bool, render: Callable[[R], None]) -> None:
    """Print `result` as its JSON serialisation (`Result.to_json`), or hand it to a Rich renderer."""
    if as_json:
        print(result.to_json())
    else:
        render(result)


def _scaled(value: float, unit: str, base: float, prefixes: tuple[str, ...]) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    exp = min(max(int(math.floor(math.log(abs(value), base))), 0), len(prefixes) - 1)
    if abs(float(f"{value / base**exp:.3g}")) >= 1000 and exp < len(prefixes) - 1:
        exp += 1  # 999.7 rounds to 1000 (or 1020 GiB): show the next prefix, not 1e+03
    return f"{value / base**exp:.3g} {prefixes[exp]}{unit}"


def fmt_seconds(value: float) -> str:
    if value >= 86400 * 2:
        return f"{value / 86400:.3g} days"
    if value >= 3600 * 2:
        return f"{value / 3600:.3g} h"
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def fmt_bytes(value: float) -> str:
    return _scaled(value, "B", 1024.0, ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))


def fmt_rate(value: float, unit: str) -> str:
    return _scaled(value, unit, 1000.0, ("", "k", "M", "G", "T", "P", "E"))


def fmt_percent(value: float) -> str:
    return f"{value * 100:.1f} %"
