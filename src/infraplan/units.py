"""Parse human quantities ("400Gbps", "80GiB", "1GW", "16M") at the edge; SI floats inside.

Rates in bits (Gbps, Tb/s) are returned in bytes/s; sizes in bytes; power in watts; durations ("50ms", "60d")
in seconds; plain counts accept k/M/G/T (decimal) suffixes. Text never yields nan or inf (refused with one
InputError line); numbers passed as floats are checked the same way. A bare number is read in the unit the
parser names (bytes, bytes/s, watts, seconds): for fields whose name carries it (`tdp_w`, `--bytes`), and for a
validated spec dumped in watts read back (`si_dump`). A power or size whose name carries no unit (`campus --power`,
`facility --rack-power`, `--checkpoint-size`, the web's same fields, a scenario or fleet file's site `power`) is
read by `parse_stated_power_w` / `parse_stated_bytes` (a site's: `facility_loader.stated_power`), which refuse a
bare number (10 would be 10 W; `bare_number`).
Durations keep bare seconds (the SI unit, as the CLI's SLO options state). A unit that is not the parser's
('10GWW', '80GiBB') is named as the unit, not as a prefix. `power_text` writes watts back without e-notation
(24.73 kW, not 2.473e-02 MW). Electricity prices take their unit as text ('70/MWh', '0.07/kWh'):
`electricity_price.parse_energy_price` and `electricity_price.read_electricity_price` (beside the prices' bounds
and slips; `limits` exports them too).
"""

from __future__ import annotations

import calendar
import difflib
import math
import re

from infraplan.errors import InputError

_NUMBER = r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)"
QUANTITY_TEXT = r"\s*" + _NUMBER + r"\s*([A-Za-z/%]*)\s*"
"""A number and its unit as the readers below take it (.5GW, 1E9W, 2e-3GW, 1.5 GW); the web's quantity fields match
it too (web/request_fields.py `Quantity`: its own narrower pattern refused those four, hI63)."""
_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}


def quoted_text(text: object) -> str:
    """The value as typed, quoted and cut to 40 characters (a 5,000-digit number was echoed whole)."""
    shown = str(text).strip()
    return repr(shown if len(shown) <= 40 else shown[:40] + "...")


def _named(name: str, message: str) -> InputError:
    """`message` as the field `name` (an option, a web field, a file's key) says it: "--power: ..." (hJ58)."""
    return InputError(f"{name}: {message}" if name else message)


def _unit_hint(number: str, unit: str, units: tuple[str, ...]) -> str:
    """"; did you mean 1.5GW? (...)" where `unit` is a known unit in another case ('gw') or one letter off ('mss'),
    else "". Case matters (MW is not mW, Gb not GB): only a unit that is one known unit in any case is offered."""
    same = [u for u in units if u.lower() == unit.lower()]
    if len(same) == 1:
        return f"; did you mean {number}{same[0]}? (units are case-sensitive)"
    close = difflib.get_close_matches(unit, units, n=1, cutoff=0.75) if not same else []
    return f"; did you mean {number}{close[0]}?" if close else ""


def _refusal(text: object, kind: str, what: str, units: tuple[str, ...], name: str = "") -> InputError:
    """Why `text` is not a `kind` ("quantity", "duration"): one line naming the field and the value as typed, with the
    hint that fits (empty, nan/inf, a negative, a decimal comma, a unit in the wrong case or mistyped), then
    `what` ("a power such as 1GW or 700W"). hJ58: "1,5GW" was "cannot read quantity '1,5GW'", no field named."""
    typed, shown = str(text).strip(), quoted_text(text)
    if not typed:
        return _named(name, f"empty {kind}; expected {what}")
    if re.fullmatch(r"[+-]?\s*(nan|inf(inity)?)\s*\S*", typed, re.IGNORECASE):
        return _named(name, f"{shown} is not a finite number; expected {what}")
    if typed.startswith("-"):
        return _named(name, f"{shown} is negative; expected {what}")
    parts = re.fullmatch(r"([0-9]+),([0-9]+)\s*(\S*)", typed)
    if parts:  # a decimal comma ("1,5GW") or a thousands separator ("1,500kW"): which, the digits cannot say
        whole, frac, unit = parts.groups()
        also = f" or {whole}{frac}{unit}" if len(frac) == 3 else ""
        meant = f"did you mean {whole}.{frac}{unit}{also}? (" if unit in ("", *units) else f"expected {what} ("
        return _named(name, f"cannot read {kind} {shown}: {meant}numbers take a '.' for the decimal point and no "
                      "thousands separator)")
    number = re.fullmatch(r"\s*" + _NUMBER + r"\s*(\S+)\s*", typed)
    hint = _unit_hint(number.group(1), number.group(2), units) if number else ""
    return _named(name, f"cannot read {kind} {shown}; expected {what}{hint}")


