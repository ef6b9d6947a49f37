"""Metamorphic properties of `infraplan serve` (hX2, session 38): a whole simulated run responds to its inputs as the
physics does (hypothesis, derandomized, bounded).

Each property changes one input of the same deployment and load and states the direction the answer may move:
a longer prompt is more prefill work before the first token, a longer answer more decode steps before the last,
a faster part (a what-if file that `extends` the preset with more HBM bandwidth or FLOP/s, as examples/hardware/
does) shortens every iteration, more closed-loop clients put more work in front of each request, an fp8 KV cache
stores a token in half the bytes of bf16. None of them is a number copied from the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from infraplan.catalog import load_accelerator, load_model
from infraplan.cli.main import main as cli_main
from infraplan.cluster import Cluster
from infraplan.serving.deployment import Deployment
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.results import ImageServingResult, ServingResult
from infraplan.serving.serve_results import Percentiles
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.wide_ep_lockstep import with_others
from infraplan.web.requests import ServeRequest
from infraplan.web.runners import run

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
REL = 1e-9  # float noise of one more / one less addition in the simulator's clock
REQUESTS = 120  # enough iterations to batch, few enough for < 20 s a file

DEPLOYMENTS = [  # (model, system, GPUs, TP, dtype): one replica each, every one fits with a KV pool
    ("llama3-8b", "hgx-h200", 1, 1, "fp8"),
    ("llama3-8b", "dgx-h100-superpod", 2, 2, "bf16"),
    ("qwen3-32b", "hgx-h200", 2, 2, "fp8"),
    ("mixtral-8x7b", "hgx-h200", 4, 4, "bf16"),
    ("llama3-70b", "dgx-h100-superpod", 4, 4, "fp8"),
]
STACKS = ["trtllm-0.x", "vllm-0.x", "sglang-0.x"]


def _serve(dep: tuple[str, str, int, int, str], stack: str, system: str | None = None, **load: object) -> ServingResult:
    model, preset, gpus, tp, dtype = dep
    result = estimate_serving(model, system or preset, gpus, tp=tp, dtype=dtype, stack=stack, requests=REQUESTS,
                              **load)  # type: ignore[arg-type]
    assert isinstance(result, ServingResult) and result.fits
    return result


def _mean(p: Percentiles | None) -> float:
    assert p is not None and p.mean is not None
    return float(p.mean)


@st.composite
def loads(draw):
    """An open-loop rate or a closed loop of clients, the same for both runs of a property."""
    if draw(st.booleans()):
        return {"rate": draw(st.sampled_from([0.5, 2.0, 8.0]))}
    return {"concurrency": draw(st.sampled_from([1, 4, 16]))}


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(STACKS), loads(), st.sampled_from([128, 512, 2048]),
       st.sampled_from([1.5, 2.0, 3.5]))  # <= 7,168 + 64 tokens: inside every model's 8K context
@example(dep=DEPLOYMENTS[0], stack="sglang-0.x", load={"rate": 2.0}, input_len=128, factor=1.5)
@example(dep=DEPLOYMENTS[0], stack="sglang-0.x", load={"rate": 20.0}, input_len=128, factor=2.0)
def test_a_longer_prompt_never_lowers_ttft(dep, stack, load, input_len, factor) -> None:
    """More prompt tokens are more prefill FLOPs and KV writes before the first token, at the same arrivals.

    Up to one decode iteration: an arrival waits for the iteration in flight to end, and a longer prompt moves
    every iteration boundary (longer contexts), so the same arrival times land at other phases of the iterations.
    Where the two prefills cost about the same (a few hundred tokens read the weights once: memory-bound) that
    phase is all that differs: Llama 3 8B fp8 on one H200 under SGLang at 2 requests/s, 128 -> 192 prompt tokens,
    mean TTFT 197.86 -> 197.74 ms, TPOT 4 ms (the examples below)."""
    short = _serve(dep, stack, input_len=input_len, output_len=64, **load)
    long = _serve(dep, stack, input_len=int(input_len * factor), output_len=64, **load)
    iteration = _mean(short.tpot_s)  # one decode iteration of the short run, seconds
    assert _mean(long.ttft_s) >= _mean(short.ttft_s) - iteration
    assert long.ttft_s.p50 >= short.ttft_s.p50 - iteration  # type: ignore[union-attr,operator]
    if input_len >= 2048:  # compute-bound prefills: the extra tokens outweigh any phase
        assert _mean(long.ttft_s) > _mean(short.ttft_s)


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(STACKS), loads(), st.sampled_from([16, 64, 256]),
       st.sampled_from([2, 4]))
def test_more_output_tokens_never_lower_end_to_end_latency(dep, stack, load, output_len, factor) -> None:
    """Every extra output token is one more decode step of the request, at the same arrivals."""
    short = _serve(dep, stack, input_len=512, output_len=output_len, **load)
    long = _serve(dep, stack, input_len=512, output_len=output_len * factor, **load)
    assert _mean(long.e2e_s) >= _mean(short.e2e_s) * (1 - REL)
    assert long.e2e_s.p50 >= short.e2e_s.p50 * (1 - REL)  # type: ignore[union-attr,operator]


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(STACKS), st.sampled_from([1, 2, 4, 8]), st.sampled_from([2, 4]))
def test_more_closed_loop_clients_never_lower_mean_ttft(dep, stack, clients, factor) -> None:
    """More clients in a closed loop: more requests queued or batched in front of each prefill."""
    few = _serve(dep, stack, input_len=1024, output_len=128, concurrency=clients)
    many = _serve(dep, stack, input_len=1024, output_len=128, concurrency=clients * factor)
    assert _mean(many.ttft_s) >= _mean(few.ttft_s) * (1 - REL)


def _what_if(tmp_path: Path, preset: str, field: str, factor: float) -> str:
    """A what-if accelerator file (`extends`) with one figure scaled, as examples/hardware/h100-hbm-plus50.yaml."""
    acc = load_accelerator(preset)
    if field == "memory_bandwidth_bytes_per_s":
        body = f"memory_bandwidth_bytes_per_s: {acc.memory_bandwidth_bytes_per_s * factor!r}\n"
    else:
        peaks = {d: p * factor for d, p in acc.peak_flops_per_s.items()}
        body = "peak_flops_per_s:\n" + "".join(f"  {d}: {p!r}\n" for d, p in peaks.items())
    path = tmp_path / f"{preset}-{field}-{factor}.yaml"
    path.write_text(f"extends: {preset}\n{body}")
    return str(path)


ACCELERATOR_OF = {"hgx-h200": "h200", "dgx-h100-superpod": "h100-sxm"}


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(STACKS), loads(), st.sampled_from([1.25, 2.0]),
       st.sampled_from(["memory_bandwidth_bytes_per_s", "peak_flops_per_s"]))
def test_a_faster_part_never_raises_tpot_or_ttft(tmp_path_factory, dep, stack, load, factor, field) -> None:
    """A what-if of the same part with more HBM bandwidth or FLOP/s shortens (or keeps) every iteration: the same
    arrivals then meet no later first token and no slower decode. Both runs read the part from a file (an
    unchanged `extends` copy is the baseline), so a changed peak's dropped release tables cannot move the answer:
    the shipped stacks carry none (serving/release_tables.py)."""
    tmp = tmp_path_factory.mktemp("whatif")
    preset = ACCELERATOR_OF[dep[1]]
    base_file = tmp / f"{preset}-same.yaml"
    base_file.write_text(f"extends: {preset}\n")
    base = _serve(dep, stack, system=str(base_file), input_len=1024, output_len=128, **load)
    fast = _serve(dep, stack, system=_what_if(tmp, preset, field, factor), input_len=1024, output_len=128, **load)
    assert _mean(fast.tpot_s) <= _mean(base.tpot_s) * (1 + REL)
    assert _mean(fast.ttft_s) <= _mean(base.ttft_s) * (1 + REL)
    assert _mean(fast.e2e_s) <= _mean(base.e2e_s) * (1 + REL)


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(STACKS), st.sampled_from([0.5, 2.0, 8.0]), st.sampled_from([2, 4]))
def test_more_replicas_never_raise_mean_ttft_or_tpot(dep, stack, rate, factor) -> None:
    """The same arrivals over more replicas of the same layout: each replica is loaded less."""
    model, system, gpus, tp, dtype = dep
    few = _serve(dep, stack, rate=rate, input_len=1024, output_len=128)
    many = _serve((model, system, gpus * factor, tp, dtype), stack, rate=rate, input_len=1024, output_len=128)
    assert many.deployment.replicas == few.deployment.replicas * factor
    assert _mean(many.ttft_s) <= _mean(few.ttft_s) * (1 + REL)
    assert _mean(many.tpot_s) <= _mean(few.tpot_s) * (1 + REL)


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(STACKS), st.sampled_from([0.5, 2.0, 8.0]), st.sampled_from([2, 4]))
def test_a_higher_rate_never_lowers_mean_ttft(dep, stack, rate, factor) -> None:
    """The same seed's arrivals at a higher rate: the same requests closer together, more work in front of each."""
    slow = _serve(dep, stack, rate=rate, input_len=1024, output_len=128)
    fast = _serve(dep, stack, rate=rate * factor, input_len=1024, output_len=128)
    iteration = _mean(slow.tpot_s)  # an arrival's phase within the iteration in flight, as for a longer prompt
    assert _mean(fast.ttft_s) >= _mean(slow.ttft_s) - iteration
    # TPOT is not asserted: past capacity both runs queue with the batch at its cap, and the mix of prefill chunks
    # in the decode iterations differs (Qwen3 32B fp8 TP2 on H200, trtllm, 50 -> 100 requests/s: 28.10 -> 28.02 ms)


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(["trtllm-0.x", "vllm-0.x", "sglang-0.x"]))
def test_fp8_kv_never_holds_fewer_tokens_than_bf16(dep, stack) -> None:
    """A token's KV is half the bytes in fp8: the same memory left after the weights holds at least as many."""
    model, system, gpus, tp, dtype = dep
    pools = {}
    for kv in ("bf16", "fp8"):
        r = estimate_serving(model, system, gpus, tp=tp, dtype=dtype, kv_dtype=kv, stack=stack, offline=True,
                             input_len=512, output_len=16, requests=8)
        assert isinstance(r, ServingResult)
        pools[kv] = r.deployment.kv_cache_tokens_per_replica
    assert pools["fp8"] >= pools["bf16"]


