"""Host issue time of eager serving iterations (`serving.host_overhead`): a stack without CUDA graphs, or a batch
above its capture cap, waits for the host's kernel launches; graphed iterations do not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving import llm_iteration
from infraplan.serving.host_overhead import ATTENTION_KERNELS, HEAD_KERNELS, graph_batch_cap, host_issue_s
from infraplan.serving.llm_iteration import (
    ELEMENTWISE_KERNELS_PER_LAYER,
    Deployment,
    build_iteration_cost,
    decode_time,
    prefill_time,
)
from infraplan.serving.routed_experts import MOE_ROUTING_KERNELS
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_engine import simulate_engine

H200 = Cluster.resolve("hgx-h200")
LLAMA8B = load_model("llama3-8b")


def _stack(tmp_path, graphs: bool, cap: int = 512) -> str:
    """A vLLM-like serving stack YAML with or without CUDA graphs (`--enforce-eager`)."""
    path = tmp_path / f"vllm-graphs-{graphs}-{cap}.yaml"
    path.write_text(f"display_name: t\nkind: serving\nstack_class: vllm\nsource: test\n"
                    f"cuda_graphs: {str(graphs).lower()}\ncustom_all_reduce: true\nserving:\n  engine: vllm\n"
                    "  kv_convention: of_total\n"
                    f"  kv_memory_fraction: 0.9\n  offline_max_batch: 1024\n  cuda_graph_max_batch: {cap}\n")
    return str(path)


def _cost(stack: str, tp: int = 1):
    return build_iteration_cost(LLAMA8B, H200.accelerator, H200.fabric, Deployment(tp=tp, stack=stack, max_batch=512))


def test_an_eager_forward_launches_the_op_tables_kernels_at_the_nodes_dispatch_time():
    per_layer = 4 + ATTENTION_KERNELS + ELEMENTWISE_KERNELS_PER_LAYER  # QKV, out, gate/up, down; no TP collective
    kernels = LLAMA8B.num_layers * per_layer + HEAD_KERNELS
    assert kernels == 388
    dispatch_s = H200.fabric.host_kernel_dispatch_s
    assert host_issue_s(LLAMA8B, Deployment(tp=1), LLAMA8B.num_layers, MOE_ROUTING_KERNELS, dispatch_s) == (
        pytest.approx(kernels * dispatch_s))
    # TP8 adds the two all-reduces of every layer
    assert host_issue_s(LLAMA8B, Deployment(tp=8), LLAMA8B.num_layers, MOE_ROUTING_KERNELS, dispatch_s) == (
        pytest.approx((kernels + 2 * LLAMA8B.num_layers) * dispatch_s))


def test_eager_decode_waits_for_the_host_and_graphed_decode_does_not(tmp_path):
    graphed, eager = _cost(_stack(tmp_path, True)), _cost(_stack(tmp_path, False))
    host_s = LLAMA8B.num_layers * 12 * H200.fabric.host_kernel_dispatch_s + 4 * H200.fabric.host_kernel_dispatch_s
    gpu_s = graphed.body_s[1] + graphed.head_s[1] + graphed.decode_fixed_s
    assert gpu_s < 0.55 * host_s  # small-batch decode of an 8B model: the host is the bottleneck when eager
    # one sequence: max(GPU, host) + the cached-token reads + the per-iteration overhead
    assert float(decode_time(eager, 1, 1000)) == pytest.approx(float(decode_time(graphed, 1, 1000)) + host_s - gpu_s)
    # a batch whose GPU time exceeds the launches is GPU-bound either way
    rows = len(graphed.head_s)
    big = int(np.argmax(graphed.body_s[:rows] + graphed.head_s + graphed.decode_fixed_s > 1.2 * host_s))
    assert 0 < big < 512
    assert float(decode_time(eager, big, 1000)) == pytest.approx(float(decode_time(graphed, big, 1000)))


def test_batches_above_the_capture_cap_run_eager(tmp_path):
    capped, graphed = _cost(_stack(tmp_path, True, cap=8)), _cost(_stack(tmp_path, True, cap=1024))
    assert float(decode_time(capped, 8, 1000)) == pytest.approx(float(decode_time(graphed, 8, 1000)))
    assert float(decode_time(capped, 9, 1000)) > float(decode_time(graphed, 9, 1000)) + 3e-3


def test_the_shipped_caps_follow_the_engines_defaults():
    assert graph_batch_cap(load_stack("vllm-0.x"), 1) == 512  # min(2 x max_num_seqs 1024, 512)
    assert [graph_batch_cap(load_stack("sglang-0.x"), tp) for tp in (1, 2, 4, 8)] == [256, 256, 512, 512]
    assert graph_batch_cap(load_stack("trtllm-0.x"), 8) == 2048  # trtllm-bench captures up to its max batch
    eager = load_stack("sglang-0.x").model_copy(update={"cuda_graphs": False})
    assert graph_batch_cap(eager, 8) == 0


def test_a_negative_cap_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        load_stack(_stack(tmp_path, True, cap=-1))


def test_serve_reports_a_slower_tpot_with_an_eager_stack(tmp_path, capsys, monkeypatch):
    def tpot(stack: str) -> float:
        code = main(["serve", "llama3-8b", "--system", "hgx-h200", "--gpus", "1", "--tp", "1", "--concurrency", "1",
                     "--requests", "4", "--input-len", "128", "--output-len", "64", "--stack", stack, "--json"])
        assert code == 0
        return float(json.loads(capsys.readouterr().out)["tpot_s"]["mean"])

    graphed, eager = tpot(_stack(tmp_path, True)), tpot(_stack(tmp_path, False))
    host_s = 388 * H200.fabric.host_kernel_dispatch_s
    assert eager > graphed + 0.45 * host_s  # the launches of one forward, less the GPU time they hide
    assert eager > host_s
    monkeypatch.setattr(llm_iteration, "HOST_ISSUE", False)  # the toggle: without the host term they agree
    assert tpot(_stack(tmp_path, False)) == pytest.approx(graphed)


GB200 = Cluster.resolve("gb200-nvl72")
GPT_OSS_20B = load_model("gpt-oss-20b")


def _gpt_oss_cost(max_batch: int = 256):
    dep = Deployment(tp=1, dtype="nvfp4", stack="vllm-0.x", max_batch=max_batch, token_budget=8192)
    return build_iteration_cost(GPT_OSS_20B, GB200.accelerator, GB200.fabric, dep)


def test_an_eager_prefill_iteration_lasts_at_least_the_host_issue_time():
    """A prefill samples one row: its floor subtracts the LM head of one row, not of its tokens (GPT-OSS-20B,
    nvfp4, vLLM on GB200: 768-2048-token prompts are above vLLM's capture cap of 512 and host-bound)."""
    cost = _gpt_oss_cost()
    assert cost.eager_above_tokens == 512 and cost.host_issue_s > 5e-3
    times = [float(prefill_time(cost, 1, p)) for p in (768, 1024, 2048)]
    assert min(times) >= cost.host_issue_s + cost.overhead_s
    assert times == sorted(times)
    # the engine loops price the same iteration: one request alone, its first token after its prefill
    for scheduler in ("fcfs", "prefill-first"):  # `fcfs_loop` and the general `engine_loop`
        run = simulate_engine(cost, np.zeros(1), np.array([768]), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=int),
                              256, 8192, 100_000, 16, scheduler=scheduler)
        assert run.first_token_s[0] == pytest.approx(times[0], rel=1e-12)


