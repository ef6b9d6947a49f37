"""Edges of `catalog.file_checks` (hL, session 52: hand mutation testing). Each test failed on a mutant the tests
of the module's users let live (checked by flipping the line and running this file): the upper bounds of a device's
figures raised tenfold (a 2 PiB / 2 MW device was still refused only by a 1e30-sized test), and the count of problems
named in the one line (`SHOWN`) changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.errors import InputError


def _refused(tmp_path: Path, body: str) -> str:
    path = tmp_path / "part.yaml"
    path.write_text("extends: h100-sxm\n" + body, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_accelerator(str(path))
    return str(err.value)


@pytest.mark.parametrize(("line", "said"), [
    ("memory_bytes: 2PiB", "is above the 1 PiB bound on any device (MAX_DEVICE_MEMORY_BYTES)"),
    ("memory_bandwidth_bytes_per_s: 2e17", "is above the 100 PB/s bound on any device (MAX_DEVICE_BYTES_PER_S)"),
    ("tdp_w: 2MW", "is above the 1 MW bound on any device (MAX_DEVICE_POWER_W)"),
])
def test_a_figure_just_over_its_device_bound_is_refused(tmp_path: Path, line: str, said: str) -> None:
    assert said in _refused(tmp_path, line + "\n")


def test_the_line_names_six_problems_then_their_count(tmp_path: Path) -> None:
    typos = "".join(f"typo_{i}: 1\n" for i in range(8))  # eight keys the schema does not have
    line = _refused(tmp_path, typos)
    assert line.count("Extra inputs are not permitted") == 6 and line.endswith("; and 2 more"), line
