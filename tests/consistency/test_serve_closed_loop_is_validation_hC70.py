"""The same question asked two ways (hC70, session 49): `serve --concurrency N` of a measured row's layout is what
the Hopper serving validation predicts for that row (`validation.serving_hopper.run_row`, and the MoE set's
`serving_hopper_moe.run_row`, which passes its own deployment and shape to it).

The runner runs the row in closed loop at its concurrency with the campaign's engine (its stack file, batch cap and
token budget: `row_deployment`; the MoE set's precision and EP layout: `moe_deployment`), fixed lengths, 10
requests per client (bench_run's 50 on the rows it measured: `serving_prefix_reuse.requests_per_client`) and the
client's round trip. The CLI line gives the same layout, stack, caps and lengths; what
it cannot say is asserted absent for the rows chosen: early end-of-sequence stops (these gap-analysis rows force
the output length), prompts served from a prefix cache, a front end other than the stack's, a client connection
cap. Dense rows of each engine family the set runs (SGLang 0.5.1 at its defaults, TensorRT-LLM 1.0.0rc3 under
Dynamo, vLLM 0.12) and two models; MoE rows of Qwen3-235B-A22B on each engine: mean TTFT and TPOT to the bit.
(Rows of the other sources hold a fitted stop probability and their own front end: no CLI line asks their question,
e.g. DeepSeek-R1 on SGLang at 4 clients, TTFT 0.226 s in validation against 0.328 s from the CLI.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import read_entry, shape_from_hf_config
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import front_end_s, pool_memory
from infraplan.validation import campaign_settings, serving_hopper, serving_hopper_moe
from infraplan.validation.serving_prefix_reuse import cached_prompt_tokens, requests_per_client
from infraplan.validation.serving_row_rules import SYSTEMS, server_front_end_s

DENSE = [
    "qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_sglang_agg_1024x128_c16_tp2_epnone_1",
    "qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_trtllm_agg_1024x128_c8_tp1_epnone_1",
    "qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_vllm_agg_1024x128_c8_tp2_epnone_1",
    "meta_llama_llama_3_1_8b_instruct_meta_llama_llama_3_1_8b_instruct_h100_sxm_trtllm_agg_1024x128_c8_tp1_epnone_1",
]
MOE = [
    "qwen_qwen3_235b_a22b_fp8_qwen_qwen3_235b_a22b_fp8_h100_sxm_trtllm_agg_512x128_c4_tp4_epnone_1",
    "qwen_qwen3_235b_a22b_fp8_qwen_qwen3_235b_a22b_fp8_h200_sxm_sglang_agg_1000x100_c8_tp4_epnone_1",
    "qwen_qwen3_235b_a22b_fp8_qwen_qwen3_235b_a22b_fp8_h200_sxm_vllm_agg_1000x100_c16_tp2_epnone_1",
]


def _dense(row: dict[str, str]) -> tuple[Deployment, str, int, Callable[[], dict[str, float]]]:
    preset = serving_hopper.MODELS[row["model_path"]][0]
    return (serving_hopper.row_deployment(row), preset, int(row["batch_size"]),
            lambda: serving_hopper.run_row(row))


def _moe(row: dict[str, str]) -> tuple[Deployment, str, int, Callable[[], dict[str, float]]]:
    assert campaign_settings.client_connections(row) is None  # no cap on the clients' connections
    clients = serving_hopper_moe.concurrency(row)
    assert clients is not None
    return (serving_hopper_moe.moe_deployment(row), serving_hopper_moe.MODELS[row["model_path"]], clients,
            lambda: serving_hopper_moe.run_row(row))


CASES: list[tuple[str, Callable[[], list[dict[str, str]]], Callable[..., Any]]] = [
    *((row_id, serving_hopper.load_rows, _dense) for row_id in DENSE),
    *((row_id, serving_hopper_moe.load_rows, _moe) for row_id in MOE),
]


@pytest.mark.parametrize(("row_id", "rows", "layout"), CASES, ids=[c[0][:60] for c in CASES])
def test_serve_concurrency_is_the_validation_runners_answer(row_id: str, rows: Callable[[], list[dict[str, str]]],
                                                            layout: Callable[..., Any],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (row,) = [r for r in rows() if r["id"] == row_id]
    dep, preset, clients, predict = layout(row)
    # the runner's run length: 10 per client, bench_run's 50 on the rows it measured (`requests_per_client`)
    requests = requests_per_client(row, serving_hopper.REQUESTS_PER_CLIENT) * clients
    # what the CLI line cannot carry is absent from these rows
    assert serving_hopper.stop_per_token(row) == 0.0
    assert server_front_end_s(row, front_end_s(dep)) == front_end_s(dep)
    cluster = Cluster.resolve(SYSTEMS[row["system"]])
    shape = shape_from_hf_config(*read_entry("models", preset))
    pool = pool_memory(shape, cluster.accelerator, dep)[0].blocks * dep.block_tokens
    hits = cached_prompt_tokens(row, dep.engine, dep.block_tokens, pool, requests)
    assert hits is None or not hits.any()
    assert dep.speculative_tokens == 0
    gpus = dep.tp * dep.pp * dep.attention_dp
    served = cli_json(capsys, [
        "serve", preset, "--system", SYSTEMS[row["system"]], "--gpus", str(gpus), "--tp", str(dep.tp),
        "--pp", str(dep.pp), "--ep", str(dep.ep), "--attention-dp", str(dep.attention_dp), "--dtype", dep.dtype,
        "--kv-dtype", dep.kv_dtype, "--stack", dep.stack, "--concurrency", str(clients), "--requests", str(requests),
        "--input-len", row["isl"], "--output-len", row["osl"], "--max-batch", str(dep.max_batch),
        "--token-budget", str(dep.token_budget)])
    predicted = predict()
    assert served["ttft_s"]["mean"] == predicted["ttft_s"]
    assert served["tpot_s"]["mean"] == predicted["tpot_s"]
