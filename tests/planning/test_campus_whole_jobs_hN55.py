"""hN55: a campus's Llama-3-405B runs a year are whole jobs running at once. 100 MW of H100 holds 3 jobs of 16,384
GPUs (62,864 GPUs): 15.6 runs a year, where `runs_per_year` read 20.3 until 2026-12-05 by counting the 14,792 GPUs
beyond whole jobs at the job's rate (a 16,384-GPU job does not run on them). That count stays in the JSON as
`all_accelerator_runs_per_year`, and the table line says both, the whole jobs first. Fails on bca011f (20.3; no
`all_accelerator_runs_per_year`). hB66: 63,944 GPUs (20.3 counting the 14,792 beyond whole jobs) until the generic
H100 was built on DGX SuperPOD rail units with optical NIC links: 62,864 (20 counting 13,712; 19.99). hE74 priced
ECMP hash collisions on the H100's reference system (meta-genai-roce-24k): 14.8 runs a year, 74 days each (18.9
counting the 13,712), where it was 15.6, 70 days (20.0); hD74 re-pinned them."""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import SECONDS_PER_YEAR


def test_runs_a_year_are_whole_jobs_and_the_rest_is_named_apart(capsys):
    assert main(["campus", "--power", "100MW", "--accelerator", "h100-sxm", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    cap = d["training_capacity"]
    assert (d["accelerators"], cap["job_gpus"], cap["concurrent_jobs"]) == (62864, 16384, 3)
    one_job = SECONDS_PER_YEAR / (cap["days_per_run_per_job"] * 86400.0)
    assert cap["runs_per_year"] == pytest.approx(3 * one_job) and round(cap["runs_per_year"], 1) == 14.8
    assert cap["all_accelerator_runs_per_year"] == pytest.approx(62864 / 16384 * one_job)
    assert round(cap["all_accelerator_runs_per_year"], 1) == 18.9
    assert main(["campus", "--power", "100MW", "--accelerator", "h100-sxm"]) == 0
    line = " ".join(capsys.readouterr().out.replace("│", " ").split())  # the table wraps at the terminal's width
    assert "14.8 per year: 3 jobs of 16,384 GPUs at once, 74 days each" in line
    assert "18.9 counting the 13,712 GPUs beyond whole jobs at the job's rate" in line


def test_a_campus_of_whole_jobs_counts_the_same_both_ways(capsys):
    """16,384 H100 at ~25 MW air: one whole job, nothing beyond it: the two counts are one, and the line names no
    rest."""
    from infraplan.planning.campus import training_capacity

    cap = training_capacity("h100-sxm", 16384)
    assert cap.concurrent_jobs == 1 and cap.runs_per_year == pytest.approx(cap.all_accelerator_runs_per_year)
