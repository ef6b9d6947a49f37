"""Mutation wave hM23 (session 45) on `catalog.band_transfer`: derivative parts share their die's family, an
unlisted part is its own family, and the leave-one-family-out shares count the left-out family's own cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.band_transfer import accelerator_family, family_transfer, family_unvalidated
from infraplan.catalog.error_bands import Residual

PARTS = Path(__file__).resolve().parents[2] / "src/infraplan/catalog/accelerators"


def _cases(family: str, values: list[float], campaign: str = "") -> list[Residual]:
    return [Residual(id=f"{family}-{i}", family=family, stack="vllm", kind="serving", residual=v, metric="throughput",
                     campaign=f"{campaign or family}-{i}") for i, v in enumerate(values)]


@pytest.mark.parametrize(("part", "die", "words"), [
    ("h800", "h100-sxm", "H100 SXM5 die"), ("mi325x", "mi300x", "the MI300X compute die"),
    ("gb300", "gb200", "bf16 2.5 PF as GB200"), ("b300", "b200", "bf16 as B200")])
def test_a_derivative_is_its_dies_family_as_its_part_file_says(part: str, die: str, words: str) -> None:
    assert words in (PARTS / f"{part}.yaml").read_text()  # the part file's own statement of what it is built on
    assert accelerator_family(part) == accelerator_family(die)


def test_an_unlisted_part_is_its_own_family_not_every_familys() -> None:
    """Rubin (catalog rubin.yaml) has no validated family: it is its own, which no case measures; "any" is the
    family of cases that cover every part (facility, network), which a part is not."""
    assert accelerator_family("rubin") == "rubin"
    assert family_unvalidated(_cases("hopper", [0.0]), accelerator_family("rubin"), "serving")


def test_no_cases_at_all_make_no_claim() -> None:
    """An empty pool has no band to carry over: nothing is said to be outside the validated accelerators."""
    assert not family_unvalidated([], "mtia", "serving")


def test_the_held_share_counts_the_left_out_familys_cases_and_the_band_sees_campaigns() -> None:
    """10 Hopper cases and 5 Blackwell ones: the text counts each left-out family's own cases (10 and 5, not the
    rest's), and each band is built from the other family's campaign names (its cases' `group`)."""
    hopper = _cases("hopper", [i / 100 for i in range(10)], campaign="h")
    blackwell = _cases("blackwell", [i / 100 for i in range(5)], campaign="b")
    seen: list[list[str]] = []

    def band_of(values: list[float], campaigns: list[str]) -> tuple[float, float]:
        seen.append(campaigns)
        return (min(values), max(values))

    text = family_transfer(hopper + blackwell, "mtia", band_of)
    assert "of blackwell's 5" in text and "of hopper's 10" in text
    expected = [sorted(r.campaign for r in hopper), sorted(r.campaign for r in blackwell)]
    assert sorted(map(sorted, seen)) == sorted(expected)


def test_no_band_from_any_family_says_so() -> None:
    text = family_transfer(_cases("hopper", [0.0]) + _cases("blackwell", [0.1]), "mtia", lambda v, c: None)
    assert text.startswith("too few campaigns") and "mtia" in text