def _split(text: str, what: str, units: tuple[str, ...], name: str = "") -> tuple[float, str]:
    match = re.fullmatch(QUANTITY_TEXT, str(text))
    if not match:
        raise _refusal(text, "quantity", what, units, name)
    value = float(match.group(1))
    if not math.isfinite(value):
        raise _named(name, f"{quoted_text(text)} is not a finite number (above ~1.8e308)")
    return value, match.group(2)


def _finite(number: float, text: object = None, name: str = "", base: str = "") -> float:
    """`number` if finite; else one line naming the field and the value as typed (`text`: "1e308GW" is 1e308 GW,
    above a float's ~1.8e308 W: before hJ58 "quantity 'inf' is not a finite number")."""
    try:
        value = float(number)
    except OverflowError:  # a YAML integer of 400 digits (`typical_power_w: 1000...`): a traceback before (hX50)
        value = math.inf
    if not math.isfinite(value):
        shown = quoted_text(number if text is None else text)
        above = f" (above ~1.8e308{' ' + base if base else ''})" if text is not None else ""
        raise _named(name, f"{shown} is not a finite number{above}")
    return value


def _prefix(unit: str, base: str, text: str, expected: str, name: str, units: tuple[str, ...]) -> float:
    prefix = unit[: len(unit) - len(base)]
    if prefix in _BINARY:
        return _BINARY[prefix]
    if prefix in _DECIMAL:
        return _DECIMAL[prefix]
    raise _other_unit(text, unit, units, f"unknown unit {unit!r} in {quoted_text(text)}; expected {expected}", name)


def _other_unit(text: str, unit: str, units: tuple[str, ...], message: str, name: str) -> InputError:
    """A known number in a unit of another kind or case ('1.5 gw', '20 mss'): `message`, and the hint where one
    unit fits."""
    hint = _unit_hint(str(text).strip()[: len(str(text).strip()) - len(unit)].strip(), unit, units)
    return _named(name, message + hint)


_POWER_UNITS = ("W", "kW", "MW", "GW", "TW")
_BYTE_UNITS = ("B", "kB", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "PiB")
_RATE_UNITS = ("Mbps", "Gbps", "Tbps", "Mb/s", "Gb/s", "Tb/s", "MB/s", "GB/s", "TB/s")
_BYTES_WHAT, _RATE_WHAT = "a size such as 80GiB or 1.5GB", "a rate such as 400Gbps or 50GB/s"
_POWER_WHAT = "a power such as 1GW, 10MW or 700W"


def parse_bytes(text: str | float | int, *, name: str = "") -> float:
    """'80GiB' -> 85899345920.0, '1.5GB' -> 1.5e9, '4096' -> 4096.0 (bytes); `name` (the field) heads a refusal."""
    if isinstance(text, int | float):
        return _finite(text, name=name)
    value, unit = _split(text, _BYTES_WHAT, _BYTE_UNITS, name)
    if unit in ("", "B"):
        return value
    if not unit.endswith("B"):
        raise _other_unit(text, unit, _BYTE_UNITS, f"expected a size in bytes (e.g. 80GiB, 1.5GB), got "
                          f"{quoted_text(text)}", name)
    return _finite(value * _prefix(unit, "B", text, _BYTES_WHAT, name, _BYTE_UNITS), text, name, "B")


