"""Every answer whose goodput counts planned interruptions says what that rate rests on (helper hR, session 34;
validation/notes/product_review_tried.md): `train --tokens`, `campus` and `plan` take their goodput from
`facility.reliability.job_reliability`, whose planned interruptions are a per-job rate counted on one 16,384-GPU
job (Llama 3: 47 in 54 days) and charged to a job of any size. `reliability` said so in its notes; these three did
not. One function writes the sentence (`goodput_planned_note`), and each answer carries it in its notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cluster.cost import CostOverrides
from infraplan.facility.failure_rate_notes import goodput_planned_note
from infraplan.facility.reliability import job_reliability
from infraplan.planning.campus import training_capacity
from infraplan.planning.results import TrainingRunResult
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioPlan
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.search_run import estimate_with_run
from infraplan.planning.training_run import training_run_totals
from infraplan.training import estimate_training

PARAMS = 8.0e9


def _goodput_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "goodput counts planned interruptions at" in n]


def test_the_sentence_names_the_per_job_rate_its_source_job_and_this_jobs_size() -> None:
    job = job_reliability("h100-sxm", 64, PARAMS)
    note = goodput_planned_note(job, 64)
    assert note is not None and note.startswith("goodput counts planned interruptions at 0.87 per day per job")
    assert "not scaled by its 64 GPUs" in note
    assert "16,384 H100: 47 planned interruptions in 54 days (arXiv:2407.21783" in note
    none = goodput_planned_note(job_reliability("h100-sxm", 64, PARAMS, failure_rate="rsc-1"), 64)
    assert none is not None and none.startswith(  # said since hC73 (was None: rsc-1's 0 silently)
        "goodput counts no planned interruptions: failure rate rsc-1 counts none")


def test_train_tokens_carries_the_note_and_keeps_the_estimates_own_notes() -> None:
    est = estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=8, pp=4, vpp=4, seq_len=8192,
                            global_batch=128, recompute="auto")
    assert est.notes and not _goodput_notes(est.notes)  # --recompute auto says what it chose
    totals = training_run_totals(est, "dgx-h100-superpod", 1e12)
    (note,) = _goodput_notes(totals.notes)
    assert "not scaled by its 64 GPUs" in note
    cli_and_web = estimate_with_run(est, "llama3-70b", "dgx-h100-superpod", "1e12", stack=None, sharp=False,
                                    location=None, overrides=CostOverrides(), evaluated=None)  # train --tokens (hL60)
    for run in (cli_and_web, TrainingRunResult.joined(est, totals)):
        assert run.notes == [*est.notes, note]
    rsc = training_run_totals(est, "dgx-h100-superpod", 1e12, failure_rate="rsc-1")
    (said,) = rsc.notes  # no planned interruptions, said (hC73); the rate's accelerator (hF42)
    assert said.startswith("goodput counts no planned interruptions: failure rate rsc-1 counts none")
    assert said.endswith("; failure rate rsc-1 was counted on a100-80gb, not h100-sxm (counted on h100-sxm: "
                         "llama3-h100, epoch-h100)")


def test_campus_training_capacity_carries_the_note_at_its_job_size() -> None:
    small = training_capacity("h100-sxm", 1024)
    (note,) = _goodput_notes(small.notes)
    assert small.job_gpus == 1024 and "not scaled by its 1,024 GPUs" in note


def test_plan_notes_carry_the_training_rows_note_once_per_service_and_pool() -> None:
    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "one-run", "phases": [{"name": "2026", "year": 2026}, {"name": "2027", "year": 2027}],
        "services": [{"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64,
                      "seq_len": 4096, "global_batch": 256}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]}))
    assert len([s for s in plan.services if s.kind == "training"]) == 2  # one row per phase, one note
    (note,) = [n for n in plan.notes if not n.startswith("network: ")]  # (hC76: the fabric's assumed prices)
    assert note.startswith("run on h100: goodput counts planned interruptions at 0.87 per day per job")
    assert "not scaled by its 64 GPUs" in note
    assert "notes" in ScenarioPlan.model_fields


TRAINING_SCENARIO = """name: one-run
phases: [{name: "2026", year: 2026}]
services: [{name: run, kind: training, model: llama3-8b, tokens: 1T, gpus: 64, seq_len: 4096, global_batch: 256}]
pools: [{name: h100, device: h100-sxm, site: s}]
sites: [{name: s, power: 100MW, location: ohio}]
"""


def _cli(args: list[str]) -> str:
    from typer.testing import CliRunner

    from infraplan.cli.main import app

    out = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert out.exit_code == 0, out.output
    return out.output


def test_a_plan_without_training_has_no_goodput_note() -> None:
    import json

    notes = json.loads(_cli(["plan", "examples/plan-minimal.yaml", "--json"]))["notes"]
    assert [n for n in notes if not n.startswith("network: ")] == []  # recsys only (hC76: the fabric's prices)


@pytest.mark.parametrize("command", ["plan", "campus", "train"])
def test_the_human_output_prints_the_note(command: str, tmp_path: Path) -> None:
    scenario = tmp_path / "one-run.yaml"
    scenario.write_text(TRAINING_SCENARIO)
    args = {"plan": ["plan", str(scenario)], "campus": ["campus", "--power", "20MW", "--accelerator", "h100-sxm"],
            "train": ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "8",
                      "--seq-len", "4096", "--global-batch", "256", "--tokens", "1T"]}[command]
    assert "goodput counts planned interruptions at 0.87 per day per job" in " ".join(_cli(args).split())
