"""Parse human quantities ("400Gbps", "80GiB", "1GW", "16M") at the edge; SI floats inside.

Rates in bits (Gbps, Tb/s) are returned in bytes/s; sizes in bytes; power in watts; durations ("50ms", "60d")
in seconds; plain counts accept k/M/G/T (decimal) suffixes. Text never yields nan or inf (refused with one
InputError line); numbers passed as floats are checked the same way.
"""

from __future__ import annotations

import math
import re

from infraplan.errors import InputError

_NUMBER = r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)"
_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}


def _split(text: str) -> tuple[float, str]:
    match = re.fullmatch(r"\s*" + _NUMBER + r"\s*([A-Za-z/%]*)\s*", str(text))
    if not match:
        raise InputError(f"cannot read quantity {str(text)[:80]!r}")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise InputError(f"quantity {text!r} is not a finite number")
    return value, match.group(2)


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise InputError(f"quantity {number!r} is not a finite number")
    return float(number)


def _prefix(unit: str, base: str, text: str) -> float:
    prefix = unit[: len(unit) - len(base)]
    if prefix in _BINARY:
        return _BINARY[prefix]
    if prefix in _DECIMAL:
        return _DECIMAL[prefix]
    raise InputError(f"unknown unit prefix {prefix!r} in {text!r}")


def parse_bytes(text: str | float | int) -> float:
    """'80GiB' -> 85899345920.0, '1.5GB' -> 1.5e9, '4096' -> 4096.0 (bytes)."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    if unit in ("", "B"):
        return value
    if not unit.endswith("B"):
        raise InputError(f"expected a size in bytes (e.g. 80GiB, 1.5GB), got {text!r}")
    return _finite(value * _prefix(unit, "B", text))


def parse_rate_bytes_per_s(text: str | float | int) -> float:
    """'400Gbps' or '400Gb/s' -> 5e10 bytes/s; '50GB/s' -> 5e10; a bare number is bytes/s."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    for base, scale in (("bps", 0.125), ("b/s", 0.125), ("Bps", 1.0), ("B/s", 1.0)):
        if unit.endswith(base):
            return _finite(value * _prefix(unit, base, text) * scale)
    if unit == "":
        return value
    raise InputError(f"expected a rate such as 400Gbps or 50GB/s, got {text!r}")


def parse_power_w(text: str | float | int) -> float:
    """'1GW' -> 1e9, '700W' -> 700.0, '35kW' -> 35000.0 (watts)."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    if unit == "":
        return value
    if not unit.endswith("W"):
        raise InputError(f"expected a power such as 1GW or 700W, got {text!r}")
    return _finite(value * _prefix(unit, "W", text))


def parse_count(text: str | float | int) -> float:
    """'16M' -> 1.6e7, '15.6T' -> 1.56e13, '2048' -> 2048.0."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    if unit not in _DECIMAL:
        raise InputError(f"expected a count such as 2048, 16M or 15.6T, got {text!r}")
    return _finite(value * _DECIMAL[unit])


_SECONDS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0, "h": 3600.0, "d": 86400.0,
            "days": 86400.0, "w": 604800.0, "weeks": 604800.0}


def parse_duration_s(text: str | float | int) -> float:
    """'50ms' -> 0.05, '2s' -> 2.0, '12h' -> 43200.0, '60d' -> 5184000.0 (seconds); a bare number is seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return _finite(text)
    match = re.fullmatch(r"\s*" + _NUMBER + r"\s*([a-zµ]*)\s*", str(text))
    if not match or match.group(2) not in _SECONDS:
        raise InputError(f"cannot read duration {text!r}; expected e.g. 50ms, 2s, 12h or 60d")
    return _finite(float(match.group(1)) * _SECONDS[match.group(2)])
