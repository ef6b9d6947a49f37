"""Parse human quantities ("400Gbps", "80GiB", "1GW", "16M") at the edge; SI floats inside.

Rates in bits (Gbps, Tb/s) are returned in bytes/s; sizes in bytes; power in watts; durations ("50ms", "60d")
in seconds; plain counts accept k/M/G/T (decimal) suffixes. Text never yields nan or inf (refused with one
InputError line); numbers passed as floats are checked the same way. A bare number is read in the unit the
parser names (bytes, bytes/s, watts, seconds): for fields whose name carries it (`tdp_w`, `--bytes`), and for a
scenario or fleet file's `power`, which a validated spec dumps in watts and reads back. A command-line power or size
whose name carries no unit (`campus --power`, `facility --rack-power`, `--checkpoint-size`, and the web's same
fields) is read by `parse_stated_power_w` / `parse_stated_bytes`, which refuse a bare number (10 would be 10 W).
Durations keep bare seconds (the SI unit, as the CLI's SLO options state). A unit that is not the parser's
('10GWW', '80GiBB') is named as the unit, not as a prefix. `power_text` writes watts back without e-notation
(24.73 kW, not 2.473e-02 MW). Electricity prices take their unit as text ('70/MWh', '0.07/kWh'):
`limits.parse_energy_price` and `limits.read_electricity_price` (beside the prices' bounds and slips).
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
        raise InputError(f"quantity {str(text)[:80]!r} is not a finite number")
    return value, match.group(2)


def _finite(number: float) -> float:
    try:
        value = float(number)
    except OverflowError:  # a YAML integer of 400 digits (`typical_power_w: 1000...`): a traceback before (hX50)
        value = math.inf
    if not math.isfinite(value):
        raise InputError(f"quantity {str(number)[:80]!r} is not a finite number")
    return value


def _prefix(unit: str, base: str, text: str, expected: str) -> float:
    prefix = unit[: len(unit) - len(base)]
    if prefix in _BINARY:
        return _BINARY[prefix]
    if prefix in _DECIMAL:
        return _DECIMAL[prefix]
    raise InputError(f"unknown unit {unit!r} in {text!r}; expected {expected}")


def parse_bytes(text: str | float | int) -> float:
    """'80GiB' -> 85899345920.0, '1.5GB' -> 1.5e9, '4096' -> 4096.0 (bytes)."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    if unit in ("", "B"):
        return value
    if not unit.endswith("B"):
        raise InputError(f"expected a size in bytes (e.g. 80GiB, 1.5GB), got {text!r}")
    return _finite(value * _prefix(unit, "B", text, "a size such as 80GiB or 1.5GB"))


def parse_rate_bytes_per_s(text: str | float | int) -> float:
    """'400Gbps' or '400Gb/s' -> 5e10 bytes/s; '50GB/s' -> 5e10; a bare number is bytes/s."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    for base, scale in (("bps", 0.125), ("b/s", 0.125), ("Bps", 1.0), ("B/s", 1.0)):
        if unit.endswith(base):
            return _finite(value * _prefix(unit, base, text, "a rate such as 400Gbps or 50GB/s") * scale)
    if unit == "":
        return value
    raise InputError(f"expected a rate such as 400Gbps or 50GB/s, got {text!r}")


def parse_power_w(text: str | float | int) -> float:
    """'1GW' -> 1e9, '700W' -> 700.0, '35kW' -> 35000.0 (watts); a bare number is watts."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    if unit == "":
        return value
    if not unit.endswith("W"):
        raise InputError(f"expected a power such as 1GW or 700W, got {text!r}")
    return _finite(value * _prefix(unit, "W", text, "a power such as 1GW, 10MW or 700W"))


def parse_stated_power_w(text: str | float | int, name: str = "power") -> float:
    """`parse_power_w` for a typed power whose name carries no unit (`campus --power`, `facility --rack-power`): a
    bare number, which would be read as watts (`--power 1000` a 1 kW campus), is refused; `name` is the option's."""
    if isinstance(text, bool | int | float) or _split(str(text))[1] == "":
        raise InputError(f"{name} {str(text).strip()} has no unit; write it with one, e.g. 10MW, 1GW or 700W")
    return parse_power_w(text)


def parse_stated_bytes(text: str | float | int, name: str) -> float:
    """`parse_bytes` for a size whose name carries no unit (`--checkpoint-size`): a bare number (bytes) is refused."""
    if isinstance(text, bool | int | float) or _split(str(text))[1] == "":
        raise InputError(f"{name} {str(text).strip()} has no unit; write it with one, e.g. 5TB or 800GiB")
    return parse_bytes(text)


def power_text(watts: float) -> str:
    """Watts in the prefix that keeps 1-999 before the point, 4 significant digits: 10 W, 24.73 kW, 100 MW, 1.2 GW
    (above 999 TW, e-notation in W)."""
    shown = float(f"{watts:.4g}")  # rounded first: 999.96 W is 1 kW, not 1000 W
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if scale <= abs(shown) < 1e15:
            return f"{shown / scale:.4g} {prefix}W"
    return f"{shown:.4g} W"


