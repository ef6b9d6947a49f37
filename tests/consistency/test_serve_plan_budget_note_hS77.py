"""hS77: `serve-plan` says of its answer the token-budget note `serve` says of the same deployment, and its
`serve_command` asks `serve` the same question: the batch cap searched (not the batch an iteration runs) and a token
budget only where one was given (`raised_budget.deployment_budget_note`, one function for both).

Base: TensorRT-LLM with 4 draft tokens at the cap 2,048 runs 8,192 // 5 = 1,638 sequences an iteration; serve-plan
priced that but said nothing, and its `serve_command` gave `--max-batch 1638 --token-budget 8192`, so `serve` of it
said nothing either, while `serve --max-batch 2048` (the question asked) said why 1,638 run.
"""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json, serve_of_its_command

from infraplan.serving.capacity import search_capacity

PLAN = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "5", "--input-len", "256",
        "--output-len", "64", "--ttft-slo", "2", "--tpot-slo", "0.05", "--dtypes", "fp8", "--max-batch", "2048",
        "--speculative-tokens", "4", "--acceptance", "0.7", "--requests", "200", "--no-disaggregation",
        "--stack", "trtllm-0.x"]


def _budget_notes(lines: list[str]) -> list[str]:
    return [n for n in lines if n.startswith(("--max-batch ", "--token-budget "))]


def test_serve_plan_says_the_default_budgets_cap_as_serve_does(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, PLAN)
    assert plan["feasible"] and plan["deployment"]["max_batch"] == 8192 // 5
    (note,) = _budget_notes(plan["notes"])
    assert note.startswith("--max-batch 2,048 is above what trtllm-0.x's default max_num_tokens of 8,192")
    assert "(1 + 4 draft tokens each)" in note and "so 1,638 sequences run an iteration" in note
    line = shlex.split(plan["serve_command"])
    assert line[line.index("--max-batch") + 1] == "2048" and "--token-budget" not in line
    served = serve_of_its_command(capsys, plan)  # the same deployment, figures, bands and budget note
    assert _budget_notes(served["warnings"]) == [note]
    assert [served["ttft_s"]["p99"], served["tpot_s"]["p99"]] == [plan["serve"]["ttft_s"]["p99"],
                                                                  plan["serve"]["tpot_s"]["p99"]]


def test_a_given_budget_is_said_and_rerun_as_given(capsys: pytest.CaptureFixture[str]) -> None:
    """--token-budget 1,000 at the cap 2,048 with 3 drafts: 250 sequences an iteration (hT76's case)."""
    plan = search_capacity("llama3-8b", "dgx-h100-superpod", 5.0, input_len=256, output_len=64, ttft_slo=2.0,
                           tpot_slo=0.05, dtypes=("fp8",), batch_caps=(2048,), token_budget=1000, requests=200,
                           disaggregation=False, stack="trtllm-0.x", speculative_tokens=3, acceptance=0.7)
    assert plan.serve_command is not None and plan.deployment is not None
    (note,) = _budget_notes(plan.notes)
    assert note.startswith("--token-budget 1,000 holds 250 of --max-batch 2,048 generating sequences")
    assert "--max-batch 2048 --token-budget 1000 " in plan.serve_command
    served = serve_of_its_command(capsys, plan.model_dump(mode="json"))
    assert _budget_notes(served["warnings"]) == [note]


def test_no_note_where_the_cap_is_run_whole(capsys: pytest.CaptureFixture[str]) -> None:
    """Without drafts 2,048 sequences fit TensorRT-LLM's 8,192 tokens: nothing to say in either."""
    at = PLAN.index("--speculative-tokens")
    plan = cli_json(capsys, [*PLAN[:at], *PLAN[at + 4:]])
    assert plan["deployment"]["max_batch"] == 2048 and not _budget_notes(plan["notes"])
    assert not _budget_notes(serve_of_its_command(capsys, plan)["warnings"])


def test_a_cap_above_the_stacks_offline_batch_is_searched_as_serve_runs_it(capsys: pytest.CaptureFixture[str]) -> None:
    """--max-batch 16384 on TensorRT-LLM: 8,192 sequences an iteration (its max_num_tokens), said, and rerun by
    `serve --max-batch 16384`; base: searched as 2,048 (trtllm-0.x's offline_max_batch), unsaid, a batch `serve
    --max-batch 16384` of the same deployment does not run."""
    at = PLAN.index("--max-batch")
    line = [*PLAN[:at], "--max-batch", "16384", *PLAN[at + 2:PLAN.index("--speculative-tokens")], "--no-disaggregation"]
    plan = cli_json(capsys, line)
    assert plan["deployment"]["max_batch"] == 8192
    (note,) = _budget_notes(plan["notes"])
    assert note.startswith("--max-batch 16,384 is above what trtllm-0.x's default max_num_tokens of 8,192")
    assert " --max-batch 16384 " in plan["serve_command"]
    assert _budget_notes(serve_of_its_command(capsys, plan)["warnings"]) == [note]


def test_wide_ep_room_is_sized_at_the_batch_an_iteration_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`capacity_layouts.level_layouts` asks `capacity_space.replica_kv` for each wide-EP degree's room at the
    iteration's batch and budget (TensorRT-LLM at cap 16,384: 8,192 of each), as the candidate is then sized; base:
    at the cap and a budget of the cap (16,384 of each)."""
    from infraplan.catalog import load_model
    from infraplan.catalog.loader import load_accelerator
    from infraplan.serving import capacity_space
    from infraplan.serving.capacity_layouts import level_layouts

    asked: set[tuple[int, int]] = set()
    kv = capacity_space.replica_kv

    def seen(shape: object, acc: object, dep: capacity_space.Deployment, shortest: int = 0) -> object:
        asked.add((dep.max_batch, dep.token_budget))
        return kv(shape, acc, dep, shortest)  # type: ignore[arg-type]

    monkeypatch.setattr(capacity_space, "replica_kv", seen)
    args = (load_model("qwen3-30b-a3b"), load_accelerator("h100-sxm"), 8, "fp8", "fp8", 8192)
    assert any(adp > 1 for _, adp, _, _ in level_layouts(*args, [16384], [1], 1, "trtllm-0.x", "trtllm"))
    assert asked == {(8192, 8192)}
    asked.clear()
    level_layouts(*args, [16384], [1], 1, "trtllm-0.x", "trtllm", None, 3)  # 3 drafts: 8,192 // 4 an iteration
    assert asked == {(2048, 8192)}
    asked.clear()
    level_layouts(*args, [16384], [1], 1, "vllm-0.x", "vllm")  # vLLM runs the cap, its budget raised to it
    assert asked == {(16384, 16384)}
