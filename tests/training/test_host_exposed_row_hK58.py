"""The exposed host issue time as its own step-time component, by phase (issue 12 item 1's visibility; hK, session 58).

`breakdown_s.host_exposed` is what `step_assembly.stage_seconds` adds to the heaviest stage's `other` (the host issue
time no queued GPU work covers, `training.host_time`), taken out of `other` after the step is summed;
`host_exposed_phases_s` splits it by the intervals `host_time.host_exposed_phases` prices. Before hK58 neither field
existed (`breakdown_s` had no `host_exposed`; `PlanMetrics` no `host_exposed_phases_s`): every test here fails there.
hF58's hand reading (validation/notes/product_review_tried.md): megatron-1.7b TP2 on 8 H100 under torchtitan, 1.381 s
a step, 0.478 s of it host issue, read by re-running with a CUDA-graph stack file (0.904 s). Since hT70 torchtitan
graphs its plans without a pipeline or EP (`cuda_graphs_when`, torchtitan 0.3.0 trainer.py:179-211): hF58's eager
figures are a stack file's that turns them off (`--training.disable_cuda_graphs`), torchtitan's own the graphed ones.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

TT_1B7 = dict(model="megatron-1.7b", system="h100-sxm", gpus=8, seq_len=2048, global_batch=64)


@pytest.fixture(scope="module")
def eager_stack(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("stacks") / "torchtitan-eager.yaml"
    path.write_text("extends: torchtitan\ncuda_graphs: false\n")
    return str(path)


PLANS: dict[str, dict[str, Any]] = {
    "tp1 eager": {**TT_1B7, "tp": 1, "stack": "eager"},
    "tp2 eager": {**TT_1B7, "tp": 2, "stack": "eager"},
    "tp8 megatron-core": dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, seq_len=4096,
                              global_batch=64),
    "pp4 interleaved": dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, pp=4, vpp=5,
                            seq_len=4096, global_batch=64),
    "moe dropless graphs": dict(model="qwen3-30b-a3b", system="dgx-h100-superpod", gpus=16, ep=8, seq_len=4096,
                                global_batch=64, stack="nemo-26.04"),
    "tp8 megatron-lm eager": {**TT_1B7, "tp": 8, "global_batch": 8, "stack": "megatron-lm-2021"},
}


@pytest.mark.parametrize("name", [*PLANS, "tp2 graphs"])
def test_the_components_and_the_phases_add_up(name: str, eager_stack: str) -> None:
    kwargs = PLANS.get(name) or {**TT_1B7, "tp": 2, "stack": "torchtitan"}
    kwargs = {**kwargs, "stack": eager_stack} if kwargs.get("stack") == "eager" else kwargs
    r = estimate_training(**kwargs)
    breakdown = r.breakdown_s.model_dump()
    assert sum(breakdown.values()) == pytest.approx(r.step_time_s, rel=1e-12, abs=0.0)
    assert sum(r.host_exposed_phases_s.model_dump().values()) == pytest.approx(breakdown["host_exposed"], rel=1e-12)
    assert breakdown["host_exposed"] > 0.0  # (at least the dispatch after a sync)
    assert breakdown["other"] > 0.0


def test_torchtitan_tp2_shows_hF58s_host_time_and_graphs_remove_it(eager_stack: str) -> None:
    eager = estimate_training(**TT_1B7, tp=2, stack=eager_stack)
    graphs = estimate_training(**TT_1B7, tp=2, stack="torchtitan")
    assert graphs.cuda_graphs and not eager.cuda_graphs
    # hF58 read 0.478 s of 1.381 s; hI58's torchtitan loss (loss_parallel's eager ops at TP 2: 76 B and 47 launches
    # a logit, torch 2.14.1 parallel/loss.py) adds launches: 0.483 s of 1.395 s
    assert eager.step_time_s == pytest.approx(1.3952, abs=5e-4)
    assert eager.breakdown_s.host_exposed == pytest.approx(0.4827, abs=5e-4)
    assert graphs.breakdown_s.host_exposed < 1e-4  # one dispatch after the optimizer's sync: 26 us
    # what graphs save is the host row (the optimizer's launches stay eager, `optimizer_graphs: false`, and hide
    # behind its GPU pass); every other component as in the eager step
    assert eager.step_time_s - graphs.step_time_s == pytest.approx(
        eager.breakdown_s.host_exposed - graphs.breakdown_s.host_exposed, rel=1e-9)
    assert eager.breakdown_s.other == pytest.approx(graphs.breakdown_s.other, rel=1e-9)
    # an unsynced step (no PP, no timers): the later micro-batches' run-ahead holds most of it
    phases = eager.host_exposed_phases_s
    assert phases.forward_backward > 0.9 * eager.breakdown_s.host_exposed and phases.moe_syncs == 0.0


def test_synced_phases_and_moe_syncs() -> None:
    piped = estimate_training(**PLANS["pp4 interleaved"])  # each forward and backward its own interval
    assert piped.host_exposed_phases_s.forward_backward == 0.0
    assert piped.host_exposed_phases_s.forward > 0.0 and piped.host_exposed_phases_s.backward > 0.0
    moe = estimate_training(**PLANS["moe dropless graphs"])  # the MoE layers' syncs and eager blocks
    assert moe.host_exposed_phases_s.moe_syncs > 0.5 * moe.breakdown_s.host_exposed


def test_the_note_says_when_the_host_binds(eager_stack: str) -> None:
    eager = estimate_training(**TT_1B7, tp=2, stack=eager_stack)
    lines = [n for n in eager.notes if n.startswith("the CPU issues kernels slower than the GPU runs them")]
    assert len(lines) == 1
    assert "0.483 s (34.6 %)" in lines[0] and "cuda_graphs: true" in lines[0] and "larger micro-batch" in lines[0]
    graphs = estimate_training(**TT_1B7, tp=2, stack="torchtitan")
    assert not [n for n in graphs.notes if "CPU issues" in n]
    assert not [n for n in estimate_training(**PLANS["tp8 megatron-core"]).notes if "CPU issues" in n]


def test_search_rows_carry_train_s_host_row(eager_stack: str) -> None:
    # batch 8 on 8 GPUs: micro-batch 1, the best plan (TP1 DP8) 5.5 % host-exposed (eager: graphed, none is)
    found = search_plans("megatron-1.7b", "h100-sxm", 8, 2048, 8, dtype="bf16", top=3, stack=eager_stack)
    assert found.top
    for row in found.top:
        assert sum(row.breakdown_s.model_dump().values()) == pytest.approx(row.step_time_s, rel=1e-12)
    best = found.top[0]
    c = best.config
    again = estimate_training("megatron-1.7b", "h100-sxm", 8, tp=c.tp, pp=c.pp, cp=c.cp, ep=c.ep, vpp=c.vpp,
                              seq_len=2048, global_batch=8, micro_batch=c.micro_batch, recompute=c.recompute,
                              zero=c.zero, dtype=c.dtype, stack=eager_stack, schedule=c.schedule, order=c.order)
    assert again.breakdown_s.host_exposed == best.breakdown_s.host_exposed
    assert again.host_exposed_phases_s == best.host_exposed_phases_s
    # the search says train's host note of its best plan (as it says the idle-batch note)
    noted = [n for n in again.notes if n.startswith("the CPU issues kernels slower")]
    assert len(noted) == 1 and noted == [n for n in found.notes if n.startswith("the CPU issues kernels slower")]


def test_the_web_answer_has_the_row_and_its_phases() -> None:
    from infraplan.web.app import create_app

    with TestClient(create_app()) as client:
        answer = web_answer(client, "train", {"model": "megatron-1.7b", "system": "h100-sxm", "gpus": 8, "tp": 2,
                                              "seq_len": 2048, "global_batch": 64, "stack": "torchtitan"})
    # torchtitan graphs the plan since hT70: no host issue left beside the one dispatch after the optimizer's sync
    assert answer["cuda_graphs"] is True
    assert answer["breakdown_s"]["host_exposed"] < 1e-4
    assert set(answer["host_exposed_phases_s"]) == {"forward", "backward", "forward_backward", "moe_syncs",
                                                    "optimizer", "pp_comm"}  # (the last two: hK59)
    assert not any(n.startswith("the CPU issues kernels slower") for n in answer["notes"])
