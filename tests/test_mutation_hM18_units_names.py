"""Mutation wave 2 (hM18, session 43) on `units.number_text` / `significant_text` and `errors.close_names`.

Each test kills a mutation the landed tests let through; the expected values are worked by hand below (difflib's
ratio is 2 M / T, M the matched characters, T both lengths summed: Python's difflib.SequenceMatcher.ratio)."""

from __future__ import annotations

import pytest

from infraplan.errors import close_names
from infraplan.units import number_text, significant_text


@pytest.mark.parametrize("value", [0.1 + 0.2, 1 / 3, 2.0 / 7.0 * 1e-5, 123456.789012345])
def test_number_text_reads_back_to_the_same_float(value: float) -> None:
    """0.1 + 0.2 is 0.30000000000000004: 15 significant digits write 0.3, another float; the text must read back
    exactly (a command line rerun on the same arrivals, hC44)."""
    assert float(number_text(value)) == value
    assert number_text(4.0) == "4" and number_text(0.25) == "0.25"  # the short form where it is exact


def test_significant_text_groups_a_four_digit_count_at_the_default_digits() -> None:
    """Four significant digits by default: 1,394 has magnitude 3 = digits - 1, so it is the rounded whole count with
    its thousands separator (the docstring's "1,394"), as 12,345.6 is "12,346"."""
    assert significant_text(1394) == "1,394"
    assert significant_text(1287.4) == "1,287"
    assert significant_text(12345.6) == "12,346"


def test_significant_text_drops_trailing_zeros() -> None:
    """26.7 at four digits is "26.70" before the trailing zero is dropped (the docstring's "26.71" style, never a
    padded "26.70"); 2.0 is "2"."""
    assert significant_text(26.7) == "26.7"
    assert significant_text(2.0) == "2"
    assert significant_text(0.5, 3) == "0.5"


def test_significant_text_of_a_tiny_value_stays_short() -> None:
    """The decimals are capped at 15: 1e-300 at four digits would otherwise be written with 303 decimals."""
    assert len(significant_text(1e-300)) <= 17
    assert len(significant_text(-1e-300)) <= 18


def test_close_names_orders_extensions_whatever_the_catalog_order() -> None:
    """The names that extend the typed one come sorted: the same suggestions whatever order the catalog lists."""
    names = ["h100-sxm", "h100-pcie", "h100-nvl"]
    assert close_names("h100", names) == ["h100-nvl", "h100-pcie", "h100-sxm"]
    assert close_names("h100", names[::-1]) == close_names("h100", names)


def test_close_names_of_an_empty_name_is_nothing() -> None:
    """Every name starts with the empty string; an empty name is close to none (difflib's ratio of "" is 0)."""
    assert close_names("", ["a100", "h100", "b200"]) == []


def test_close_names_cutoff_is_half_by_hand() -> None:
    """"abcd" against "abxy": 2 matched of 8 characters, ratio 0.5, at the cutoff: suggested. "abcde" against
    "abxyz": 2 of 10, ratio 0.4: below it, not suggested."""
    assert close_names("abcd", ["abxy"]) == ["abxy"]
    assert close_names("abcde", ["abxyz"]) == []


def test_close_names_lists_each_name_once_and_at_most_n() -> None:
    """"h100-sxm" both extends "h100" and is difflib-close to it (8 of 12 characters, 0.67): listed once. Five
    extensions give three names by default, two with n = 2."""
    assert close_names("h100", ["h100-sxm"]) == ["h100-sxm"]
    five = [f"gpu-{i}" for i in range(5)]
    assert close_names("gpu", five) == ["gpu-0", "gpu-1", "gpu-2"]
    assert close_names("gpu", five, n=2) == ["gpu-0", "gpu-1"]


def test_an_unknown_preset_offers_three_names() -> None:
    """The catalog's did-you-mean takes close_names' three: "llama3" is extended by the three Llama 3 presets
    (8B, 70B, 405B), all offered, sorted."""
    from infraplan.catalog import load_model
    from infraplan.errors import InputError

    with pytest.raises(InputError, match="did you mean llama3-405b or llama3-70b or llama3-8b\\?"):
        load_model("llama3")