def test_an_eager_decode_batch_is_the_larger_of_its_gpu_time_and_the_launches():
    """A pure-decode step of k sequences samples k rows: max(body[k] + head[k] + fixed, host) exactly."""
    cost = _gpt_oss_cost(max_batch=1024)
    for k in (600, 1024):
        gpu_s = cost.body_s[k] + cost.head_s[k] + cost.decode_fixed_s
        want = max(gpu_s, cost.host_issue_s) + cost.kv_token_s * k * 100 + cost.overhead_s
        assert float(decode_time(cost, k, 100)) == pytest.approx(want, rel=1e-12)
    assert float(decode_time(cost, 512, 100)) < cost.host_issue_s  # graphed: no floor


def test_ttft_at_concurrency_one_does_not_fall_with_the_prompt():
    def ttft(isl: int) -> float:
        r = estimate_serving(model="gpt-oss-20b", system="gb200-nvl72", gpus=1, tp=1, dtype="nvfp4", concurrency=1,
                             input_len=isl, output_len=32, requests=4, stack="vllm-0.x")
        return float(r.ttft_s.p50)

    ttfts = [ttft(isl) for isl in (768, 1024, 2048)]
    assert ttfts == sorted(ttfts)


@pytest.mark.parametrize("engine", ["sglang", "trtllm", "vllm"])
def test_prefill_iterations_of_decode_only_graph_engines_run_eager(tmp_path, monkeypatch, engine):
    """SGLang replays graphs for decode batches only (its `cuda_graph_scope: decode-only`, which a user's YAML
    without the field takes from the shipped sglang-0.x; `serving.engines`): a 64-token prompt
    prefilled alone on Llama-3-8B (under the cap of 512) lasts at least the host's launches there, while vLLM's
    piecewise graphs and the trtllm profiles (left out: docstring) keep it graphed; decode steps stay graphed."""
    path = tmp_path / f"{engine}.yaml"
    with open(_stack(tmp_path, True)) as f:
        vllm_like = f.read()
    path.write_text(vllm_like.replace("stack_class: vllm", f"stack_class: {engine}")
                    .replace("engine: vllm", f"engine: {engine}"))
    cost = _cost(str(path))
    assert cost.eager_above_tokens == 512 and cost.host_issue_s > 5e-3
    prefill = float(prefill_time(cost, 1, 64))
    decode = float(decode_time(cost, 8, 1024))
    assert decode < cost.host_issue_s  # graphed decode
    if engine != "sglang":
        assert cost.eager_prefill_above_tokens == 512 and prefill < cost.host_issue_s
    else:
        assert cost.eager_prefill_above_tokens == 0 and prefill >= cost.host_issue_s
    monkeypatch.setattr("infraplan.serving.host_overhead.PREFILL_EAGER", False)  # the toggle
    assert _cost(str(path)).eager_prefill_above_tokens == 512


