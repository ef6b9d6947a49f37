"""hW (session 52): a sliding-window model's windows were held back for every sequence the batch cap allows.

Gemma 2 9B (21 of 42 layers keep 4,096 tokens) on one H100, 16 clients of 7,000 + 500 tokens: refused at the
default cap of 2,048 (the windows of 2,048 sequences took the 52.4 GiB left for the cache), 608 tokens/s at
--max-batch 16 and 458 at 64, though 16 clients never run more than 16 sequences. The engines allocate a sliding
layer's blocks per running request (`serving.kv_pool_window`, "How many windows are held"): the windows are now
held for the sequences that can run (the clients in closed loop; the sequences the pool holds in open loop).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json
from tests.cli.test_user_files_hU52 import GEMMA2_9B

from infraplan.catalog import load_accelerator, load_model
from infraplan.serving import kv_pool_window
from infraplan.serving.kv_cache import kv_capacity

SERVE = ["--system", "h100-sxm", "--gpus", "1", "--input-len", "7000", "--output-len", "500", "--concurrency", "16"]


@pytest.fixture
def gemma2(tmp_path: Path) -> str:
    config = tmp_path / "gemma2.json"
    config.write_text(json.dumps(GEMMA2_9B))
    return str(config)


@pytest.mark.parametrize("stack", ["trtllm-0.x", "vllm-0.x"])
def test_sixteen_clients_serve_alike_under_every_batch_cap_of_at_least_sixteen(
        capsys: pytest.CaptureFixture[str], gemma2: str, stack: str) -> None:
    """Before: trtllm refused at the default cap, 608.3 tokens/s at 16 and 457.7 at 64 (pools of 261,648 and
    65,040 tokens); now the default cap fits and all three give the same run."""
    runs = [cli_json(capsys, ["serve", gemma2, *SERVE, "--stack", stack, *cap])
            for cap in ([], ["--max-batch", "16"], ["--max-batch", "64"])]
    assert all(r["fits"] for r in runs), [r.get("why") for r in runs]
    assert len({r["output_tokens_per_s"] for r in runs}) == 1
    if stack == "trtllm-0.x":  # (vLLM's workspace holds the cap's fp32 logits: its pool shrinks with the cap)
        assert len({r["deployment"]["kv_cache_tokens_per_replica"] for r in runs}) == 1
    assert runs[0]["deployment"]["kv_cache_tokens_per_replica"] >= 16 * 7500  # the 16 clients' sequences fit


def test_disaggregated_pools_hold_the_windows_of_the_sequences_that_run(
        capsys: pytest.CaptureFixture[str], gemma2: str) -> None:
    """One prefill GPU and one decode GPU, 16 clients: before, 817.1 tokens/s at --max-batch 16, 571.6 at 64 and
    the default cap refused ("prefill pool: ... windows ... held for 2,048 sequences"); now 817.1 at all three."""
    runs = [cli_json(capsys, ["serve", gemma2, *SERVE[:2], "--gpus", "2", "--prefill-gpus", "1", *SERVE[4:], *cap])
            for cap in ([], ["--max-batch", "16"], ["--max-batch", "64"])]
    assert all(r["fits"] for r in runs), [r.get("why") for r in runs]
    assert len({r["output_tokens_per_s"] for r in runs}) == 1


def test_windows_held_for_the_cap_the_clients_or_what_the_pool_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """`window_sequences`: min(cap, running, sequences of the shortest length the free bytes hold); the cap alone
    without a window or with the toggle off."""
    gemma = load_model("llama3-8b").model_copy(update={"sliding_window": 4096, "num_sliding_layers": 16})
    per_token = 131_072.0  # bytes a token on every layer
    sequence = per_token * (0.5 * 7500 + 0.5 * 4096)  # full layers: its length; sliding: the window
    free = 10.5 * sequence
    assert kv_pool_window.window_sequences(gemma, free, per_token, 2048) == 2048
    assert kv_pool_window.window_sequences(gemma, free, per_token, 2048, running=4) == 4
    assert kv_pool_window.window_sequences(gemma, free, per_token, 2048, running=64, shortest_tokens=7500) == 10
    assert kv_pool_window.window_sequences(gemma, free, per_token, 8, running=64, shortest_tokens=7500) == 8
    assert kv_pool_window.window_sequences(gemma, 1.0, per_token, 8, shortest_tokens=7500) == 1  # one at least
    dense = load_model("llama3-8b")
    assert kv_pool_window.window_sequences(dense, free, per_token, 2048, running=4) == 2048
    monkeypatch.setattr(kv_pool_window, "RUNNING_WINDOWS", False)
    assert kv_pool_window.window_sequences(gemma, free, per_token, 2048, running=4, shortest_tokens=7500) == 2048


def test_open_loop_pool_holds_the_sequences_whose_windows_it_keeps(gemma2: str) -> None:
    """Open loop, cap 256, trtllm: the windows of the sequences of 7,500 tokens the memory holds (28), not of 256
    (which left no room: 0 blocks); the full layers' pool then holds those sequences."""
    shape, h100 = load_model(gemma2), load_accelerator("h100-sxm")
    args = (shape, h100, 1, 1, "bf16", "bf16", 8192, 256)
    capped = kv_capacity(*args, engine="trtllm-0.x")
    bounded = kv_capacity(*args, engine="trtllm-0.x", running=1500, shortest_tokens=7500)
    assert capped.blocks == 0 and capped.window_sequences == 256
    assert 20 <= bounded.window_sequences <= 32
    assert bounded.tokens >= bounded.window_sequences * 7500


def test_serve_plan_no_longer_rejects_the_one_gpu_layout_at_cap_256(gemma2: str) -> None:
    """serve-plan at 2 requests/s: "bf16 TP1 PP1 batch 256: ... windows ... held for 256 sequences" was rejected
    (and TP2 at 256 too); its probes are open loop: the pool's own sequences hold windows."""
    from infraplan.serving.capacity import search_capacity

    plan = search_capacity(gemma2, "h100-sxm", 2.0, input_len=7000, output_len=500, ttft_slo=5.0, tpot_slo=0.1,
                           dtypes=("bf16",), max_gpus=8, requests=300)
    assert not [r for r in plan.rejected if "sliding-window" in r]
    assert plan.feasible and plan.gpus <= 2
