"""DeepSeek Sparse Attention's dense warm-up stage beyond `train` (hC62): `search --dsa-stage warmup` prices every plan
of its grid as the warm-up step (`training.dsa_warmup_grid`), its best plan re-run with `train` gives the same
answer, the sweep's `search` and `train` give the CLI's, bad input is one line; and the MTP module's indexer is in
the sparse stage's DP gradient traffic and in the warm-up's trained parameters."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.training import dsa_warmup, dsa_warmup_grid
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.one_plan_memo import PLAN_FIELDS
from infraplan.training.plan import PlanArrays
from infraplan.training.search import search_plans
from infraplan.training.stage_params import mtp_module_params
from infraplan.training.step_time import balanced_split
from infraplan.training.step_traffic import pipeline_and_dp_traffic

ASK = dict(dtype="fp8", stack="deepseek-v3")  # 128 H800, 4K tokens, 16 sequences: the sparse stage fits no plan


def _search(**extra: object):  # type: ignore[no-untyped-def]
    return search_plans("deepseek-v3.2", "h800", 128, 4096, 16, top=3, dsa_stage="warmup", **ASK, **extra)


def test_search_best_plan_is_train_of_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    """The same question asked two ways gives one answer: the search's best warm-up plan re-run with `train`
    (its `train_command`, `--dsa-stage warmup` in it) gives its step time, memory and MFU to the bit."""
    result = _search()
    assert result.dsa_stage == "warmup" and result.best is not None
    best = result.best
    assert "--dsa-stage warmup" in best.train_command
    assert best.mfu_flop_convention == dsa_warmup.WARMUP_FLOP_CONVENTION
    args = shlex.split(best.train_command)[1:]
    assert main([*args, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["dsa_stage"] == "warmup"
    assert again["step_time_s"] == best.step_time_s
    assert again["memory_per_gpu_bytes"] == best.memory_per_gpu_bytes
    assert again["mfu"] == best.mfu
    c = best.config  # and through the API
    api = estimate_training("deepseek-v3.2", "h800", 128, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, etp=c.etp,
                            vpp=c.vpp, seq_len=4096, global_batch=16, micro_batch=c.micro_batch, recompute=c.recompute,
                            zero=c.zero, schedule=c.schedule, order=c.order, dsa_stage="warmup", **ASK)
    assert api.step_time_s == best.step_time_s


def test_search_ranks_by_the_warmup_step() -> None:
    """At 128 H800 the sparse stage (the full model trained) fits no plan, the warm-up (its trained state the
    indexer's) does; every listed plan is in time order of its warm-up step and none is faster than the best."""
    sparse = search_plans("deepseek-v3.2", "h800", 128, 4096, 16, top=3, **ASK)
    assert sparse.best is None and sparse.dsa_stage == "sparse"
    warm = _search()
    assert warm.best is not None and warm.feasible_count > 0
    times = [row.step_time_s for row in warm.top]
    assert times == sorted(times)
    assert not warm.mfu_guard and not warm.mfu_ceilings  # no published warm-up MFU
    # the memory margin on the warm-up's memory: TP8 EP32 ETP1 (0.382 s, 76.2 GiB of 80) ranked after the best
    assert not warm.best.low_memory_headroom and warm.margin_ranked_after_count >= 1
    assert warm.margin_fastest_ranked_after_step_time_s is not None
    assert warm.margin_fastest_ranked_after_step_time_s < warm.best.step_time_s
    assert any("dense warm-up stage priced" in n for n in warm.notes)


def test_grid_step_and_memory_are_the_one_plan_float_path() -> None:
    """`dsa_warmup_grid` on a grid of plans (1F1B and DualPipe, PP 1 and 4, ZeRO 0 and 1) equals the warm-up of
    each plan alone (`train --dsa-stage warmup`) to the bit: one implementation on arrays and floats."""
    plans = [dict(tp=8, ep=16, global_batch=16, recompute="full", zero=1),
             dict(tp=8, ep=8, pp=2, global_batch=64, recompute="none", zero=0),
             dict(tp=4, ep=32, global_batch=32, zero=1),
             dict(tp=8, pp=4, ep=4, global_batch=64, zero=1)]
    points = [resolve_training("deepseek-v3.2", "h800", 128, seq_len=4096, **ASK, **p) for p in plans]
    shape, cluster, profile = points[0].shape, points[0].cluster, points[0].profile
    columns = np.array([p.plan.row_key for p in points], dtype=np.int64).T
    grid = PlanArrays(**{f: columns[j].copy() for j, f in enumerate(PLAN_FIELDS)})
    step = dsa_warmup_grid.warmup_step_time(shape, cluster, grid, profile)
    memory = dsa_warmup_grid.warmup_memory_total(shape, grid, profile, balanced_split(shape, cluster, grid, profile))
    for i, point in enumerate(points):
        alone = dsa_warmup.warmup_outputs(point)
        assert step[i] == alone["step_time_s"]
        assert memory[i] == alone["memory_per_gpu_bytes"]
    sparse = [estimate_training("deepseek-v3.2", "h800", 128, seq_len=4096, **ASK, **p).step_time_s for p in plans]
    assert not np.allclose(step, sparse)  # (the grid is not priced as the sparse stage's full step)


def test_refusals_in_one_line_on_search(capsys: pytest.CaptureFixture[str]) -> None:
    """A model without the indexer, a stage not known, the warm-up with LoRA: one line, exit 2, on `search` as on
    `train` (the web's: tests/web/test_dsa_warmup_search_web_hC62.py)."""
    base = ["--system", "h800", "--gpus", "128", "--seq-len", "4096", "--global-batch", "16"]
    for model, extra, words in (("deepseek-v3", ["--dsa-stage", "warmup"], "deepseek-v3 has no lightning indexer"),
                                ("deepseek-v3.2", ["--dsa-stage", "dense"], "--dsa-stage takes sparse | warmup"),
                                ("llama3-8b", ["--dsa-stage", "warmup", "--lora-rank", "8"],
                                 "has no lightning indexer")):
        assert main(["search", model, *base, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err


def test_sweep_search_and_train_rows_are_the_cli_answers(capsys: pytest.CaptureFixture[str]) -> None:
    """The sweep's `search` with `dsa_stage` is `search_plans`; its `train` with `dsa_stage` and `tokens` is `train
    --dsa-stage warmup --tokens --json` (the whole run on the warm-up's 2.1 B tokens)."""
    from infraplan.sweep.functions import run_batch

    point = dict(model="deepseek-v3.2", system="h800", gpus=128, seq_len=4096, global_batch=16, top=3,
                 dsa_stage="warmup", **ASK)
    (row,) = run_batch("search", [("a", point)], seed=0)
    assert row["error"] is None
    assert row["best__step_time_s"] == _search().best.step_time_s  # type: ignore[union-attr]
    plan = dict(model="deepseek-v3.2", system="h800", gpus=128, tp=8, ep=16, seq_len=4096, global_batch=16,
                dsa_stage="warmup", tokens="2.1B", **ASK)
    (swept,) = run_batch("train", [("b", plan)], seed=0)
    assert swept["error"] is None
    assert main(["train", "deepseek-v3.2", "--system", "h800", "--gpus", "128", "--tp", "8", "--ep", "16",
                 "--seq-len", "4096", "--global-batch", "16", "--dtype", "fp8", "--stack", "deepseek-v3",
                 "--dsa-stage", "warmup", "--tokens", "2.1B", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    for key in ("step_time_s", "time_to_train_s", "gpu_hours", "trainable_params_count", "dsa_stage"):
        assert swept[key] == cli[key], key
    said = [n for n in cli["notes"] if n.startswith("checkpoints hold the")]  # the indexer's, not "adapter" words
    assert len(said) == 1 and "lightning-indexer parameters" in said[0] and "adapter" not in said[0]


def test_mtp_indexer_in_the_sparse_stage_dp_traffic() -> None:
    """The sparse stage trains every parameter; the MTP module is a layer of the decoder's last kind with its DSA
    indexer (megatron-core 0.16.1 gpt_layer_specs.py:698-710), so its indexer's parameters are in the stage's
    parameters the DP gradient traffic and the optimizer state are priced on (`ops.params.attention_params_local`
    counts the indexer, `stage_params.mtp_module_params` the module)."""
    shape = load_model("deepseek-v3.2")
    dense = dsa_warmup.dense_shape(shape)
    point = resolve_training(shape, "h800", 128, seq_len=4096, tp=8, ep=16, global_batch=16, **ASK)
    row, fabric = point.plan.one_row, point.cluster.fabric
    assert point.profile.mtp_num_layers == 1
    per_layer = shape.indexer_params_per_layer()
    module = float(mtp_module_params(shape, row, 1)[0]) - float(mtp_module_params(dense, row, 1)[0])
    assert module == pytest.approx(per_layer, rel=1e-12)
    with_mtp = pipeline_and_dp_traffic(shape, fabric, point.plan, mtp_num_layers=1)["params"]
    without = pipeline_and_dp_traffic(dense, fabric, point.plan, mtp_num_layers=1)["params"]
    assert float(with_mtp) - float(without) == pytest.approx(per_layer * (shape.num_layers + 1), rel=1e-9)


def test_mtp_indexer_trained_in_the_warmup() -> None:
    """The warm-up prices the MTP module's forward and its indexer's work; its indexer's parameters are trained with
    the rest (the report freezes all "except the lightning indexer"): in the trained count, the gradient
    all-reduce and AdamW's pass, which grow with the stack's MTP modules."""
    point = resolve_training("deepseek-v3.2", "h800", 128, seq_len=4096, tp=8, ep=16, global_batch=16, zero=1, **ASK)
    shape, row = point.shape, point.plan.one_row
    per_layer = shape.indexer_params_per_layer()
    assert dsa_warmup.stage_indexer_params(shape, row, 1) == per_layer * (shape.num_layers + 1)
    assert dsa_warmup.shape_indexer_params(shape, 1) == per_layer * (shape.num_layers + 1)
    with_mtp = dsa_warmup.warmup_step(point)
    without = dsa_warmup.warmup_step(replace(point, profile=point.profile.model_copy(update={"mtp_num_layers": 0})))
    assert with_mtp["optimizer"] > without["optimizer"] and with_mtp["dp_comm_exposed"] > without["dp_comm_exposed"]


def test_no_plan_train_prices_is_a_faster_warmup_than_the_search_best() -> None:
    """The search ranks by the warm-up step itself: no plan of a brute-force set priced one at a time by `train
    --dsa-stage warmup` (TP, EP, expert TP, ZeRO) that fits with the memory margin is faster than its best (ranked by
    the sparse stage's step, the grid would answer TP8 EP128 at 0.416 s against TP8 EP64 ETP1 at 0.391 s; TP8 EP32
    ETP1, 0.382 s at 76.2 GiB, is ranked after it for its headroom, as `search` says)."""
    best = _search().best
    assert best is not None
    fastest = None
    for tp in (1, 2, 4, 8):
        for ep in (1, 2, 4, 8, 16, 32, 64, 128):
            for etp in (None, 1):
                for zero in (0, 1):
                    try:
                        e = estimate_training("deepseek-v3.2", "h800", 128, tp=tp, ep=ep, etp=etp, zero=zero,
                                              seq_len=4096, global_batch=16, dsa_stage="warmup", **ASK)
                    except ValueError:  # (a plan the rules refuse)
                        continue
                    if e.fits and not e.low_memory_headroom and (fastest is None or e.step_time_s < fastest):
                        fastest = e.step_time_s
    assert fastest is not None and best.step_time_s <= fastest
