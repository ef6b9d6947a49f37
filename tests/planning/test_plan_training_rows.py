"""`plan`'s training services as numbers (helper hG5's review): the JSON row of a training service carries the
run's wall clock, MFU and goodput with their units, equal to what `train --tokens` gives for the same plan on the
same cluster; and a deadline no pool meets names the fastest run the search found, so a planner sees how far off
the deadline is."""

from __future__ import annotations

import inspect

import pytest

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioServiceRow
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.training_run import training_run_totals
from infraplan.training import estimate_training
from infraplan.training.search import search_plans


def _training_plan(**service: object):
    return plan_scenario(ScenarioSpec.model_validate({
        "name": "one-run", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", **service}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]}))


def test_a_training_row_carries_its_run_as_numbers_equal_to_train_tokens() -> None:
    plan = _training_plan(gpus=64, seq_len=4096, global_batch=256)
    (row,) = plan.services
    assert row.time_to_train_s is not None and row.mfu is not None and row.goodput is not None
    for field in ("time_to_train_s", "mfu", "goodput"):  # each field states its unit
        assert ScenarioServiceRow.model_fields[field].description
    assert "seconds" in (ScenarioServiceRow.model_fields["time_to_train_s"].description or "")
    cluster = Cluster.for_accelerator("h100-sxm", 64)
    best = search_plans("llama3-8b", cluster, 64, 4096, 256, dtype="auto", top=1).best  # what plan searches
    assert best is not None and best.config.tp * best.config.pp * best.config.dp * best.config.cp == 64
    # (the default stack; no LoRA: `lora_*` are not plan axes, hF55 added them and this test read them off the config)
    args = set(inspect.signature(estimate_training).parameters) - {"model", "system", "stack", "sharp", "lora_rank",
                                                                     "lora_targets", "optimizer", "dsa_stage",
                                                                     "memory_margin"}
    # (hW73's memory margin: a search option, not a plan axis; hJ60's: the stack's optimizer, not a plan axis;
    # hJ61's DSA stage: a model's training stage, not a plan axis)
    est = estimate_training("llama3-8b", cluster, **{a: getattr(best.config, a) for a in args})  # train's run
    run = training_run_totals(est, cluster, 1e12)
    assert row.time_to_train_s == pytest.approx(run.time_to_train_s, rel=1e-9)
    assert row.goodput == pytest.approx(run.goodput, rel=1e-12)
    assert row.mfu == pytest.approx(float(est.mfu), rel=1e-9)
    assert f"{row.time_to_train_s / 86400:.1f} days" in row.detail


def test_a_deadline_no_pool_meets_names_the_fastest_run_found() -> None:
    with pytest.raises(InputError) as err:
        _training_plan(tokens="15.6T", deadline="1h", seq_len=4096, global_batch=256)
    msg = str(err.value)
    assert "no plan meets the 1 h deadline" in msg
    assert "fastest found:" in msg and " devices" in msg and "\n" not in msg


def test_a_whole_training_job_a_site_cannot_hold_names_its_size() -> None:
    """"pretrain short by 1 %" read as a 1 % shortfall of something divisible; a run is one job of N devices,
    so the refusal names N and the pool (65,536 H100 for Llama 3 405B in 20 days; 100 MW holds ~64,000). (20, not
    24: 32,768 H100 meet 24 days since the SimAI NIC table is read per ring step, hT87: the FSDP reduce-scatter /
    all-gather over one-GPU-a-node groups; 25 days since the DP x CP group shards the optimizer state, hE s38.)"""
    spec = ScenarioSpec.model_validate({
        "name": "job-over-cap", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "pretrain", "kind": "training", "model": "llama3-405b", "tokens": "15.6T",
                      "deadline": "20d"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]})
    with pytest.raises(InputError) as err:
        plan_scenario(spec)
    msg = str(err.value)
    assert "pretrain in 2026 short by" in msg and "site s at its power cap of 100 MW" in msg
    assert "(it needs 65,536 devices on h100 at once)" in msg and "\n" not in msg
