"""`serve --prefill-moe-tp N` and serve-plan's attention-DP x MoE-TP prefill pools (hY54).

Before: `serve`'s prefill pool of a layout of its own ran MoE TP 1 (`disaggregated.PrefillLayout` had no MoE TP), so
a prefill worker of attention DP with its experts split over MoE TP GPUs could not be asked of `serve` (--prefill-
moe-tp was "No such option", exit 2; the web refused the field, 422), and serve-plan did not search it (its answer must
be re-runnable by the `serve` line it prints). Now `--prefill-moe-tp` (web `prefill_moe_tp`) sets it, with the decode
side's `--moe-tp` rules and refusals naming the --prefill-* options, and `capacity_layouts.prefill_layouts` pairs each
decode layout with attention DP g x MoE TP m prefill workers where the decode enumerator tries them.

An answer that moves: DeepSeek-V3 mxfp8 on DGX B200 under SGLang (its mxfp8 experts run at EP 1 only, so wide EP is
refused and a prefill worker's experts are split by TP or MoE TP), 8 requests/s of 8,000 / 200 tokens, TTFT 3 s,
TPOT 12 ms. Before: PP 1's best was 48 B200 (2 TP8 prefill + 4 TP8 decode workers), so PP 2 was searched below it
and answered 40 B200 (5 TP4 PP2 workers, 1 prefill + 4 decode). Now PP 1 answers 40 B200 (1 attention-DP 8 x MoE-TP 8
prefill worker + 4 TP8 decode workers; PP 2 is then searched below 40 and has none); `serve` of its printed line
gives the same deployment, figures and bands.
"""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json, serve_of_its_command

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.serving.capacity_layouts import prefill_layouts
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.llm_iteration import Deployment

SERVE = ["serve", "deepseek-v3", "--system", "hgx-h200", "--gpus", "16", "--attention-dp", "8", "--dtype", "fp8",
         "--prefill-gpus", "8", "--prefill-attention-dp", "8", "--input-len", "2000", "--output-len", "100", "--rate",
         "2", "--requests", "40"]
PLAN = ("deepseek-v3 --system dgx-b200 --rate 8 --input-len 8000 --output-len 200 --ttft-slo 3 --tpot-slo 0.012 "
        "--dtypes mxfp8 --stack sglang-0.x")


def test_serve_runs_the_prefill_pool_at_its_moe_tp(capsys: pytest.CaptureFixture[str]) -> None:
    wide = cli_json(capsys, SERVE)["deployment"]["prefill"]
    split = cli_json(capsys, [*SERVE, "--prefill-moe-tp", "2"])
    pre, dec = split["deployment"]["prefill"], split["deployment"]["decode"]
    assert (wide["attention_dp"], wide["ep"], wide["moe_tp"]) == (8, 8, 1)
    assert (pre["attention_dp"], pre["ep"], pre["moe_tp"]) == (8, 4, 2)  # EP = attention DP x TP / MoE TP
    assert (dec["attention_dp"], dec["ep"], dec["moe_tp"]) == (8, 8, 1)  # --moe-tp is the decode pool's


@pytest.mark.parametrize(("extra", "named"), [
    (["--prefill-moe-tp", "3"], "--prefill-moe-tp 3 must divide"),
    (["--prefill-moe-tp", "2", "--prefill-tp", "8"], "give --prefill-attention-dp > 1"),
    (["--prefill-moe-tp", "2", "--stack", "vllm-0.x"], "give --prefill-moe-tp 1 (EP 8) or --prefill-moe-tp 8"),
    (["--prefill-moe-tp", "2", "--prefill-ep", "8"], "MoE TP 2 (--prefill-moe-tp)"),
])
def test_refusals_are_one_line_naming_the_prefill_options(capsys: pytest.CaptureFixture[str], extra: list[str],
                                                          named: str) -> None:
    capsys.readouterr()
    at = SERVE.index("--prefill-attention-dp")
    base = SERVE if "--prefill-tp" not in extra else SERVE[:at] + SERVE[at + 2:]  # a TP8 prefill worker
    assert main([*base, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err, err


def test_vllm_pairs_only_moe_tp_over_every_rank() -> None:
    """vLLM's data-parallel attention runs its MoE layers expert-parallel or tensor-parallel over all ranks
    (`deployment.moe_tp_refusal`): its MoE-TP prefill layouts are m = g only, as its decode layouts."""
    shape = load_model("deepseek-v3")
    tp8 = Deployment(tp=8, max_batch=64, engine="vllm", stack="vllm-0.x")
    assert prefill_layouts(shape, tp8) == [PrefillLayout(1, 1, 8, 8, 64), PrefillLayout(1, 1, 1, 8, 64, 8)]


def test_a_moe_tp_prefill_answer_is_serve_of_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, ["serve-plan", *shlex.split(PLAN)])
    assert plan["feasible"] and plan["meets_slo_full_run"] and plan["gpus"] == 40  # PP 1: 48 without them
    pre, dec = plan["deployment"]["prefill"], plan["deployment"]["decode"]
    assert (pre["tp"], pre["attention_dp"], pre["ep"], pre["moe_tp"], pre["replicas"]) == (1, 8, 1, 8, 1)
    assert (dec["tp"], dec["attention_dp"], dec["moe_tp"], dec["replicas"]) == (8, 1, 1, 4)
    assert "--prefill-attention-dp 8 --prefill-ep 1 --prefill-moe-tp 8" in plan["serve_command"]
    serve_of_its_command(capsys, plan)
