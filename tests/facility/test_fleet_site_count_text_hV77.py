"""hV77 (hW77's walk): a campus fleet file's site `count: 16M` was refused ("unable to parse string as an integer")
where fleet-mix and plan read `qps: 16M`: one reader of human counts at the edge (`units.parse_count`), a site's
count kept a whole number within the product's limit (limits.MAX_ACCELERATORS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.facility_loader import load_fleet
from infraplan.errors import InputError


def _fleet(tmp_path: Path, count: str) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(f"name: t\nsites:\n  - {{name: a, accelerator: h100-sxm, count: {count}, cooling: air}}\n")
    return path


@pytest.mark.parametrize(("text", "count"), [("2k", 2000), ("1.5M", 1_500_000), ("2048", 2048), ('"4K"', 4000)])
def test_a_site_count_takes_the_counts_other_files_take(tmp_path: Path, text: str, count: int) -> None:
    site = load_fleet(str(_fleet(tmp_path, text))).sites[0]
    assert site.count == count and isinstance(site.count, int)


@pytest.mark.parametrize(("text", "words"), [("16M", "less than or equal to 10000000"),
                                             ("1.5", "fractional part"), ("true", "boolean"),
                                             ("2 GW", "a count such as 2048, 16M")])
def test_a_count_that_is_no_whole_number_of_accelerators_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InputError, match="sites.0.count") as err:
        load_fleet(str(_fleet(tmp_path, text)))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_site_without_a_count_stays_without_one(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("name: t\nsites:\n  - {name: a, system: meta-genai-roce-24k, cooling: air}\n")
    assert load_fleet(str(path)).sites[0].count is None