@pytest.mark.parametrize(("engine", "scope", "prefill_cap"), [("vllm", "decode-only", 0), ("sglang", "all", 512)])
def test_a_stack_yaml_states_which_iterations_its_cuda_graphs_replay(tmp_path, engine, scope, prefill_cap):
    """`cuda_graph_scope` in a user's stack YAML overrides its engine family's: a vLLM run with decode-only graphs
    (vLLM's FULL_DECODE_ONLY mode) prefills eager, an SGLang run with piecewise prefill graphs does not."""
    with open(_stack(tmp_path, True)) as f:
        vllm_like = f.read()
    path = tmp_path / f"{engine}-{scope}.yaml"
    path.write_text(vllm_like.replace("stack_class: vllm", f"stack_class: {engine}")
                    .replace("engine: vllm", f"engine: {engine}") + f"  cuda_graph_scope: {scope}\n")
    cost = _cost(str(path))
    assert cost.eager_above_tokens == 512 and cost.eager_prefill_above_tokens == prefill_cap
    assert (float(prefill_time(cost, 1, 64)) >= cost.host_issue_s) == (prefill_cap == 0)


def test_a_pure_decode_step_lasts_at_least_its_sequences_host_work(tmp_path, monkeypatch):
    """`host_per_sequence_s` (the Dynamo worker's per-output loop), with the floor switched on (it is built off):
    a pure decode step of n sequences lasts at least n x it, in the loops' tables as in `IterationCost.time`;
    iterations with prompt tokens keep their floor."""
    from infraplan.serving import host_overhead
    from infraplan.serving.loop_stepping import cost_tables

    monkeypatch.setattr(host_overhead, "HOST_PER_SEQUENCE", True)

    plain = _stack(tmp_path, True)
    host = tmp_path / "vllm-host.yaml"
    host.write_text(Path(plain).read_text() + "  host_per_sequence_s: 100.0e-6\n")
    base, floored = _cost(plain), _cost(str(host))
    assert base.host_per_sequence_s == 0.0 and floored.host_per_sequence_s == pytest.approx(100e-6)
    seqs = np.array([1, 8, 256])
    before, after = base.time(0, seqs, 0, 0), floored.time(0, seqs, 0, 0)
    assert after[0] == before[0] and after[1] == before[1]  # the GPU step outlasts 1 or 8 sequences' host work
    assert before[2] < 256 * 100e-6 and after[2] == pytest.approx(256 * 100e-6 + base.overhead_s)
    assert floored.time(1024, 256, 0, 0) == base.time(1024, 256, 0, 0)  # a mixed iteration: unchanged
    decode = cost_tables(floored, 512)[3]  # per batch size: a pure decode step less its cached-token reads
    assert decode[256] == pytest.approx(after[2]) and decode[1] == cost_tables(base, 512)[3][1]
