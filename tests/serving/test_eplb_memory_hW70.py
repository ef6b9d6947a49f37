"""EPLB's redundant experts take memory, and an engine that cannot place them refuses (hW, session 70).

A serving stack's `ep_redundant_experts` R (SGLang `--enable-eplb --ep-num-redundant-experts R`) priced the busiest
rank's routed GEMMs on S = ceil((E + R) / EP) slots (`serving.expert_slots`) and the field's description says a rank
holds S experts' weights, but the memory plan (`serving.kv_cache.weight_bytes_per_gpu`) held ceil(E / EP): LMSYS's
32-rank DeepSeek-V3 prefill (examples/stacks/sglang-deepep-prefill.yaml, R = 32) was sized on 8 experts a GPU where
it holds 9 (39.40 GB of weights a GPU instead of 41.96), and a stack with R = 1,000 at EP 16 on 16 experts where it
would hold 79 (no memory error). SGLang 0.5.9 and vLLM 0.12.0 assert that EP divides E + R
(srt/eplb/expert_location.py:204; model_executor/layers/fused_moe/layer.py:469): `serve` now refuses such an R in one
line, and `serve-plan` does not try it (`deployment.build_refusal`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.loader import load_model
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.serving import expert_slots
from infraplan.serving.capacity_candidate import replica_kv
from infraplan.serving.deployment import Deployment, build_refusal
from infraplan.serving.kv_cache import kind_params, stored_weight_bytes, weight_bytes_per_gpu
from infraplan.serving.serving_sim import pool_memory

SERVE = ["serve", "deepseek-v3", "--system", "dgx-h100-superpod", "--gpus", "16", "--attention-dp", "16", "--ep",
         "16", "--dtype", "fp8", "--offline", "--input-len", "200", "--output-len", "20", "--requests", "64", "--json"]


def _stack(tmp_path: Path, base: str, redundant: int) -> str:
    path = tmp_path / f"{base}-r{redundant}.yaml"
    path.write_text(f"display_name: r{redundant}\nextends: {base}\nsource: test\nserving:\n"
                    f"  ep_redundant_experts: {redundant}\n")
    return str(path)


def test_redundant_experts_add_their_slots_to_the_weights() -> None:
    """DeepSeek-V3 fp8 at EP 32: 256 experts are 8 a GPU; with R = 32, 288 physical experts are 9 a GPU, so the
    weights grow by one expert of every routed layer (an eighth of the 8 slots' routed weights); R = 0 unchanged."""
    shape = load_model("deepseek-v3")
    base = weight_bytes_per_gpu(shape, 1, 1, "fp8", 32)
    assert weight_bytes_per_gpu(shape, 1, 1, "fp8", 32, 0) == base
    routed = kind_params(shape, 1, 1, 256 / 8)["routed_experts"] * stored_weight_bytes(shape, "fp8")
    assert weight_bytes_per_gpu(shape, 1, 1, "fp8", 32, 32) - base == pytest.approx(routed / 8, rel=1e-9)
    assert weight_bytes_per_gpu(shape, 1, 1, "fp8", 72, 32) == weight_bytes_per_gpu(shape, 1, 1, "fp8", 72)  # 4 = 4


def test_serve_and_serve_plan_size_the_same_eplb_memory(tmp_path: Path) -> None:
    """`serve` (`pool_memory`) and `serve-plan` (`replica_kv`) hold the redundant experts alike: 16 redundant
    experts at EP 16 are one slot more a GPU, the KV cache that much smaller."""
    shape, acc = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod").accelerator
    deps = [Deployment(tp=1, ep=16, attention_dp=16, dtype="fp8", kv_dtype="bf16", max_batch=256, token_budget=8192,
                       engine="sglang", stack=_stack(tmp_path, "sglang-0.x", r)) for r in (0, 16)]
    assert [expert_slots.redundant_experts(d.stack, d.ep) for d in deps] == [0, 16]
    (plain, _), (eplb, memory) = (pool_memory(shape, acc, d) for d in deps)
    one_slot = weight_bytes_per_gpu(shape, 1, 1, "fp8", 16, 16) - weight_bytes_per_gpu(shape, 1, 1, "fp8", 16)
    assert one_slot > 2e9  # one DeepSeek-V3 expert on each of its 58 routed layers, in fp8
    assert eplb.weights_bytes == pytest.approx(plain.weights_bytes + one_slot, rel=1e-12)
    assert eplb.kv_cache_bytes < plain.kv_cache_bytes and memory["weights_bytes_per_gpu"] == eplb.weights_bytes
    assert replica_kv(shape, acc, deps[1]).weights_bytes == eplb.weights_bytes


def test_serve_answer_carries_the_redundant_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    got = {}
    for r in (0, 16):
        capsys.readouterr()
        assert main([*SERVE, "--stack", _stack(tmp_path, "trtllm-0.x", r)]) == 0
        got[r] = json.loads(capsys.readouterr().out)["deployment"]
    assert got[16]["weights_bytes_per_gpu"] > got[0]["weights_bytes_per_gpu"] + 2e9
    assert got[16]["kv_cache_tokens_per_replica"] < got[0]["kv_cache_tokens_per_replica"]


@pytest.mark.parametrize(("base", "redundant", "refused"), [("vllm-0.x", 1000, True), ("sglang-0.x", 8, True),
                                                            ("sglang-0.x", 32, False), ("trtllm-0.x", 8, False)])
def test_an_engine_that_cannot_place_the_redundant_experts_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                   base: str, redundant: int, refused: bool) -> None:
    """vLLM / SGLang: 256 + R must be a multiple of EP 16 (R = 1,000 or 8: no; 32: yes); TensorRT-LLM's placement
    was not read, so it runs (priced on ceil((E + R) / EP) slots)."""
    stack = _stack(tmp_path, base, redundant)
    capsys.readouterr()
    assert main([*SERVE, "--stack", stack]) == (2 if refused else 0)
    err = capsys.readouterr().err.strip()
    if refused:
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert f"256 + {redundant} = {256 + redundant} physical experts" in err and "EP 16" in err
        assert "16 or 32 redundant experts fill whole slots" in err
    engine = base.split("-")[0]
    dep = Deployment(tp=1, ep=16, attention_dp=16, dtype="fp8", kv_dtype="bf16", max_batch=256, token_budget=8192,
                     engine=engine, stack=stack)
    assert (build_refusal(load_model("deepseek-v3"), dep) is not None) == refused  # serve-plan skips the layout


@pytest.mark.parametrize("base", ["sglang-0.x", "vllm-0.x"])
def test_ep_inside_the_tp_group_refuses_what_serve_plan_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                base: str) -> None:
    """hV70's review: `serve` at TP 8 / EP 8 (no attention DP) with 4 redundant experts priced a layout the engine
    asserts against (256 + 4 = 260, not a multiple of 8) and `serve-plan` skips (`build_refusal`): one line, exit 2."""
    stack = _stack(tmp_path, base, 4)
    capsys.readouterr()
    args = ["serve", "deepseek-v3", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--ep", "8",
            "--dtype", "fp8", "--offline", "--input-len", "200", "--output-len", "20", "--requests", "16", "--json",
            "--stack", stack]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "256 + 4 = 260 physical experts" in err and "EP 8" in err, err
    dep = Deployment(tp=8, ep=8, attention_dp=1, dtype="fp8", kv_dtype="bf16", max_batch=256, token_budget=8192,
                     engine=base.split("-")[0], stack=stack)
    assert build_refusal(load_model("deepseek-v3"), dep) is not None
