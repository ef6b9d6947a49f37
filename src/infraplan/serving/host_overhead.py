"""Host issue time of a serving iteration: eager steps wait for the CPU, CUDA-graph replays do not.

A serving engine's forward is issued by a host process. Replayed from a captured CUDA graph the whole forward is
one `cudaGraphLaunch` (a few us), which the fixed per-iteration host cost (`llm_iteration.ITERATION_OVERHEAD_S`:
scheduling, input preparation, sampling, graph launch) already holds. Run eagerly, the host launches every kernel
itself: kernels x the node's eager dispatch time (`Node.host_kernel_dispatch_s`, 26 us measured for eager PyTorch
on an H100 host; the figure `training.host_time` uses). The launches are asynchronous, so the GPU runs behind the
host and the iteration lasts max(GPU time, host issue time), the floor `floor_gpu_s` applies; the sampled token
is copied back to the host at the end of every iteration, so nothing banks across iterations.

Kernels per forward (`forward_kernels`): the op table of one layer at the inference phase (`ops.layer_ops`: the
GEMMs, one grouped GEMM per expert group, the element-wise kernels, the TP / EP collectives) plus
`ATTENTION_KERNELS` (the KV-cache write and the attention kernel: vLLM `reshape_and_cache_flash` + FlashAttention,
SGLang `set_kv_buffer` + FlashInfer) and, on routed layers, `MOE_ROUTING_KERNELS`; times the layers of a pass
through the replica (PP stages issue in turn), plus `HEAD_KERNELS` (final norm, LM head GEMM, logits gather /
copy, sampling). Llama-3-8B at TP1: 12 kernels x 32 layers + 4 = 388 launches, 10.1 ms at 26 us, against about
3.5 ms of weight reads per decode step on an H200: eager decode runs at the host's pace.

Which iterations run eager (`graph_batch_cap`):
* a stack with `cuda_graphs: false` (vLLM `--enforce-eager`, SGLang `--disable-cuda-graph`): every iteration;
* otherwise an iteration of more tokens than the stack's capture cap (`ServingProfile.cuda_graph_max_batch`,
  by TP where the default depends on it): the engine captures graphs for batch sizes up to the cap and runs
  larger batches eagerly (vLLM `max_cudagraph_capture_size`; SGLang `cuda_graph_max_bs`; TensorRT-LLM
  `cuda_graph_config.max_batch_size`; the values and sources are in each stack YAML).
The tables index an iteration by its tokens M = prefill tokens + decode sequences, so the rule applies to mixed
iterations by their token count. That is vLLM V1 as it runs (piecewise graphs capture everything but attention
for mixed batches up to the same capture size, full graphs for decode; larger batches eager): the attention
launches piecewise mode leaves to the host, 2 x layers x 26 us (1.7 ms for Llama-3-8B), are not priced, as they
stay below the GPU time of such a batch.

Prefill iterations (`PREFILL_EAGER`; the stack's `cuda_graph_scope: decode-only`, data in its YAML with the source
below): SGLang replays graphs for decode batches only, so every iteration that holds prefill tokens runs eager
whatever its size (its floor: `eager_limits`' third value, 0 tokens). SGLang 0.5.6.post2 (wheel):
model_executor/model_runner.py:2676-2687 replays a graph only where `forward_mode.is_cuda_graph()`
(forward_batch_info.py:156-162: DECODE, TARGET_VERIFY, IDLE, DLLM_EXTEND; EXTEND and MIXED, the `--enable-mixed-chunk`
batches, are not), and its piecewise graphs for prefill are off by default (server_args.py:530
`enable_piecewise_cuda_graph: bool = False`; 0.5.9 :604). TensorRT-LLM's PyTorch backend does the same (the trtllm
stack YAMLs' `cuda_graph_max_batch` note) but is left out: recalled, not readable here, and the trtllm profiles also
price the 0.x TensorRT-engine runtime, which enqueues a context phase as one engine (their `cuda_graph_scope: all`, an
ASSUMPTION; a stack YAML may state decode-only, as the validation sets' Dynamo TensorRT-LLM workers do: their
template runs the PyTorch backend, `validation/data/stacks/trtllm-*-dynamo-agg.yaml`). vLLM keeps its piecewise
graphs for mixed batches up to the capture size (above). Measured on one tree (toggle, every row, repeats once):
MoE / MLA set 15.554 -> 15.575 % (SGLang 0.5.9 DeepSeek TTFT mean |error| 0.147 -> 0.163 on the 7 rows that
move; with TensorRT-LLM too: 15.549 %, Qwen3-235B TP8 TTFT median -0.178 -> -0.173), dense Hopper 20.0945 % and
disaggregated 14.414 % unchanged (with TensorRT-LLM: 20.0932 / 14.414 %). Sourced, slightly worse: on by the lead's
policy (a prefill iteration of these models mostly outlasts its launches).

The floor is taken where the engine loops sum an iteration (`serving.engine_loop`, `serving.fcfs_loop`,
`IterationCost.time`), on the iteration's GPU part indexed as the loops index it: the body by its tokens M, the LM
head by the rows it samples, plus the fixed per-layer kernel costs of its phases, max(body[M] + head[rows] + fixed,
host) (`floor_gpu_s`); pure-decode iterations (M = rows) carry it in their per-batch table
(`loop_stepping.cost_tables`). A prefill iteration samples one row, so its floor is host - head[1] - fixed on the
body (the earlier table floor subtracted head[M], the LM head of M sampled rows, and priced a 768-token prompt of
GPT-OSS-20B below its launches). ASSUMPTION: the cached-token reads (`kv_token_s`), the prefill (query, key) pairs
and the per-prefill-token terms add on top of the floor (the closed-form decode leaps need the floored part
context-free): a host-bound iteration of long contexts is overstated by at most those terms' GPU time.

Measured by toggling `llm_iteration.HOST_ISSUE` (mean |error| TTFT / TPOT): dense Hopper set 40.7 / 14.7 ->
40.7 / 14.6 % (27.7 -> 27.6 %): SGLang 0.5.6 Llama-3.1-8B at 352-512 clients on TP1-2, above its cap of 256,
TPOT error -0.49..-0.36 -> -0.37..-0.20 on 8 rows (campaign TPOT 37.3 -> 34.9 %); its 20-client rows (TPOT
-36 %) are untouched, as no source says that campaign ran without graphs. MoE set 29.0 / 15.1 -> 29.2 / 15.1 %:
vLLM 0.18 GPT-OSS-120B prefill chunks above 512 tokens (21 launches x 36 layers, 19.8 ms) become host-bound,
TTFT 21.0 -> 21.8 % (ASSUMPTION: vLLM's torch.compile'd eager path priced at the eager-PyTorch dispatch).
Inference set 7.24 -> 7.24 %; with TensorRT-LLM's LLM-API cap of 128 it would be 11.0 % (its trtllm-bench
max-throughput runs capture graphs up to their batch size: `catalog/stacks/trtllm-0.x.yaml`).
The floor by sampled rows (against the earlier one by tokens): dense Hopper set 20.0945 -> 20.0945 % (rounding), MoE
set 15.752 -> 15.775 % (a later tree 15.844 -> 15.867; every row 15.45 -> 15.48; TTFT of 56 vLLM 0.18
GPT-OSS-120B rows +0.00..+0.035, 36 of 76 changed rows better), disaggregated and MLPerf sets unchanged;
concurrency-1 TTFT no longer falls with the prompt (GPT-OSS-20B GB200 nvfp4 vLLM, ISL 768 / 1024 / 2048:
41.6 / 41.3 / 40.2 -> 42.6 / 42.6 / 43.1 ms).

Per-sequence host floor (`per_sequence_floor`, toggle `HOST_PER_SEQUENCE`; the stack's `host_per_sequence_s`, 0 but
in the validation sets' Dynamo TensorRT-LLM worker profiles, validation/data/stacks/trtllm-*-dynamo-agg.yaml): a
pure decode iteration of n sequences lasts at least n x host_per_sequence_s, whatever its graphs (the pure-decode
tables of `loop_stepping.cost_tables` and `IterationCost.time` carry it; mixed and prefill iterations keep the
launch floor above). Mechanism with a code location: the Dynamo worker's per-output Python loop (ai-dynamo 0.4.0
dynamo/trtllm/request_handlers/handler_base.py:147-180): per request, per streamed engine output of
`LLM.generate_async(streaming=True)`, it slices the new token ids off the output (`output.token_ids[so_far:]`,
no detokenisation: `skip_tokenizer_init`, main.py:91), builds a dict and yields it to the Rust runtime that
serialises it onto the response stream (main.py:171-174 `endpoint.serve_endpoint(handler.generate)`): every
decoding sequence's token passes through it once per iteration (ai-dynamo 0.8.0, the 1.2.0rc6 rows' worker image:
the same loop, handler_base.py:376-412, plus per-output logprob extraction). ASSUMPTION: that host work is serial
with the engine's iteration (one Python process; the engine cannot run ahead of it), so it bounds the iteration
rate; the figure is fitted, a calibration like the front ends (`validation.serving_host_fits`). Measured:
dense Hopper 21.79 -> 22.37 % (TPOT 12.31 -> 13.47: every client stays resident in the model where ~92 of 128
decode), MoE / MLA 14.88 % and disaggregated 14.10 % unchanged (validation/notes/serving_hopper_tried.md round 22).
Off (`HOST_PER_SEQUENCE`): a fitted figure that makes its own set worse is not adopted.

Measured per-sequence figures (`MEASURED_HOST_PER_SEQUENCE`; the profile's `host_per_sequence_measured`): a stack
whose figure was measured by running the engine's own per-token code takes the same floor whatever
`HOST_PER_SEQUENCE` says. SGLang 0.5.6.post2 under Dynamo 0.8.x (validation/data/stacks/sglang-0.5.6-mixed-chunk.yaml;
AIConfigurator 0.6.0's run.sh.j2 starts `python3 -m dynamo.sglang ... --enable-metrics`, its generator passes
--skip-tokenizer-init): every token of every running request passes one asyncio loop in the worker process, serial
under its GIL: the scheduler's BatchTokenIDOutput unpickled, SGLang's `TokenizerManager._handle_batch_output` with
`collect_metrics` (tokenizer_manager.py:1475-1600, 1839-1898), the request's `_wait_one_response` (:951-1044), Dynamo's
`_process_token_stream` (ai-dynamo 0.8.1 sglang/request_handlers/llm/decode_handler.py:166-222) and the runtime's
bridge. The worker is a pipeline stage beside the engine: its token rate 1 / figure caps the clients' rate, which
the floor n x figure on a decode step of n sequences expresses (ASSUMPTION: closed loop, steady state; the resident
count is the model's). The scheduler's own per-request work (scheduler_output_processor_mixin.py:314-1000, one
process per TP rank, overlapped with the GPU) measured ~4 us a request: below every step. Measurement and figures:
validation/calibration/sglang_056_worker_host.py and validation/notes/serving_hopper_tried.md (hC, session 54).
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.ops.layer import LayerOps, Layout, layer_ops
from infraplan.serving.deployment import Deployment
from infraplan.serving.engine_facts import cuda_graph_scope
from infraplan.serving.engines import load_engine

ATTENTION_KERNELS = 2.0  # KV-cache write + attention kernel per layer (module docstring)
PREFILL_EAGER = True  # prefill iterations of decode-only-graph stacks run eager (docstring; toggle to compare)
HEAD_KERNELS = 4.0  # final norm, LM head GEMM, logits gather / copy, sampling (module docstring)
# a pure decode step waits for the stack's per-sequence host work (docstring): built OFF, its figure is fitted (the
# minimum of measured TPOT / n, no published per-token cost) and it makes the dense set worse (21.79 -> 22.37 %)
HOST_PER_SEQUENCE = False
# a stack's measured per-sequence figure (`host_per_sequence_measured`: the engine's own per-token code run, its
# source in the stack YAML) floors its decode steps whatever HOST_PER_SEQUENCE says (docstring, "Measured ...")
MEASURED_HOST_PER_SEQUENCE = True


def graph_batch_cap(stack: Stack, tp: int) -> int:
    """Largest iteration (tokens) the stack replays from a CUDA graph at TP `tp`; 0 when it runs eager."""
    if not stack.cuda_graphs or stack.serving is None:
        return 0
    cap = stack.serving.cuda_graph_max_batch
    for at_least, value in sorted(stack.serving.cuda_graph_max_batch_by_tp):
        if tp >= at_least:
            cap = value
    return cap


def inference_layout(tp: int, ep: int, attention_dp: int, tokens: np.ndarray, moe_tp: int = 1) -> Layout:
    """The layout one serving layer runs under: EP inside the TP group; whole experts over the attention-DP x TP
    GPUs of a wide-EP replica (`serving.llm_iteration`); or, with MoE TP (`Deployment.moe_tp`), every expert split
    over `moe_tp` of them and EP `ep` over the rest, the MoE group laid over the attention ranks as Megatron's
    folding lays EP x ETP over TP x DP (`ops.layer`: the group's tokens all-gathered, reduce-scattered back)."""
    if attention_dp > 1 and moe_tp > 1:
        return Layout(tokens=tokens, tp=tp, ep=ep, etp=moe_tp, folded=True, phase="inference")
    if attention_dp > 1:
        return Layout(tokens=tokens, tp=tp, ep=attention_dp, ep_inside_tp=tp, phase="inference")
    return Layout(tokens=tokens, tp=tp, ep_inside_tp=ep, phase="inference")


def host_issue_s(shape: TransformerShape, dep: Deployment, layers: float, routing_kernels: float,
                 dispatch_s: float) -> float:
    """Host seconds to launch one eager forward of the replica: `forward_kernels` x the eager dispatch time."""
    ops = layer_ops(shape, inference_layout(dep.tp, dep.ep, dep.attention_dp, np.ones(1), dep.moe_tp))
    return forward_kernels(shape, ops, layers, routing_kernels) * dispatch_s


def forward_kernels(shape: TransformerShape, ops: LayerOps, layers: float, routing_kernels: float) -> float:
    """Kernels the host launches for one eager forward through `layers` layers of the op table `ops` (one mean
    layer at the inference phase), with `routing_kernels` per routed layer (MoE) and the LM head's."""
    routed = shape.routed_layer_share
    per_layer = float(np.max(ops.forward_kernels(np.full(1, ATTENTION_KERNELS)))) + routed * routing_kernels
    return layers * per_layer + HEAD_KERNELS


def eager_limits(shape: TransformerShape, dep: Deployment, layers: float, routing_kernels: float,
                 dispatch_s: float) -> tuple[float, int, int]:
    """(host issue time of one eager forward of `dep`, the largest iteration in tokens its stack replays from a
    CUDA graph at its TP, the same for an iteration holding prefill tokens): iterations of more tokens are floored
    at the former (module docstring; "Prefill iterations")."""
    host_s = host_issue_s(shape, dep, layers, routing_kernels, dispatch_s)
    stack = load_stack(load_engine(dep.stack).ref)
    cap = graph_batch_cap(stack, dep.tp)
    decode_only = stack.serving is not None and cuda_graph_scope(stack.serving) == "decode-only"
    return host_s, cap, (0 if PREFILL_EAGER and decode_only else cap)


def floor_gpu_s(gpu_s: np.ndarray, tokens: np.ndarray, host_s: float, cap: int | np.ndarray) -> np.ndarray:
    """An iteration's GPU part (body[tokens] + head[rows] + fixed) raised to the host issue time `host_s` where it
    runs eager (more than `cap` tokens, per iteration where an array); the engine loops inline the same test."""
    return np.where((tokens > cap) & (gpu_s < host_s), host_s, gpu_s)


def per_sequence_floor(dep: Deployment) -> float:
    """Host seconds per decoding sequence below which a pure decode iteration of `dep` cannot run: its stack's
    `host_per_sequence_s` (module docstring, "Per-sequence host floor"); 0 with `HOST_PER_SEQUENCE` off, unless the
    figure is measured and `MEASURED_HOST_PER_SEQUENCE` on ("Measured per-sequence figures")."""
    stack = load_stack(load_engine(dep.stack).ref)
    if stack.serving is None:
        return 0.0
    measured = MEASURED_HOST_PER_SEQUENCE and stack.serving.host_per_sequence_measured
    return stack.serving.host_per_sequence_s if HOST_PER_SEQUENCE or measured else 0.0
