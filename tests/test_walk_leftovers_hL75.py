"""Session 75's walks' leftovers, training / serving / reliability (hL75; found by hW75, hS75, hN75, hT75).

- `--no-spare-policy wait` where the policy never binds (an accelerator preset; 64 GPUs of the 16,384-GPU
  dgx-h100-superpod) answered as shrink and said nothing: one note in reliability, train --tokens and search --tokens.
- `serve --max-batch` above the stack's default token budget raised the budget silently, in SGLang's words on every
  stack: now said in each engine's own (`serving.raised_budget`).
- `attn_implementation: eager` in a config.json was "not understood (ignored)": it is transformers' runtime switch,
  which no stack priced reads; said so, with the flag that prices unfused attention.
- `reliability --checkpoint-size` refused an unknown --model the help says is then unused.
- serve-plan's answer did not carry the KV hand-off note its `serve_command` rerun did; and `serve --prefill-gpus`
  without --prefill-tp (one layout split) priced f without saying it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog.model_config_keys import runtime_attention_note
from infraplan.cli.main import main
from infraplan.serving.raised_budget import raised_budget_note

MOOT = "--no-spare-policy wait changed nothing"
MODELS = Path(__file__).resolve().parents[1] / "src" / "infraplan" / "catalog" / "models"


@pytest.mark.parametrize(("system", "gpus", "why"), [
    ("h100-sxm", "1024", "an accelerator preset's system is sized by the job"),
    ("dgx-h100-superpod", "64", "holds 2,040 spare units of 8 GPUs beyond the job's 8"),
])
def test_reliability_says_the_wait_policy_changed_nothing(capsys: pytest.CaptureFixture[str], system: str,
                                                          gpus: str, why: str) -> None:
    base = ["reliability", "--system", system, "--gpus", gpus]
    wait = cli_json(capsys, [*base, "--no-spare-policy", "wait"])
    shrink = cli_json(capsys, [*base, "--no-spare-policy", "shrink"])
    assert wait["goodput_with_repairs"] == shrink["goodput_with_repairs"] and wait["full_size_fraction"] is None
    said = [n for n in wait["notes"] if n.startswith(MOOT)]
    assert len(said) == 1 and why in said[0]
    assert not any("changed nothing" in n for n in shrink["notes"])  # the default: nothing to say


def test_a_binding_wait_policy_is_not_called_moot(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, "reliability --system gb300-nvl72 --gpus 72 --no-spare-policy wait")
    assert out["full_size_fraction"] is not None and out["full_size_fraction"] < 1.0
    assert not any("changed nothing" in n for n in out["notes"])


@pytest.mark.parametrize("command", ["train", "search"])
def test_train_and_search_runs_say_the_wait_policy_changed_nothing(capsys: pytest.CaptureFixture[str],
                                                                   command: str) -> None:
    args = (f"{command} llama3-8b --system dgx-h100-superpod --gpus 64 --seq-len 8192 --global-batch 512 "
            "--tokens 1e11 --no-spare-policy wait" + (" --tp 1" if command == "train" else ""))
    out = cli_json(capsys, args)
    run = out if command == "train" else out["best_run"]
    assert run["full_size_fraction"] is None
    assert sum(n.startswith(MOOT) for n in run["notes"]) == 1


@pytest.mark.parametrize(("stack", "words", "budget"), [
    # hS76: TensorRT-LLM keeps max_num_tokens and runs 8,192 sequences an iteration (`raised_budget.iteration_batch`)
    ("trtllm-0.x", "--max_num_tokens 100000", 8192),
    ("vllm-0.x", "vLLM refuses to start with max_num_seqs above max_num_batched_tokens", 100_000),
    ("sglang-0.x", None, 8192),  # hS76: its chunk caps a prefill batch alone: nothing raised, nothing said
])
def test_a_raised_token_budget_is_said_in_each_engines_words(capsys: pytest.CaptureFixture[str], stack: str,
                                                             words: str | None, budget: int) -> None:
    args = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "1", "--stack", stack,
            "--input-len", "500", "--output-len", "100", "--rate", "5", "--requests", "50"]
    raised = cli_json(capsys, [*args, "--max-batch", "100000"])
    assert raised["deployment"]["token_budget"] == budget
    said = [w for w in raised["warnings"] if w.startswith("--max-batch 100,000 is above")]
    assert len(said) == (words is not None)
    assert words is None or (words in said[0] and f"{stack}'s default " in said[0] and "of 8,192 tokens" in said[0])
    given = cli_json(capsys, [*args, "--max-batch", "100000", "--token-budget", "100000"])
    assert not any("is above" in w for w in given["warnings"])  # a budget given: nothing raised
    within = cli_json(capsys, [*args, "--max-batch", "4096"])
    assert not any("is above" in w for w in within["warnings"])


def test_raised_budget_note_only_where_raised() -> None:
    assert raised_budget_note("trtllm", "trtllm-0.x", 8192, 8192, None) is None
    assert raised_budget_note("trtllm", "trtllm-0.x", 8192, 8193, 8193) is None
    assert "8,193" in (raised_budget_note("vllm", "vllm-0.x", 8192, 8193, None) or "")


def _config(tmp_path: Path, value: str) -> Path:
    config = json.loads((MODELS / "llama3-8b.json").read_text())
    config["attn_implementation"] = value
    path = tmp_path / value / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    return path


def test_eager_attention_is_said_as_the_runtime_switch_it_is(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "1", "--input-len", "500", "--output-len", "100",
            "--rate", "5", "--requests", "50"]
    eager = cli_json(capsys, ["serve", str(_config(tmp_path, "eager")), *args])
    said = [w for w in eager["warnings"] if "attn_implementation" in w]
    assert len(said) == 1 and "not understood" not in said[0] and "train --attention unfused" in said[0]
    fused = cli_json(capsys, ["serve", str(_config(tmp_path, "sdpa")), *args])
    assert not any("attn_implementation" in w for w in fused["warnings"])
    assert eager["output_tokens_per_s"] == fused["output_tokens_per_s"]  # the stack's kernel priced either way
    assert runtime_attention_note("flash_attention_2", "x") is None


def test_checkpoint_size_does_not_look_the_model_up(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, "reliability --system gb300-nvl72 --gpus 72 --checkpoint-size 5TB --model nope")
    assert out["checkpoint_bytes"] == 5e12 and out["model"] is None
    capsys.readouterr()
    assert main(["reliability", "--system", "gb300-nvl72", "--gpus", "72", "--model", "nope"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


SPLIT = ("llama3-70b --system dgx-h100-superpod --input-len 3000 --output-len 300 --ttft-slo 2 --tpot-slo 0.025 "
         "--rate 10 --requests 300")


def test_serve_plan_says_the_handoff_share_its_serve_command_says(capsys: pytest.CaptureFixture[str]) -> None:
    """3 prefill + 2 decode TP2 workers on 8-GPU nodes (one layout split): P P P D | D, f = 1 x 1/2."""
    plan = cli_json(capsys, ["serve-plan", *shlex.split(SPLIT)])
    dep = plan["deployment"]
    assert (dep["prefill"]["replicas"], dep["decode"]["replicas"], dep["tp"]) == (3, 2, 2)
    assert "--prefill-tp" not in plan["serve_command"]
    assert sum("f = 0.500" in n for n in plan["notes"]) == 1
    served = cli_json(capsys, shlex.split(plan["serve_command"])[1:])
    assert sum("f = 0.500" in w for w in served["warnings"]) == 1


def test_search_tokens_says_its_dtype_choice_of_the_plan_it_gives(capsys: pytest.CaptureFixture[str]) -> None:
    """llama3-8b on 576 GB200 at 1,152 sequences: the runs pick the search's #5 (+3.61 % a step); the dtype line
    compared the fastest step's plan (MFU 23.5 %, mxfp8 19.5 % slower), now the plan given (22.7 %, 16.6 %)."""
    out = cli_json(capsys, "search llama3-8b --system gb200-nvl72-superpod --gpus 576 --seq-len 8192 "
                           "--global-batch 1152 --tokens 2T")
    assert any(n.startswith("--tokens: the best plan is the search's #5") for n in out["notes"])
    best, choice = out["best"], out["dtype_choice"]
    assert f"against {best['mfu'] * 100:.1f} % of the {best['config']['dtype']} peak" in choice["summary"]
    slower = best["step_time_s"] / choice["alternative_step_time_s"] - 1.0
    assert f"{abs(slower) * 100:.1f} % slower" in choice["summary"]
    assert out["best_run_command"].startswith(best["train_command"])