@pytest.mark.parametrize(("model", "system", "gpus", "dtype"), [
    ("gpt-oss-120b", "hgx-h200", 1, "mxfp4"),  # sliding-window layers
    ("deepseek-v3", "hgx-h200", 8, "fp8"),  # MLA's compressed latent
    ("qwen3-30b-a3b", "hgx-h200", 1, "fp8"),  # MoE, GQA
])
@pytest.mark.parametrize("stack", STACKS)
def test_fp8_kv_holds_at_least_twice_the_bf16_tokens(model, system, gpus, dtype, stack) -> None:
    """Half the bytes per token in the same memory: twice the tokens (within one KV block of rounding), more where
    windowed layers hold a per-sequence window whose bytes halve too (GPT-OSS: 2.0-2.15x by engine)."""
    pools = {}
    for kv in ("bf16", "fp8"):
        r = estimate_serving(model, system, gpus, tp=gpus, dtype=dtype, kv_dtype=kv, stack=stack, offline=True,
                             input_len=512, output_len=16, requests=8)
        assert isinstance(r, ServingResult)
        pools[kv] = (r.deployment.kv_cache_tokens_per_replica, r.deployment.kv_cache_bytes_per_gpu,
                     r.deployment.block_tokens)
    (bf16_tokens, bf16_bytes, block), (fp8_tokens, fp8_bytes, _) = pools["bf16"], pools["fp8"]
    assert fp8_bytes == bf16_bytes  # the pool's bytes do not depend on what a token takes
    assert fp8_tokens >= 2 * bf16_tokens - 2 * block * gpus


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from(STACKS), st.integers(0, 2**31 - 1))
def test_the_same_seed_gives_the_same_result(dep, stack, seed) -> None:
    """Poisson arrivals and a workload preset's lengths are drawn from the seed alone: two runs are one."""
    first = _serve(dep, stack, workload="chat", rate=4.0, seed=seed)
    again = _serve(dep, stack, workload="chat", rate=4.0, seed=seed)
    assert first.model_dump() == again.model_dump()