def parse_rate_bytes_per_s(text: str | float | int, *, name: str = "") -> float:
    """'400Gbps' or '400Gb/s' -> 5e10 bytes/s; '50GB/s' -> 5e10; a bare number is bytes/s."""
    if isinstance(text, int | float):
        return _finite(text, name=name)
    value, unit = _split(text, _RATE_WHAT, _RATE_UNITS, name)
    for base, scale in (("bps", 0.125), ("b/s", 0.125), ("Bps", 1.0), ("B/s", 1.0)):
        if unit.endswith(base):
            return _finite(value * _prefix(unit, base, text, _RATE_WHAT, name, _RATE_UNITS) * scale, text, name, "B/s")
    if unit == "":
        return value
    raise _other_unit(text, unit, _RATE_UNITS, f"expected {_RATE_WHAT}, got {quoted_text(text)}", name)


def parse_power_w(text: str | float | int, *, name: str = "") -> float:
    """'1GW' -> 1e9, '700W' -> 700.0, '35kW' -> 35000.0 (watts); a bare number is watts."""
    if isinstance(text, int | float):
        return _finite(text, name=name)
    value, unit = _split(text, _POWER_WHAT, _POWER_UNITS, name)
    if unit == "":
        return value
    if not unit.endswith("W"):
        raise _other_unit(text, unit, _POWER_UNITS, f"expected {_POWER_WHAT}, got {quoted_text(text)}", name)
    return _finite(value * _prefix(unit, "W", text, _POWER_WHAT, name, _POWER_UNITS), text, name, "W")


def bare_number(value: object) -> bool:
    """Whether `value` is a number with no unit: an int or float (not a boolean), or text that reads as one number
    ("50000", "1e9", "-5", "1_000"): what a key or option whose name states no unit refuses (a site's `power`)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    if not isinstance(value, str):
        return True
    return re.fullmatch(r"\s*[+-]?" + _NUMBER + r"\s*", value.replace("_", "")) is not None


def parse_stated_power_w(text: str | float | int, name: str = "power") -> float:
    """`parse_power_w` for a typed power whose name carries no unit (`campus --power`, `facility --rack-power`): a
    bare number, which would be read as watts (`--power 1000` a 1 kW campus), is refused; `name` is the option's."""
    if isinstance(text, bool | int | float) or _split(str(text), _POWER_WHAT, _POWER_UNITS, name)[1] == "":
        raise InputError(f"{name} {str(text).strip()} has no unit; write it with one, e.g. 10MW, 1GW or 700W")
    return parse_power_w(text, name=name)


