"""hG72: with DP attention SGLang divides its chunked-prefill size by the attention-DP ranks.

SGLang's `_handle_data_parallelism` runs after the memory tier is set and, under --enable-dp-attention, sets
`chunked_prefill_size = chunked_prefill_size // dp_size` (0.5.1.post1 srt/server_args.py:538, 0.5.6.post2 :1571,
0.5.9 :2117; 0.5.23 srt/arg_groups/parallel_hook.py:331): each attention-DP rank's scheduler chunks at the quotient.
The sglang-0.x profile states it (`token_budget_split_by_attention_dp`), `ServingEngine.budget_on` applies it, and
`serve` (both pools), `serve-plan` and the validation deployments take one rank's default. Until hG72 every rank ran
the whole chunk (B200, attention DP 8: 16384 a rank instead of 2048).
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.cluster import Cluster
from infraplan.serving.engines import changed_engine_settings, load_engine
from infraplan.validation import campaign_settings, serving_hopper_disagg
from infraplan.validation.release_stacks import data_stack

GIB = 2.0**30
B200 = Cluster.resolve("dgx-b200").accelerator.memory_bytes
SERVE = ["serve", "deepseek-v3", "--system", "dgx-b200", "--stack", "sglang-0.x", "--dtype", "fp8", "--rate", "2",
         "--requests", "24", "--input-len", "1000", "--output-len", "20"]


def test_the_chunk_is_split_over_the_attention_dp_ranks():
    sglang = load_engine("sglang-0.x")
    assert sglang.budget_split_by_attention_dp
    assert [sglang.budget_on(B200, d) for d in (1, 2, 4, 8, 32)] == [16384, 8192, 4096, 2048, 512]
    assert sglang.budget_on(141 * GIB, 8) == 1024  # H200's 8192 tier
    assert sglang.budget_on(0.0, 3) == 8192 // 3  # memory unknown: token_budget, split (floor, as `//`)
    assert sglang.budget_on(B200, 1 << 20) == 1  # never 0
    # the validation's SGLang profiles inherit it from the family's shipped profile
    for stack in ("sglang-0.5.1.yaml", "sglang-0.x-mixed-chunk.yaml"):
        assert load_engine(str(data_stack(stack))).budget_on(B200, 4) == 4096, stack
    for other in ("vllm-0.x", "trtllm-0.x"):  # vLLM's and TensorRT-LLM's DP ranks each run the whole budget
        engine = load_engine(other)
        assert engine.budget_on(B200, 8) == engine.budget_on(B200) == engine.token_budget


def test_serve_runs_one_rank_s_chunk_and_a_given_budget_is_one_rank_s(capsys):
    assert cli_json(capsys, [*SERVE, "--gpus", "8", "--attention-dp", "8"])["deployment"]["token_budget"] == 2048
    given = cli_json(capsys, [*SERVE, "--gpus", "8", "--attention-dp", "8", "--token-budget", "16384"])
    assert given["deployment"]["token_budget"] == 16384
    sglang = load_engine("sglang-0.x")
    assert changed_engine_settings(sglang, 256, 256, 16384, memory_bytes=B200, attention_dp=8) == [
        "--token-budget 16384 (default 2048)"]
    assert changed_engine_settings(sglang, 256, 256, 2048, memory_bytes=B200, attention_dp=8) == []
    # hS76: a closed loop's batch cap (4096) is no floor: SGLang's chunk caps a prefill batch alone (`chunk_budget`)
    assert sglang.budget_of(None, B200, 8, 4096) == 2048 and sglang.budget_of(1000, B200, 8, 4096) == 1000


def test_each_pool_of_serve_takes_its_own_ranks_chunk(capsys):
    dep = cli_json(capsys, [*SERVE, "--gpus", "16", "--prefill-gpus", "8", "--prefill-tp", "1",
                            "--prefill-attention-dp", "8", "--tp", "8"])["deployment"]
    assert (dep["prefill"]["token_budget"], dep["decode"]["token_budget"]) == (2048, 16384)


def test_validation_pools_take_one_rank_s_chunk():
    h200_adp8 = {"system": "h200_sxm", "attention_dp_size": "8"}
    assert campaign_settings.sglang_chunked_prefill(h200_adp8, 1) == 1024
    assert campaign_settings.sglang_chunked_prefill({"system": "h200_sxm", "attention_dp_size": ""}, 1) == 8192
    # the Hopper disaggregated set's SGLang rows with an attention-DP 8 decode pool (DeepSeek-V3, 0.5.8.post1)
    rows = [r for r in serving_hopper_disagg.load_rows() if r["backend"] == "sglang"
            and r["decode_attention_dp_size"] == "8" and serving_hopper_disagg.why_not(r) is None]
    assert len(rows) == 3
    for row in rows:
        pair = serving_hopper_disagg.pair_deployment(row)
        assert pair.decode.attention_dp == 8 and pair.prefill.attention_dp == 1
        assert pair.decode.token_budget == max(1024, pair.decode.max_batch)
        assert pair.prefill.token_budget == max(8192, pair.prefill.max_batch)


@pytest.mark.parametrize(("memory_gib", "split"), [(80, 2048), (141, 2048), (180, 4096)])
def test_changed_settings_compare_against_the_split_default(memory_gib, split):
    sglang = load_engine("sglang-0.x")
    default = sglang.budget_on(memory_gib * GIB, 4)
    assert default == split  # the tier (8192 below 160 GiB, 16384 above) // 4
    assert changed_engine_settings(sglang, 256, 256, default, memory_bytes=memory_gib * GIB, attention_dp=4) == []
    assert changed_engine_settings(sglang, 256, 256, default * 4, memory_bytes=memory_gib * GIB, attention_dp=4)