@SETTINGS
@given(st.sampled_from([("llama3-8b", "hgx-h200", 2, 1, "fp8"), ("qwen3-32b", "hgx-h200", 4, 2, "fp8")]),
       st.sampled_from([256, 1024, 2048]), st.sampled_from([2, 3]))
def test_disaggregated_a_longer_prompt_never_lowers_ttft(dep, input_len, factor) -> None:
    """Prefill on its own pool: a longer prompt is a longer prefill and a larger KV hand-off before decode."""
    model, system, gpus, tp, dtype = dep
    runs = [estimate_serving(model, system, gpus * 2, tp=tp, dtype=dtype, prefill_gpus=gpus, rate=2.0,
                             input_len=n, output_len=64, requests=REQUESTS) for n in (input_len, input_len * factor)]
    short, long = runs
    assert isinstance(short, ServingResult) and isinstance(long, ServingResult)
    assert short.deployment.prefill_replicas and short.kv_transfer_s is not None
    assert _mean(long.ttft_s) >= _mean(short.ttft_s) * (1 - REL)
    assert _mean(long.kv_transfer_s) >= _mean(short.kv_transfer_s) * (1 - REL)


@SETTINGS
@given(st.sampled_from(DEPLOYMENTS), st.sampled_from([16, 128, 512]), st.sampled_from([2, 4]))
def test_offline_more_output_tokens_never_shorten_the_run(dep, output_len, factor) -> None:
    """Offline, everything at t = 0: more decode steps per request never end the batch sooner."""
    short = _serve(dep, "trtllm-0.x", offline=True, input_len=256, output_len=output_len)
    long = _serve(dep, "trtllm-0.x", offline=True, input_len=256, output_len=output_len * factor)
    assert long.duration_s >= short.duration_s * (1 - REL)  # type: ignore[operator]
    assert _mean(long.e2e_s) >= _mean(short.e2e_s) * (1 - REL)


