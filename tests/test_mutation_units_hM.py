"""Mutation spot-checks, third wave (hM, session 34): the unit parsers (units.py), which no test read directly.

Each test fails on a one-line mutant (validation/notes/test_suite_cost_tried.md, "hM (session 34)"); the values are
the SI and IEC definitions (BIPM SI brochure prefixes; IEC 80000-13 binary prefixes; 8 bits a byte)."""

from __future__ import annotations

import pytest

from infraplan.units import parse_bytes, parse_duration_s, parse_rate_bytes_per_s


@pytest.mark.parametrize(("text", "bytes_per_s"), [("400Gbps", 5e10), ("400Gb/s", 5e10), ("50GB/s", 5e10),
                                                  ("3.2Tbps", 4e11)])
def test_bit_rates_are_eight_bits_a_byte(text: str, bytes_per_s: float) -> None:
    """Mutant E01 read 'bps' as bytes."""
    assert parse_rate_bytes_per_s(text) == pytest.approx(bytes_per_s, rel=1e-15)


@pytest.mark.parametrize(("text", "size"), [("80GiB", 80 * 2**30), ("80GB", 80e9), ("1PB", 1e15),
                                            ("2PiB", 2 * 2**50)])
def test_binary_and_decimal_prefixes(text: str, size: float) -> None:
    """80 GiB = 85,899,345,920 B (IEC), 80 GB = 8e10 B, 1 PB = 1e15 B (SI). Mutants E02 (Gi decimal) and E07
    (P as T)."""
    assert parse_bytes(text) == size


@pytest.mark.parametrize(("text", "seconds"), [("2min", 120.0), ("1w", 604_800.0), ("2weeks", 1_209_600.0),
                                               ("60d", 5_184_000.0), ("50ms", 0.05)])
def test_durations(text: str, seconds: float) -> None:
    """A minute 60 s, a week 7 x 86,400 s. Mutants E03 (minutes as seconds) and E04 (a 5-day week)."""
    assert parse_duration_s(text) == pytest.approx(seconds, rel=1e-15)
