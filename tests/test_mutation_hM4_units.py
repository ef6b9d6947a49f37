"""Mutation wave 4 (hM4, session 35): unit parsing (units.py) of the suffixes the third wave left.

SI and IEC prefixes, 8 bits a byte, a day of 86,400 s; each test fails on a one-line mutant the earlier tests let
through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

import pytest

from infraplan.units import parse_bytes, parse_duration_s, parse_rate_bytes_per_s


def test_microseconds_and_days() -> None:
    assert parse_duration_s("250us") == pytest.approx(250e-6)
    assert parse_duration_s("250µs") == pytest.approx(250e-6)
    assert parse_duration_s("3d") == 3 * 86_400.0 == parse_duration_s("3days")


def test_bits_per_second_in_both_spellings_are_an_eighth_of_bytes() -> None:
    assert parse_rate_bytes_per_s("400Gb/s") == parse_rate_bytes_per_s("400Gbps") == 50e9
    assert parse_rate_bytes_per_s("50GB/s") == 50e9


def test_a_tebibyte_is_two_to_the_forty_bytes() -> None:
    assert parse_bytes("1TiB") == 2.0**40 == 1_099_511_627_776
    assert parse_bytes("1TB") == 1e12
