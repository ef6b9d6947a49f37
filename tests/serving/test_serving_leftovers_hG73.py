"""Serving leftovers a user saw (hG, session 73).

1. `serve --tp auto` and `serve-plan` tried powers of two only; vLLM and SGLang build any TP dividing the query heads
   whose KV-head and FFN splits hold (vLLM 0.12.0 config/model.py:1143-1148, SGLang 0.5.9 srt/models/llama.py:139;
   `serving.tp_split.tp_degrees`). GPT-3 175B (96 heads) on 6 H100 under vLLM took TP 2 x 3, which does not fit; at
   4 requests/s serve-plan answered 8 GPUs (TP4 x 2) where TP6 x 1 meets the SLOs on 6.
2. GB300 was missing from `serving_row_rules.SYSTEMS`: a GB300 row's GPU memory read 0, so its SGLang chunk was the
   8,192 fallback, not the 288 GB part's 16,384 tier // attention DP.
3. SGLang's DP attention scales schedule_conservativeness by 0.3 (server_args.py:2114-2115), so each rank's output
   reserve ratio starts at 0.21, not 0.7 (`serving.output_reserve`).
4. serve-plan's prefill pool of its own layout ran the decode pool's token budget (its printed --token-budget), not its
   own ranks' default; now it runs its own and `serve_command` says it with --prefill-token-budget.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json, serve_of_its_command
from tests.config_copies import config_copy, one_line_error

import infraplan
from infraplan.catalog.loader import load_accelerator
from infraplan.cluster import Cluster
from infraplan.serving.engines import changed_engine_settings, load_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.output_reserve import OutputReserve
from infraplan.serving.tp_split import tp_degrees
from infraplan.validation import campaign_settings, serving_blackwell_disagg, serving_hopper_disagg
from infraplan.validation.release_stacks import data_stack
from infraplan.validation.serving_row_rules import SYSTEMS

POWERS = (1, 2, 4, 8, 16, 32, 64)


def test_every_tp_vllm_and_sglang_build(tmp_path: Path) -> None:
    gpt3 = infraplan.load_model("gpt3-175b")  # 96 heads, 96 KV heads
    for engine in ("vllm", "sglang"):
        assert tp_degrees(gpt3, engine, 8, POWERS) == ([1, 2, 3, 4, 6, 8], [])
        assert tp_degrees(gpt3, engine, 72, POWERS)[0] == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48]
        assert tp_degrees(gpt3, engine, 8, POWERS, per_stage=6) == ([1, 2, 3, 6], [])
    assert tp_degrees(gpt3, "trtllm", 8, POWERS) == ([1, 2, 4, 8], [])  # its layers not read: as before
    kv6 = infraplan.load_model(config_copy(tmp_path, "llama3-8b", "kv6", num_attention_heads=24,
                                           num_key_value_heads=6, head_dim=128, intermediate_size=12288))
    assert tp_degrees(kv6, "vllm", 8, POWERS) == ([1, 2, 3, 6], [4, 8])  # 4, 8: the KV heads split unevenly
    ffn = infraplan.load_model(config_copy(tmp_path, "llama3-8b", "kv6-ffn", num_attention_heads=24,
                                           num_key_value_heads=6, head_dim=128))
    assert tp_degrees(ffn, "sglang", 8, POWERS) == ([1, 2], [3, 4, 6, 8])  # FFN 14,336 = 2^11 x 7: not by 3


def test_tp_auto_takes_a_tp_the_engine_builds(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, ["serve", "gpt3-175b", "--system", "dgx-h100-superpod", "--gpus", "6", "--rate", "1",
                            "--workload", "chat", "--requests", "100", "--stack", "vllm-0.x"])
    assert out["fits"] and out["deployment"]["tp"] == 6 and out["deployment"]["replicas"] == 1  # was TP 2 x 3: no fit
    assert "the smallest TP of 1, 2, 3, 6 (dividing the 6 GPUs" in out["deployment"]["tp_source"]


def test_serve_plan_tries_tp6(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, ["serve-plan", "gpt3-175b", "--system", "dgx-h100-superpod", "--rate", "4", "--workload",
                             "chat", "--dtypes", "fp8", "--stack", "vllm-0.x"])
    assert plan["feasible"] and plan["meets_slo_full_run"]
    # hT73: TP6 x 1 holds its node's 8 GPUs, 2 idle (`serving.replica_packing`), as TP4 x 2 does with none idle,
    # which wins the tie; hG73 answered TP6 x 1 on 6
    assert (plan["gpus"], plan["deployment"]["tp"]) == (8, 4)
    assert any((o["tp"], o["replicas"], o["gpus"]) == (6, 1, 8) for o in plan["alternatives"])
    serve_of_its_command(capsys, plan)


def test_gb300_rows_read_their_part() -> None:
    assert set(serving_blackwell_disagg.SYSTEMS.items()) <= set(SYSTEMS.items())
    row = next(r for r in serving_blackwell_disagg.load_rows() if r["system"] == "gb300"
               and r["backend"] == "sglang" and r["isl"] == "8192" and r["prefill_attention_dp_size"] == "8")
    assert campaign_settings.row_memory_bytes(row) == load_accelerator("gb300").memory_bytes > 0
    pair = serving_hopper_disagg.pair_deployment(row)
    # SGLang's 16,384 tier from 160 GiB, // attention DP 8 (prefill) and 32 (decode, at least its batch); was 8,192
    assert (pair.prefill.token_budget, pair.decode.token_budget) == (2048, 512)


def test_sglang_output_reserve_under_dp_attention() -> None:
    assert load_engine("sglang-0.x").reserve_scale_by_attention_dp == 0.3
    for stack in ("sglang-0.x-mixed-chunk.yaml", "sglang-0.5.1.yaml"):  # release profiles inherit it
        assert load_engine(str(data_stack(stack))).reserve_scale_by_attention_dp == 0.3, stack
    assert load_engine("vllm-0.x").reserve_scale_by_attention_dp == 1.0
    plain, dp = OutputReserve([0], [10], 1.0, 16), OutputReserve([0], [10], 1.0, 16, 0.3)
    assert plain.ratio() == pytest.approx(0.7) and dp.ratio() == pytest.approx(0.21)
    assert dp.ratio(300) == pytest.approx(0.21 - 300 * (0.21 - 0.21 * 0.14) / 600)
    assert dp.ratio(600) == pytest.approx(0.21 * 0.14) and dp.ratio(10_000) == pytest.approx(0.0294)
    dp.decays = 400
    dp.idle()
    assert dp.ratio() == pytest.approx(0.21)
    shape, cluster = infraplan.load_model("deepseek-v3"), Cluster.resolve("hgx-h200")
    for adp, stack, scale in ((8, "sglang-0.x", 0.3), (1, "sglang-0.x", 1.0), (8, "vllm-0.x", 1.0)):
        dep = Deployment(tp=8 // adp, attention_dp=adp, ep=8, dtype="fp8", kv_dtype="fp8", max_batch=64,
                         token_budget=2048, engine=load_engine(stack).engine, stack=stack)
        assert build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep).reserve_scale == scale


PLAN = ("deepseek-v3 --system dgx-b200 --rate 8 --input-len 8000 --output-len 200 --ttft-slo 3 --tpot-slo 0.012 "
        "--dtypes mxfp8 --stack sglang-0.x")


def test_serve_plan_prefill_pool_runs_its_own_budget(capsys: pytest.CaptureFixture[str]) -> None:
    """The MoE-TP prefill pool (attention DP 8 x MoE TP 8) beside a TP8 decode pool on B200: SGLang's chunk 16,384 //
    8 = 2,048 a rank there, 16,384 in the decode pool (it ran 16,384 in both); the printed command reruns it."""
    plan = cli_json(capsys, ["serve-plan", *shlex.split(PLAN)])
    pre, dec = plan["deployment"]["prefill"], plan["deployment"]["decode"]
    assert (pre["attention_dp"], pre["token_budget"], dec["attention_dp"], dec["token_budget"]) == (8, 2048, 1, 16384)
    assert " --token-budget " not in plan["serve_command"]  # none given: `serve`'s default is the 16,384 (hS77)
    assert "--prefill-token-budget 2048 " in plan["serve_command"]
    serve_of_its_command(capsys, plan)


SERVE = ["serve", "deepseek-v3", "--system", "hgx-h200", "--gpus", "16", "--attention-dp", "8", "--dtype", "fp8",
         "--prefill-gpus", "8", "--prefill-tp", "8", "--input-len", "2000", "--output-len", "100", "--rate", "2",
         "--requests", "40", "--stack", "sglang-0.x"]


def test_prefill_token_budget_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    default = cli_json(capsys, SERVE)["deployment"]
    assert (default["prefill"]["token_budget"], default["decode"]["token_budget"]) == (8192, 1024)  # 8192 // 8
    given = cli_json(capsys, [*SERVE, "--prefill-token-budget", "4096"])["deployment"]
    assert (given["prefill"]["token_budget"], given["decode"]["token_budget"]) == (4096, 1024)
    # hS76: SGLang's chunk caps a prefill batch alone (`engines.chunk_budget`): 100 beside a cap of 256 runs
    small = cli_json(capsys, [*SERVE, "--prefill-token-budget", "100"])["deployment"]["prefill"]
    assert (small["token_budget"], small["max_batch"]) == (100, 256)
    at = SERVE.index("--prefill-gpus")
    err = one_line_error(capsys, *SERVE[:at], *SERVE[at + 4:], "--prefill-token-budget", "4096")
    assert "--prefill-token-budget/--prefill-moe-tp describe a prefill pool: give its --prefill-gpus" in err, err
    sglang = load_engine("sglang-0.x")
    h200 = load_accelerator("h200").memory_bytes
    pool = {"token_budget": 4096, "attention_dp": 1, "max_batch": 256}
    assert changed_engine_settings(sglang, 256, 256, 1024, memory_bytes=h200, attention_dp=8, prefill=pool) == [
        "--prefill-token-budget 4096 (default 8192)"]
    assert changed_engine_settings(sglang, 256, 256, 1024, memory_bytes=h200, attention_dp=8,
                                   prefill={**pool, "token_budget": 8192}) == []