def parse_stated_bytes(text: str | float | int, name: str) -> float:
    """`parse_bytes` for a size whose name carries no unit (`--checkpoint-size`): a bare number (bytes) is refused."""
    if isinstance(text, bool | int | float) or _split(str(text), _BYTES_WHAT, _BYTE_UNITS, name)[1] == "":
        raise InputError(f"{name} {str(text).strip()} has no unit; write it with one, e.g. 5TB or 800GiB")
    return parse_bytes(text, name=name)


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


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A whole count with its noun in the right number: "1 micro-batch", "16 micro-batches", "1,024 ranks" (`plural`:
    the noun's plural where it is not noun + "s"; hW59 read "1 micro-batches" in the DualPipe refusal)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def listed(text: str, name: str, example: str) -> list[str]:
    """A list option's comma-separated entries, each stripped; an empty one (`--max-batch 64,,256`, a trailing comma)
    refused in one line naming its place, by every list option alike (hU69: --max-batch skipped it, --dtypes said
    "unknown dtype ''", --gpus "expected N, N1,N2,...", --phases "cannot read ''")."""
    entries = [entry.strip() for entry in text.split(",")]
    if "" in entries:
        raise InputError(f"{name} {quoted_text(text)}: entry {entries.index('') + 1} of {len(entries)} is empty; "
                         f"give comma-separated values, e.g. {example}")
    return entries


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


def parse_count(text: str | float | int, *, name: str = "") -> float:
    """'16M' -> 1.6e7, '1B' / '1G' -> 1e9, '15.6T' -> 1.56e13, '2048' -> 2048.0 (the CLI's and the web's reader); a
    boolean (a sweep spec's `tokens: true`) is refused as text, not read as 1 (hI62)."""
    if isinstance(text, bool):
        text = str(text)
    if isinstance(text, int | float):
        return _finite(text, name=name)
    what = "a count such as 2048, 16M, 1B or 15.6T"
    value, unit = _split(text, what, tuple(_COUNT), name)
    if unit not in _COUNT:
        raise _other_unit(text, unit, tuple(u for u in _COUNT if u), f"expected {what}, got {quoted_text(text)}", name)
    return _finite(value * _COUNT[unit], text, name)


TOKEN_WORDS = ("tok", "token", "tokens")
"""The unit words a token count may carry ('1T tokens'): `parse_tokens`, and `--eval-every 50M tokens`."""


def parse_tokens(text: str | float | int, *, name: str = "") -> float:
    """A token count as `--tokens` and `--eval-every ... tokens` read it: `parse_count`'s spellings ('15.6T'), with
    or without one of `TOKEN_WORDS` after it ('15.6T tokens'; hW71: `--tokens "1T tokens"` was refused while
    `--eval-every "2T tokens"` was read)."""
    if isinstance(text, str):
        parts = text.split()
        if len(parts) == 2 and parts[1].lower() in TOKEN_WORDS:
            text = parts[0]
    return parse_count(text, name=name)


SECONDS_PER_DAY = 86400.0  # 24 h x 3600 s (SI day; leap seconds ignored)
_SECONDS = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "\u03bcs": 1e-6, "ns": 1e-9, "min": 60.0,
            "h": 3600.0, "d": SECONDS_PER_DAY,
            "days": SECONDS_PER_DAY, "w": 7 * SECONDS_PER_DAY, "weeks": 7 * SECONDS_PER_DAY}


