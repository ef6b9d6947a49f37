"""hM76 mutation wave on hN76's `cluster.cost._climate_figure`: the refusal names the overrides that replace the
missing figure, each its own (a PUE has a flag and a plan policy's key; a WUE a cost file's key only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.facility.test_product_walk_hN76 import COOL_SITE, COOLING, _file, _refused


def test_each_missing_climate_figure_names_its_own_overrides(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    cooling = _file(tmp_path, "rdhx.yaml", COOLING.format(PUE="{temperate: 1.12}", WUE="{temperate: 0.2}", FLOOR=2.8))
    facility = ["facility", "--system", "meta-rsc", "--cooling", cooling, "--location",
                _file(tmp_path, "nordic.yaml", COOL_SITE)]
    pue = _refused(facility, capsys)
    assert pue.endswith("add `cool:` to its pue, or override it (--pue, a --costs file's or a plan policy's pue)"), pue
    wue = _refused([*facility, "--pue", "1.2"], capsys)
    assert wue.endswith("add `cool:` to its wue_l_per_kwh, or override it (a --costs file's wue_l_per_kwh)"), wue
