"""The reliability result says what its planned interruptions rest on (helper hE, validation/notes/
product_review_tried.md): a per-job rate counted on one 16,384-GPU job (Llama 3: 47 in 54 days), charged to a job
of any size, so a 64-GPU job's 16 days carry 13.9 of its 14.4 expected interruptions from it. The rate is not
changed (no source for small jobs); before, no note said so."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.facility.reliability import reliability_report


def _planned(notes: list[str]) -> list[str]:
    return [n for n in notes if n.startswith("planned interruptions:")]


def test_a_small_job_is_told_its_planned_interruptions_come_from_a_16k_gpu_job() -> None:
    r = reliability_report("meta-genai-roce-24k", 64, days=16)
    assert r.failure_rate == "llama3-h100"
    assert round(r.expected_planned_interruptions, 1) == 13.9 and round(r.expected_interruptions, 1) == 14.4
    (note,) = _planned(r.notes)
    assert "0.87 per day per job, whatever the job's size (not scaled by its 64 GPUs" in note
    assert "16,384 H100: 47 planned interruptions in 54 days (arXiv:2407.21783" in note
    assert f"{r.expected_planned_interruptions:.3g} of the {r.expected_interruptions:.3g} expected" in note
    big = reliability_report("meta-genai-roce-24k", 16384, days=54)
    assert big.expected_planned_interruptions == pytest.approx(r.expected_planned_interruptions * 54 / 16)  # per job


def test_a_rate_without_planned_interruptions_says_so_and_a_users_rate_names_its_source(tmp_path: Path) -> None:
    (none,) = _planned(reliability_report("meta-genai-roce-24k", 64, days=16, failure_rate="rsc-1").notes)
    assert none.startswith("planned interruptions: failure rate rsc-1 counts none")  # was no note (hC73)
    mine = tmp_path / "mine.yaml"
    mine.write_text("failures_per_1000_node_days: 4\naccelerators_per_node: 8\nplanned_interruptions_per_day: 0.5\n"
                    "source: our cluster, 2026\n")
    (note,) = _planned(reliability_report("meta-genai-roce-24k", 64, days=10, failure_rate=str(mine)).notes)
    assert "0.5 per day per job" in note and "its job size is not stated" in note and "16,384" not in note