def number_text(value: float) -> str:
    """A number written back on a command line that reads back to the same float: the short `:g` form (4, 0.2)
    where it does, else the shortest exact text (repr): `:g` keeps 6 significant digits, so a rate of 7.123456789
    printed as 7.12346 reran `serve` on other arrivals than serve-plan's (hC44)."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def significant_text(value: float, digits: int = 4) -> str:
    """`digits` significant digits, never in e-notation: 1,394 · 26.71 · 0.000123 (a count of 1,290.3 GPUs is
    "1,290", not "1.29e+03"). The CLI's `fmt_num` and the notes written below the CLI share it."""
    if value == 0:
        return "0"
    # the magnitude of the value as rounded: 999.96 at 4 digits is "1,000", not "1000" (hR52)
    magnitude = int(math.floor(math.log10(abs(float(f"{value:.{max(digits, 1) - 1}e}")))))
    if magnitude >= digits - 1:
        return f"{round(value):,}"
    decimals = min(digits - 1 - magnitude, 15)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_COUNT = {**_DECIMAL, "B": 1e9}  # a count's B is billion (1B tokens, 405B parameters), never bytes: counts have none


def parse_count(text: str | float | int) -> float:
    """'16M' -> 1.6e7, '1B' / '1G' -> 1e9, '15.6T' -> 1.56e13, '2048' -> 2048.0 (the CLI's and the web's reader)."""
    if isinstance(text, int | float):
        return _finite(text)
    value, unit = _split(text)
    if unit not in _COUNT:
        raise InputError(f"expected a count such as 2048, 16M, 1B or 15.6T, got {text!r}")
    return _finite(value * _COUNT[unit])


SECONDS_PER_DAY = 86400.0  # 24 h x 3600 s (SI day; leap seconds ignored)
_SECONDS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0, "h": 3600.0, "d": SECONDS_PER_DAY,
            "days": SECONDS_PER_DAY, "w": 7 * SECONDS_PER_DAY, "weeks": 7 * SECONDS_PER_DAY}


def parse_duration_s(text: str | float | int) -> float:
    """'50ms' -> 0.05, '2s' -> 2.0, '12h' -> 43200.0, '60d' -> 5184000.0 (seconds); a bare number is seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return _finite(text)
    match = re.fullmatch(r"\s*" + _NUMBER + r"\s*([a-zµ]*)\s*", str(text))
    if not match or match.group(2) not in _SECONDS:
        raise InputError(f"cannot read duration {text!r}; expected e.g. 50ms, 2s, 12h or 60d")
    return _finite(float(match.group(1)) * _SECONDS[match.group(2)])


# ASSUMPTION (hF46): a latency SLO written as a bare number above these is a millisecond figure written for seconds
# (`--tpot-slo 50` is 50 s a token, `--ttft-slo 2000` over half an hour to the first token); each is at least five
# times the loosest shipped workload's (catalog/workloads/*.yaml: TTFT 5 s, TPOT 0.2 s, an image 5 s end to end).
# The same figure with its unit ("50s") is taken as written. A ranking model's batch-latency SLO (`recsys
# --latency-slo`, hU61): 0.5 s, five times the loosest shipped one (the MTIA 2i paper's 100 ms budget,
# validation/cases/silicon.yaml; the examples' 10-20 ms).
BARE_SLO_CEILING_S = {"ttft": 30.0, "tpot": 1.0, "recsys": 0.5}
_SLO_WHAT = {"ttft": "to the first token (an image's end to end)", "tpot": "per output token",
             "recsys": "per batch"}


def slo_unit_slip(given: str | float | int, seconds: float, slo: str) -> str | None:
    """Why the latency SLO `given` (read as `seconds`; `slo` 'ttft' or 'tpot': the CLI's --ttft-slo, the web's
    ttft_slo) is refused as milliseconds written for seconds (a bare number above BARE_SLO_CEILING_S[slo]), or None."""
    bare = not isinstance(given, str) or re.fullmatch(r"\s*" + _NUMBER + r"\s*", given.replace("_", "")) is not None
    if not bare or seconds <= BARE_SLO_CEILING_S[slo]:
        return None
    text = str(given).strip()
    return (f"{text} is {seconds:g} s {_SLO_WHAT[slo]}: did you mean {text}ms? (a bare number is seconds, "
            f"above {BARE_SLO_CEILING_S[slo]:g} s taken for a slip; write {text}s to mean seconds)")


BARE_REPAIR_FLOOR_S = 3600.0
"""`reliability --repair-time`: a bare number below this (an hour) is refused as days or hours written for seconds
(`--days 54` beside it is days; the default repair is 3 days): `--repair-time 3` was 3 s (hU62)."""


def repair_time_slip(given: str | float | int, seconds: float) -> str | None:
    """Why the repair time `given` (read as `seconds`) is refused as days or hours written for seconds (a bare number
    below BARE_REPAIR_FLOOR_S), or None. The web's `repair_s` says seconds in its name and takes any number."""
    bare = not isinstance(given, str) or re.fullmatch(r"\s*" + _NUMBER + r"\s*", given.replace("_", "")) is not None
    if not bare or seconds >= BARE_REPAIR_FLOOR_S:
        return None
    text = str(given).strip()
    return (f"{text} is {seconds:g} s from a failure to the server back in service: did you mean {text}d or {text}h? "
            f"(a bare number is seconds, below {BARE_REPAIR_FLOOR_S:g} s taken for a slip; write {text}s to mean "
            "seconds)")


def parse_duration_days(text: str | float | int) -> float:
    """A length in days, as `--days` reads it (CLI and web, one reader): a bare number is days ('54', 54 -> 54.0); a
    duration with its unit is converted ('2w' -> 14.0, '12h' -> 0.5, '54d' -> 54.0, '90min')."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return _finite(text)
    try:
        return _finite(float(str(text).strip().replace("_", "")))
    except ValueError:
        return parse_duration_s(text) / 86_400.0

