"""Every row of the published Hopper serving sample is in exactly one place: the dense set, the MoE / MLA set or the
disaggregated set (run or awaiting with its reason there), or the awaiting list of rows no set expresses."""

from __future__ import annotations

import csv
import re
from importlib import resources
from pathlib import Path

import pytest

from infraplan.validation import serving_hopper as dense
from infraplan.validation import serving_hopper_disagg as disagg
from infraplan.validation import serving_hopper_moe as moe
from infraplan.validation import serving_hopper_report as dense_report
from infraplan.validation import serving_row_rules as stated

REFERENCE = Path("/work/shared/reference/data/serving_measured_hopper.csv")


def _reference_rows() -> int:
    """The published sample's row count, as the awaiting list's source line states it."""
    head = (resources.files("infraplan.validation") / "data" / "serving_hopper_awaiting.csv").read_text()
    found = re.search(r"Apache-2.0; ([\d,]+) rows\)", head.splitlines()[0])
    assert found, "the awaiting list's source line states the reference row count"
    return int(found.group(1).replace(",", ""))


def test_dense_plus_moe_plus_awaiting_is_the_reference() -> None:
    run, waiting = moe.sampled_rows(1)
    awaiting = sum(r["rows"] for r in dense_report.awaiting())
    assert (len(dense.load_rows()) + len(stated.not_run()) + len(run) + len(waiting) + len(disagg.load_rows())
            + awaiting
            == _reference_rows() == 1884)
    assert len(run) > 0 and len(waiting) > 0


def test_the_awaiting_list_holds_only_rows_neither_set_expresses() -> None:
    awaiting = dense_report.awaiting()
    assert all(r["reason"] for r in awaiting)
    expressed = {(r["model_path"], r["system"], r["backend"], r["backend_version"], "agg")
                 for r in [*dense.load_rows(), *moe.load_rows()]}
    assert not expressed & {(r["model_path"], r["system"], r["backend"], r["backend_version"], r["mode"])
                            for r in awaiting}


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference data is not on this machine")
def test_the_stated_count_is_the_reference_file() -> None:
    rows = list(csv.DictReader(line for line in REFERENCE.read_text().splitlines() if not line.startswith("#")))
    assert len(rows) == _reference_rows()
