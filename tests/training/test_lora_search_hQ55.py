"""`search --lora-rank` (hQ, session 55): every plan of the grid priced as `train --lora-rank` prices one (the
frozen base's step and memory on arrays: `adapter_host.frozen_grid`, `search_rows.frozen_memory_total`), so a row
is `train` of its command, bit for bit."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.stacks import resolve_stack
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.training.frozen_base import FLOP_CONVENTION, lora_spec
from infraplan.training.plan_grid import one_plans
from infraplan.training.plan_outputs import one_plan_memory
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans, search_plans
from infraplan.training.search_rows import frozen_memory_total
from infraplan.training.step_time import balanced_split, one_plan_step_time
from infraplan.web.requests import SearchRequest
from infraplan.web.runners import run_search

SEARCH = ["search", "llama2-70b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "8192",
          "--global-batch", "8", "--dtype", "fp8", "--top", "3", "--json"]


def _cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:  # type: ignore[type-arg]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_each_row_is_train_of_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    """MLPerf's Llama 2 70B LoRA on 8 H100: every top row's `train_command` (with --lora-rank 16) gives its
    numbers to the bit. Before: no --lora-rank on search (exit 2), and 70B with Adam fits no plan on 8 GPUs."""
    found = _cli(capsys, [*SEARCH, "--lora-rank", "16"])
    assert found["lora_rank"] == 16 and found["lora_targets"] == "attention" and found["mfu_guard"] is False
    assert found["mfu_ceilings"] == [] and len(found["top"]) == 3
    for row in found["top"]:
        assert row["train_command"].endswith(" --lora-rank 16 --lora-targets attention")
        train = _cli(capsys, [*shlex.split(row["train_command"])[1:], "--json"])
        for key in ("step_time_s", "tokens_per_s", "mfu", "hfu", "model_tflops_per_gpu", "memory_per_gpu_bytes",
                    "breakdown_s", "memory_breakdown_bytes", "mfu_flop_convention"):
            assert train[key] == row[key], key
    assert found["best"]["mfu_flop_convention"] == FLOP_CONVENTION
    full = _cli(capsys, SEARCH)  # (the same search training every weight: nothing fits)
    assert full["best"] is None and full["lora_rank"] is None


def test_grid_step_and_memory_are_the_single_estimates() -> None:
    """The frozen-base terms on a grid of 300 plans (ZeRO 0-3, PP 1-32, VPP, every schedule, recompute) equal the
    one-plan float path's, step time and memory, bit for bit (before: `one_plan_step_time` refused a grid)."""
    shape = load_model("llama2-70b")
    cluster = Cluster.resolve("dgx-h100-superpod", purpose="LLM training").for_gpus(64).placed(64)
    stack = resolve_stack(None, "training", recipe_key(shape))
    plans = enumerate_plans(shape, 64, 4096, 128, ["fp8", "bf16"], 8)
    rows = np.random.default_rng(7).choice(np.flatnonzero(valid_mask(shape, plans)), 300, replace=False)
    plans = plans.take(rows)
    assert set(np.unique(plans.zero)) == {0, 1, 2, 3} and plans.pp.max() >= 16
    spec = lora_spec(shape, 16, "all")
    grid = one_plan_step_time(shape, cluster, plans, stack, lora=spec)
    memory = frozen_memory_total(shape, plans, stack, balanced_split(shape, cluster, plans, stack), spec)
    # (most plans: a few TP8 full-recompute plans pay more for the 14 memory-bound adapter GEMMs of "all", re-run
    # forward, than the small frozen wgrads they skip; hX55: 0.9 -> 0.7, the adapters' own exposed TP collectives,
    # 4 T x h a layer and phase at "all" with userbuffers, now priced: 77 % of these plans faster than full training)
    assert np.mean(grid["step_time_s"] < one_plan_step_time(shape, cluster, plans, stack)["step_time_s"]) > 0.7
    for i, plan in enumerate(one_plans(plans)):
        one = one_plan_step_time(shape, cluster, plan, stack, lora=spec)
        assert {k: float(np.ravel(v)[i]) for k, v in grid.items()} == one
        assert float(memory[i]) == one_plan_memory(shape, cluster, plan, stack, spec)


def test_bad_rank_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """As `train --lora-rank`: a rank out of range is refused, one line, exit 2 (a MoE model was too, until hF56
    priced its experts' adapters: tests/training/test_lora_moe_hF56.py)."""
    assert main([*SEARCH[:-1], "--lora-rank", "0"]) == 2
    assert "--lora-rank must be in 1..8192" in capsys.readouterr().err


def test_web_search_is_the_api_search() -> None:
    """The web's `lora_rank` / `lora_targets` reach the search: the same best plan as the API."""
    api = search_plans("llama2-70b", "dgx-h100-superpod", 8, 8192, 8, dtype="fp8", top=1, lora_rank=8,
                       lora_targets="all")
    web = run_search(SearchRequest(model="llama2-70b", system="dgx-h100-superpod", gpus=[8], seq_len=8192,
                                   global_batch=8, dtype="fp8", top=1, lora_rank=8, lora_targets="all"))
    assert api.best is not None and web.best == api.best  # type: ignore[union-attr]
    assert api.best.train_command is not None and "--lora-rank 8 --lora-targets all" in api.best.train_command


def test_table_says_why_no_guard(capsys: pytest.CaptureFixture[str]) -> None:
    """The table's guard line names LoRA (before this line: "what-if hardware or --no-mfu-guard", neither true)."""
    assert main([*SEARCH[:-1], "--lora-rank", "16"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "LoRA rank 16 has no published-MFU guard" in out and "what-if hardware" not in out
