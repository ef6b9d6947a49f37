"""`search --dsa-stage warmup` follow-ups (hL62): one row per distinct plan (the grid tries --recompute none alone,
`dsa_warmup_grid.WARMUP_RECOMPUTE`: the three modes price one warm-up step and memory), and a search over several
GPU counts states the stage it priced (`ScalingResult.dsa_stage`, in its JSON and schema)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from infraplan.cli.main import main
from infraplan.training import dsa_warmup_grid
from infraplan.training.enums import Recompute
from infraplan.training.estimate import resolve_training
from infraplan.training.one_plan_memo import PLAN_FIELDS
from infraplan.training.plan import PlanArrays
from infraplan.training.results import ScalingResult
from infraplan.training.search import search_plans
from infraplan.training.step_time import balanced_split

ASK = dict(dtype="fp8", stack="deepseek-v3")  # 128 H800, 4K tokens, 16 sequences (hC62's warm-up search)
BASE = ["--system", "h800", "--seq-len", "4096", "--global-batch", "16", "--dtype", "fp8", "--stack", "deepseek-v3"]


def test_warmup_search_lists_one_row_per_distinct_plan() -> None:
    """The warm-up's rows differ in more than --recompute (hC62 listed TP8 EP64 ETP1 ZeRO-1 three times, tied to the
    bit): every row recomputes nothing, no two rows are one plan, the search's notes say so; the grid is a third of
    the sparse stage's (three modes -> one), the best plan as before (0.391 s)."""
    warm = search_plans("deepseek-v3.2", "h800", 128, 4096, 16, top=5, dsa_stage="warmup", **ASK)
    assert warm.best is not None and len(warm.top) == 5
    assert {row.config.recompute for row in warm.top} == {"none"}
    plans = {row.config.model_copy(update={"recompute": "none"}).model_dump_json() for row in warm.top}
    assert len(plans) == len(warm.top)
    assert all("--recompute none" in row.train_command for row in warm.top)
    assert warm.best.config.tp == 8 and warm.best.config.ep == 64 and warm.best.config.zero == 1
    assert warm.best.step_time_s == pytest.approx(0.3906, abs=1e-4)
    assert dsa_warmup_grid.WARMUP_RECOMPUTE_NOTE in warm.notes
    sparse = search_plans("deepseek-v3.2", "h800", 128, 4096, 16, top=1, **ASK)  # (every mode: a full step's differ)
    assert sparse.evaluated_count == 3 * warm.evaluated_count > 0
    assert dsa_warmup_grid.WARMUP_RECOMPUTE_NOTE not in sparse.notes


def test_recompute_modes_price_one_warmup_step_and_memory() -> None:
    """Why the collapse loses nothing: on a grid of plans (PP 1 and 4, 1F1B and DualPipe, ZeRO 0 and 1, micro-batch
    1 and 2), each at none, selective and full, the warm-up step and memory are equal to the bit across the modes."""
    plans = [dict(tp=8, ep=16, global_batch=16, zero=1), dict(tp=8, ep=8, pp=2, global_batch=64, zero=0),
             dict(tp=4, ep=32, global_batch=64, micro_batch=2, zero=1), dict(tp=8, pp=4, ep=4, global_batch=64, zero=1)]
    modes = [m.label for m in Recompute]
    points = [resolve_training("deepseek-v3.2", "h800", 128, seq_len=4096, recompute=mode, **ASK, **p)
              for p in plans for mode in modes]
    shape, cluster, profile = points[0].shape, points[0].cluster, points[0].profile
    columns = np.array([p.plan.row_key for p in points], dtype=np.int64).T
    grid = PlanArrays(**{f: columns[j].copy() for j, f in enumerate(PLAN_FIELDS)})
    assert sorted(set(grid.recompute.tolist())) == [int(m) for m in Recompute]
    step = dsa_warmup_grid.warmup_step_time(shape, cluster, grid, profile).reshape(len(plans), len(modes))
    memory = dsa_warmup_grid.warmup_memory_total(shape, grid, profile, balanced_split(shape, cluster, grid, profile))
    memory = memory.reshape(len(plans), len(modes))
    assert (step == step[:, :1]).all() and (memory == memory[:, :1]).all()
    assert len(set(step[:, 0].tolist())) == len(plans)  # (the plans themselves differ)
    assert (int(Recompute.NONE),) == dsa_warmup_grid.WARMUP_RECOMPUTE


def test_a_scaling_curve_states_its_stage(capsys: pytest.CaptureFixture[str]) -> None:
    """`search --gpus A,B --dsa-stage warmup --json` carries `dsa_stage` as one search's answer does (warmup; sparse
    on a DSA model by default; null on a model without the indexer), and the schema of `search --gpus A,B` lists it;
    the table's title names the warm-up and says no published-MFU guard ranked it."""
    for model, extra, stage in (("deepseek-v3.2", ["--dsa-stage", "warmup"], "warmup"),
                                ("deepseek-v3.2", [], "sparse"), ("deepseek-v3", [], None)):
        assert main(["search", model, *BASE, "--gpus", "128,256", *extra, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert "scaling" in out and out["dsa_stage"] == stage, model
    assert main(["search", "deepseek-v3.2", *BASE, "--gpus", "128,256", "--dsa-stage", "warmup"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # (unwrapped)
    assert "DSA dense warm-up" in text and "no published-MFU guard" in text
    assert main(["schema", "search --gpus A,B"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "dsa_stage" in schema["properties"] and "dsa_stage" not in schema.get("required", [])
    one = search_plans("deepseek-v3.2", "h800", 128, 4096, 16, top=1, dsa_stage="warmup", **ASK)
    assert ScalingResult.from_searches([one, one]).dsa_stage == "warmup"