def parse_duration_s(text: str | float | int, *, name: str = "") -> float:
    """'50ms' -> 0.05, '2s' -> 2.0, '12h' -> 43200.0, '60d' -> 5184000.0 (seconds); a bare number is seconds; ns,
    us, µs (micro sign) and μs (Greek mu) too (hV77: `--latency-slo 1ns` was refused while 1e-9 was taken)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return _finite(text, name=name)
    match = re.fullmatch(r"\s*" + _NUMBER + r"\s*([a-zµ\u03bc]*)\s*", str(text))
    if not match or match.group(2) not in _SECONDS:
        raise _refusal(text, "duration", "e.g. 50ms, 2s, 12h or 60d", tuple(u for u in _SECONDS if u), name)
    return _finite(float(match.group(1)) * _SECONDS[match.group(2)], text, name, "s")


# ASSUMPTION (hF46): a latency SLO written as a bare number above these is a millisecond figure written for seconds
# (`--tpot-slo 50` is 50 s a token, `--ttft-slo 2000` over half an hour to the first token); each is at least five
# times the loosest shipped workload's (catalog/workloads/*.yaml: TTFT 5 s, TPOT 0.2 s, an image 5 s end to end).
# The same figure with its unit ("50s") is taken as written. A ranking model's batch-latency SLO (`recsys
# --latency-slo`, hU61): 0.5 s, five times the loosest shipped one (the MTIA 2i paper's 100 ms budget,
# validation/cases/silicon.yaml; the examples' 10-20 ms).
BARE_SLO_CEILING_S = {"ttft": 30.0, "tpot": 1.0, "recsys": 0.5}
_SLO_WHAT = {"ttft": "to the first token (an image's end to end)", "tpot": "per output token",
             "recsys": "per batch"}
_SLO_EXAMPLE = {"ttft": "2s or 500ms", "tpot": "50ms", "recsys": "20ms"}


def slo_unit_slip(given: str | float | int, seconds: float, slo: str) -> str | None:
    """Why the latency SLO `given` (read as `seconds`; `slo` 'ttft' or 'tpot': the CLI's --ttft-slo, the web's
    ttft_slo) is refused as milliseconds written for seconds (a bare number above BARE_SLO_CEILING_S[slo]), or None.
    "did you mean {given}ms?" only where the millisecond reading is within the ceiling: 1e308 was offered "1e308ms"
    (1e305 s; hD58), now told to write the SLO with its unit."""
    bare = not isinstance(given, str) or re.fullmatch(r"\s*" + _NUMBER + r"\s*", given.replace("_", "")) is not None
    if not bare or seconds <= BARE_SLO_CEILING_S[slo]:
        return None
    text, ceiling = str(given).strip(), BARE_SLO_CEILING_S[slo]
    if seconds / 1e3 <= ceiling:
        return (f"{text} is {seconds:g} s {_SLO_WHAT[slo]}: did you mean {text}ms? (a bare number is seconds, "
                f"above {ceiling:g} s taken for a slip; write {text}s to mean seconds)")
    return (f"{text} is {seconds:g} s {_SLO_WHAT[slo]}, and {text}ms would be {seconds / 1e3:g} s: both above the "
            f"{ceiling:g} s a bare number is taken for; write the SLO with its unit, e.g. {_SLO_EXAMPLE[slo]}")


BARE_REPAIR_FLOOR_S = 3600.0
"""`reliability --repair-time`: a bare number below this (an hour) is refused as days or hours written for seconds
(`--days 54` beside it is days; the default repair is 3 days): `--repair-time 3` was 3 s (hU62)."""


def repair_time_slip(given: str | float | int, seconds: float) -> str | None:
    """Why the repair time `given` (read as `seconds`) is refused as days or hours written for seconds (a bare number
    below BARE_REPAIR_FLOOR_S), or None. The web's `repair_s` says seconds in its name and takes any number. A unit
    is offered where its reading is a repair of an hour to a year (0.001 was offered "0.001d or 0.001h", 86 / 3.6 s)."""
    bare = not isinstance(given, str) or re.fullmatch(r"\s*" + _NUMBER + r"\s*", given.replace("_", "")) is not None
    if not bare or seconds >= BARE_REPAIR_FLOOR_S:
        return None
    text = str(given).strip()
    fits = [f"{text}{unit}" for unit, scale in (("d", SECONDS_PER_DAY), ("h", 3600.0))
            if BARE_REPAIR_FLOOR_S <= seconds * scale <= 365 * SECONDS_PER_DAY]
    meant = f"did you mean {' or '.join(fits)}?" if fits else "write it with its unit, e.g. 3d or 12h"
    return (f"{text} is {seconds:g} s from a failure to the server back in service: {meant} "
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


def year_text(year: float) -> str:
    """A date as every output writes it (a plan's messages, `campus --phases` lines, its --plot chart and the web
    page through `CampusPhase.date`; hT59: the chart and page showed str(2026.5)): 2025, 2025-07 on a month's
    first day (2025.5), 2025-07-15 on a day's (2025 + (6 + 14/31) / 12, as planning/plan_dates reads the date: hN71,
    it printed 2025.5376), else the year to 4 decimals (2025.1234)."""
    if abs(year - round(year)) < 1e-9:
        return str(int(round(year)))
    months = (year - math.floor(year)) * 12
    if abs(months - round(months)) < 1e-6:  # 12 months: the next year (hR55: 2025.99999999 read "2025-13")
        return str(math.floor(year) + 1) if round(months) == 12 else f"{math.floor(year)}-{int(round(months)) + 1:02d}"
    whole, month = math.floor(year), math.floor(months)
    days = calendar.monthrange(whole, month + 1)[1] if 1 <= whole <= 9999 else 31
    day = (months - month) * days
    if abs(day - round(day)) < 1e-6 * days:
        return f"{whole}-{month + 1:02d}-{int(round(day)) + 1:02d}"
    return f"{year:.4f}"