def test_python_api_cli_json_and_web_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """One closed-loop case through the three doors: the same typed result, the same JSON."""
    api = estimate_serving("llama3-8b", "hgx-h200", 1, tp=1, dtype="fp8", concurrency=8, input_len=1000,
                           output_len=200, requests=200, stack="vllm-0.x")
    web = run(ServeRequest(model="llama3-8b", system="hgx-h200", gpus=1, tp="1", dtype="fp8", concurrency=8,
                           input_len=1000, output_len=200, requests=200, stack="vllm-0.x"))
    capsys.readouterr()
    assert cli_main(["serve", "llama3-8b", "--system", "hgx-h200", "--gpus", "1", "--tp", "1", "--dtype", "fp8",
                     "--concurrency", "8", "--input-len", "1000", "--output-len", "200", "--requests", "200",
                     "--stack", "vllm-0.x", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert json.loads(api.model_dump_json()) == json.loads(web.model_dump_json()) == cli


@SETTINGS
@given(st.sampled_from([("llama3-8b", "hgx-h200", 1, 1, "fp8"), ("qwen3-32b", "hgx-h200", 2, 2, "fp8")]),
       st.sampled_from(STACKS), st.integers(1, 3), st.sampled_from([0.0, 0.3, 0.6]), st.sampled_from([0.1, 0.3]),
       loads())
def test_a_higher_draft_acceptance_never_raises_tpot(dep, stack, drafts, acceptance, more, load) -> None:
    """K draft tokens cost the same per step whatever is accepted; a higher per-token acceptance R emits more tokens
    per step, (1 - R^(K+1)) / (1 - R) (README, Frontier serving): the same work per step over more tokens."""
    low = _serve(dep, stack, input_len=1024, output_len=256, speculative_tokens=drafts, acceptance=acceptance,
                 **load)
    high = _serve(dep, stack, input_len=1024, output_len=256, speculative_tokens=drafts,
                  acceptance=acceptance + more, **load)
    assert high.deployment.tokens_per_step > low.deployment.tokens_per_step
    assert _mean(high.tpot_s) <= _mean(low.tpot_s) * (1 + REL)
    assert _mean(high.e2e_s) <= _mean(low.e2e_s) * (1 + REL)


@SETTINGS
@given(st.sampled_from([("llama3-8b", "hgx-h200", 1), ("qwen3-32b", "hgx-h200", 2)]), st.sampled_from([1, 2]),
       st.sampled_from([1, 2]), st.sampled_from([2.0, 6.0, 12.0]))
def test_more_prefill_workers_never_raise_mean_ttft(dep, prefill_workers, extra, rate) -> None:
    """Disaggregated, the decode pool kept: more prefill workers share the same arrivals (Dynamo hands them out
    round-robin), so no prefill queue grows; the KV hand-off and the decode pool are the same.

    Restricted to pairs inside one 8-GPU NVLink node: a pair that spills over it sends its KV over the NIC (Qwen3
    32B TP2, 2 -> 3 prefill workers beside 4 decode GPUs is 8 -> 10 GPUs: KV hand-off 0.54 -> 4.19 ms, mean TTFT
    221.0 -> 223.6 ms at 2 requests/s): a tier boundary, not more load."""
    model, system, tp = dep
    decode_gpus = 2 * tp
    assume(decode_gpus + (prefill_workers + extra) * tp <= 8)
    runs = []
    for workers in (prefill_workers, prefill_workers + extra):
        result = estimate_serving(model, system, decode_gpus + workers * tp, tp=tp, dtype="fp8",
                                  prefill_gpus=workers * tp, prefill=PrefillLayout(tp, 1, 1, 1, None), rate=rate,
                                  input_len=3000, output_len=64, requests=REQUESTS)
        assert isinstance(result, ServingResult) and result.deployment.prefill_replicas == workers
        runs.append(result)
    few, many = runs
    assert _mean(many.ttft_s) <= _mean(few.ttft_s) * (1 + REL)


@SETTINGS
@given(st.sampled_from(["dgx-h100-superpod", "hgx-h200", "dgx-b200"]), st.sampled_from([1, 2, 4]),
       st.sampled_from([0.5, 2.0, 8.0]), st.sampled_from([2.0, 4.0]))
def test_image_generation_more_load_never_lowers_latency_and_more_gpus_never_raise_it(system, gpus, rate,
                                                                                     factor) -> None:
    def serve(n: int, r: float) -> ImageServingResult:
        result = estimate_serving("sd-v1.5-512", system, n, workload="image-generation", rate=r, requests=REQUESTS)
        assert isinstance(result, ImageServingResult)
        return result

    base, busier, wider = serve(gpus, rate), serve(gpus, rate * factor), serve(gpus * 2, rate)
    assert _mean(busier.latency_s) >= _mean(base.latency_s) * (1 - REL)
    assert _mean(wider.latency_s) <= _mean(base.latency_s) * (1 + REL)


WIDE_EP = [("qwen3-30b-a3b", "hgx-h200", 4, 1, "fp8")]  # 4 attention-DP ranks, experts over all 4 GPUs


@SETTINGS
@given(st.sampled_from(WIDE_EP), st.sampled_from(["sglang-0.x", "vllm-0.x", "trtllm-0.x"]),
       st.sampled_from([{"rate": 4.0}, {"rate": 12.0}, {"concurrency": 16}]), st.sampled_from([1.5, 4.0]),
       st.sampled_from(["memory_bandwidth_bytes_per_s", "peak_flops_per_s"]))
def test_a_faster_part_never_slows_lock_step_ranks(tmp_path_factory, dep, stack, load, factor, field) -> None:
    """Wide EP (SGLang's and vLLM's ranks step together, `serving.lockstep_loop`): every rank's iteration is no
    longer on the faster part, so neither is the slowest rank's. TTFT up to one decode iteration (an arrival's
    phase in the iteration in flight, as for a longer prompt). Failed before hX2's fix of the shared experts under
    the host floor: vLLM, 4x FLOP/s, TPOT 6.09 -> 6.14 ms, TTFT 37.1 -> 40.8 ms at 4 requests/s."""
    model, preset, gpus, tp, dtype = dep
    tmp = tmp_path_factory.mktemp("whatif")
    base_file = tmp / "h200-same.yaml"
    base_file.write_text("extends: h200\n")
    runs = [estimate_serving(model, system, gpus, tp=tp, attention_dp=gpus, dtype=dtype, stack=stack, input_len=1024,
                             output_len=128, requests=REQUESTS * 2, **load)  # type: ignore[arg-type]
            for system in (str(base_file), _what_if(tmp, "h200", field, factor))]
    base, fast = runs
    assert isinstance(base, ServingResult) and isinstance(fast, ServingResult)
    assert _mean(fast.tpot_s) <= _mean(base.tpot_s) * (1 + REL)
    assert _mean(fast.ttft_s) <= _mean(base.ttft_s) + _mean(fast.tpot_s)


def test_a_lock_step_iteration_never_ends_before_its_own_launches() -> None:
    """A lone eager prefill (1,024 tokens, above vLLM's 512-token graph cap) on one of 4 lock-step ranks lasts at
    least its kernel launches (`serving.host_overhead`): the shared experts (`lockstep_loop.SHARED_EXPERTS`, the
    routed GEMMs at the ranks' mean tokens) shorten its GPU time, not its host's. Before hX2's fix: 22.1 ms against
    26.3 ms of launches."""
    cluster = Cluster.resolve("hgx-h200")
    dep = Deployment(tp=1, ep=4, attention_dp=4, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192,
                     engine="vllm", stack="vllm-0.x")
    cost = with_others(build_iteration_cost(load_model("qwen3-30b-a3b"), cluster.accelerator, cluster.fabric, dep),
                       0.0)
    assert cost.eager_prefill_above_tokens < 1024 and cost.extra.get("routed_s") is not None
    one = np.zeros(1)
    run = lockstep_replica(cost, one, np.array([1024]), np.zeros(1, dtype=np.int64), np.array([0]), np.array([0]),
                           4, 256, 8192, 10**6, dep.block_tokens, "fcfs", "on_demand")
    assert run.first_token_s[0] >= cost.host_issue_s


@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([("llama3-8b", 1), ("qwen3-32b", 2)]), st.sampled_from(STACKS),
       st.sampled_from([1, 4, 16, 32]), st.sampled_from([2, 4]))
def test_disaggregated_more_closed_loop_clients_never_lower_mean_ttft_or_tpot(dep, stack, clients, factor) -> None:
    """The pair's fixed point (`serving.pair_loop`): more clients queue more prompts at the prefill workers and
    batch more sequences on the decode worker."""
    model, tp = dep

    def serve(n: int) -> ServingResult:
        result = estimate_serving(model, "hgx-h200", 4 * tp, tp=tp, dtype="fp8", prefill_gpus=2 * tp,
                                  prefill=PrefillLayout(tp, 1, 1, 1, None), concurrency=n, input_len=2000,
                                  output_len=200, requests=REQUESTS, stack=stack)
        assert isinstance(result, ServingResult)
        return result

    few, many = serve(clients), serve(clients * factor)
    assert _mean(many.ttft_s) >= _mean(few.ttft_s) * (1 - REL)
    assert _mean(many.tpot_s) >= _mean(few.tpot_s) * (1 - REL)
