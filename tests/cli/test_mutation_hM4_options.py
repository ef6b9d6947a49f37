"""Mutation wave 4 (hM4, session 35): the CLI's bounded number parsers (cli/options.py).

Each parser is called as Typer calls it (`parser=`): a good value comes back as a number, a bad one is one
typer.BadParameter line (click's exit code 2). Each test fails on a one-line mutant the earlier tests let through
(validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

import pytest
import typer

from infraplan.cli.options import (
    ACCELERATORS,
    ACCEPTANCE,
    DAYS,
    PUE,
    SEED,
    SPECULATIVE_TOKENS,
    ZERO_STAGE,
)


@pytest.mark.parametrize("text", ["1.5", "inf", "-inf", "nan", "1e400"])
def test_a_count_that_is_not_a_whole_finite_number_is_one_line(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="is not a whole number"):
        ACCELERATORS(text)


def test_counts_read_underscores_and_whole_exponents() -> None:
    assert ACCELERATORS("1_000") == 1000
    assert ACCELERATORS("1e3") == 1000


def test_the_reason_is_given_for_the_upper_limit_only() -> None:
    with pytest.raises(typer.BadParameter) as high:
        ACCELERATORS("20_000_000")
    assert "(the limit is 10 M accelerators)" in str(high.value)
    with pytest.raises(typer.BadParameter) as low:
        ACCELERATORS("0")
    assert "greater than or equal to 1" in str(low.value) and "limit" not in str(low.value)


def test_the_closed_ranges_of_the_options() -> None:
    assert SEED("0") == 0  # seeds are 32-bit unsigned integers, 0 included
    assert ZERO_STAGE("3") == 3
    with pytest.raises(typer.BadParameter, match="ZeRO stages are 0-3"):
        ZERO_STAGE("4")
    assert SPECULATIVE_TOKENS("0") == 0 and SPECULATIVE_TOKENS("8") == 8
    with pytest.raises(typer.BadParameter):
        SPECULATIVE_TOKENS("9")
    assert PUE("1.0") == 1.0  # a PUE is facility over IT power, >= 1: 1 is a lossless facility
    assert ACCEPTANCE("0") == 0.0 and ACCEPTANCE("1") == 1.0


def test_days_read_durations_in_days() -> None:
    assert DAYS("54") == 54.0
    assert DAYS("2w") == pytest.approx(14.0)
    assert DAYS("12h") == pytest.approx(0.5)
