"""Time of one serving iteration (a mixed batch of prefill chunks and decode tokens) on one replica.

A replica is TP x PP accelerators (EP in the TP group for MoE); an iteration runs M = prefill + decode tokens:

* GEMMs from the real shapes (QKV with GQA widths, output projection, FFN with fused gate/up, MoE experts
  fed `M * top_k / active` tokens each, LM head only for the rows that sample a token), priced by
  `hardware.kernels.gemm_time`: tile and wave quantisation, and the roofline bound on reading the weights,
  which is what makes small-batch decode memory-bound. A stack release with a measured block-fp8 Linear sets a floor
  under the plain fp8 GEMMs of block-scaled checkpoints (`serving.release_tables`: launch + the K loop at small M).
* Attention: prefill attention is compute-bound, 4 * head_dim * heads/TP FLOPs per (query, key) pair at the
  fused-attention rate (fp8 cache: x the stack's FP8 FMHA gain, `kv_cache.context_fmha_speedup`) + `exp_seconds`;
  decode attention reads every cached K and V byte of the batch (MLA: or its FLOPs bind; `serving.decode_kernels`;
  the decode rows' absorbed W_UK / W_UV BMMs at the engine's measured kernel, `serving.mla_absorb`).
  Sliding-window layers (Beltagy et al. 2020, arXiv:2004.05150; GPT-OSS: 18 of 36 with a 128-token band) attend
  the last W keys only (`SLIDING_WINDOW_ATTENTION`): a decode row reads W cached tokens there (on `head_s`, per
  decode row; a shorter context counts as W), a prefill token pays W pairs (`per_prefill_token_s`); `kv_token_s`
  and `pair_s` cover the full layers. The KV capacity (`serving.kv_cache`) still holds whole contexts. DeepSeek Sparse
  Attention (DeepSeek-V3.2): the indexer per cached token and prefill pair, the MLA core over the top-k keys per
  decode row and prefill token (`serving.sparse_decode`).
* Memory-bound element-wise kernels: what the stack's engine family runs a layer (`serving.engine_kernels`).
* TP: two all-reduces of the M x h activations per layer (Megatron-style; `network.collectives`; one-shot /
  two-shot custom all-reduce for the small ones when the stack has `custom_all_reduce`), EP:
  all-to-all dispatch and combine (the busiest GPU's bytes where EP does not divide the experts:
  `serving.expert_slots`); PP: the activations sent between stages, each hop at the scale-up or the scale-out rate
  by where its two stages sit (`serving.pipeline_hops`).
* A fixed host cost per iteration (scheduling, sampling, CUDA-graph replay; `ITERATION_OVERHEAD_S`, ASSUMPTION);
  an eager iteration lasts at least the host's kernel launches (`serving.host_overhead`, `HOST_ISSUE`).
* MoE: the experts a batch touches. M tokens each routed to k of E experts (uniform, balanced routing) hit
  E (1 - (1 - k/E)^M) distinct experts on average (balls into bins; `ops.layer`), not min(E, M k): only those
  experts' weights are read (Qwen3-235B, 128 experts top-8: 52 of 128 at 8 sequences, 82 at 16, 113 at 32), and
  each expert's rows are padded to the kernel's M tile by its own routed count (`serving.routed_experts`).
  Beside the grouped GEMMs and the router a routed layer launches `MOE_ROUTING_KERNELS` small kernels
  (`moe_routing_time`; ASSUMPTION: six, counted on vLLM's fused MoE: top-k, align / sort, the activation quantisation
  or workspace set-up before each grouped GEMM, sum; TensorRT-LLM's CUTLASS runner, SGLang's as many; Blackwell's fp4
  MoE 2: `trtllm_gen_moe.routing_kernels`), about a launch each at decode (4 us on H100 / H200): 0.9-2.3 ms per step
  over 36-94 routed layers, the low-concurrency TPOT that the weight reads alone miss.

Precision (`dtype`: the GEMM rate and operand widths each serving format runs at): `serving.format_precision`.

One layer's non-attention work and the collectives' prices: `serving.layer_work` (split from here for room).

Because the body cost depends on M only, and attention is linear in the cached tokens (decode) and in
query-key pairs (prefill), one replica's cost is two lookup tables plus four scalars: the serving
simulator evaluates an iteration in O(1) (`IterationCost`).

Pipeline parallelism: a replica of PP stages keeps PP micro-batches in flight (vLLM virtual engines,
TensorRT-LLM in-flight batching over stages), modelled as PP independent engines whose iteration latency
is PP times the heaviest stage, each holding 1/PP of the KV cache.

Wide expert parallelism (`attention_dp` > 1; DeepSeek-V3 report, arXiv:2412.19437 sec. 3.4, and the
DeepSeek inference system overview: decode with DP attention and EP over 144-320 GPUs; SGLang large-scale
EP blog, May 2025: DP attention 96 + EP 96 on 12 H100 nodes): a replica is `attention_dp` ranks of TP GPUs
each; every rank runs attention (and the dense layers) on its own batch with its own KV cache, and the MoE
layers are expert-parallel over all `ep = attention_dp x TP` GPUs: each GPU holds E / ep whole experts and
runs them on the tokens the whole EP group routes to them (`ops.layer_ops` with EP outside TP: the grouped
expert GEMM sees M k ep / active tokens per expert, so at a fixed batch per rank the expert weights are
read once for ep times more tokens). The dispatch and combine all-to-all over the ep GPUs is priced by where
the group runs (`network.collectives`: inside the NVLink domain or across the scale-out tier). Each rank is an
engine of the simulator; ranks are assumed balanced (SGLang/DeepSeek pad idle ranks and balance by routing).

Lock-step ranks (`serving.prefill_stall`: `WIDE_EP_LOCKSTEP`, `wide_ep_prefill_stall`): the ranks meet at every MoE
layer (dispatch / combine; SGLang runs idle ranks on dummy batches), so an iteration lasts as long as the slowest
rank's and a prompt prefilled on any rank stalls every rank, out of phase with this rank's own prefills. Mean field:
each of the attention_dp - 1 other ranks prefills as many tokens as this one at other times (ASSUMPTION: they never
coincide, the low-load limit), each token at the marginal body time of a full token budget plus its pairs and the
per-prompt-token attention this rank pays (sliding-window keys, DSA's top-k core, the draft layer; hQ62), charged
to this rank's prefill iterations. A colocated run (`serving_sim`, `serve-plan`) replaces it with the wait measured
on the ranks' own timelines, on the decode iterations (`serving.wide_ep_lockstep`; the cost's `extra` "stall"
carries it, and "routed_s" the routed experts' part of `body_s`, with the busiest GPU's all-to-all inbound beyond
the mean rank's (`serving.expert_slots`), which `serving.lockstep_loop` prices on the ranks' mean tokens). A stack
whose engine runs the ranks' context phases in the same iterations carries no such stall
(`attention_dp_prefill_stall: false` in its serving profile, `_ranks_stall`): TensorRT-LLM (its attention-DP
balancing, `catalog/stacks/trtllm-0.x.yaml`; ASSUMPTION, recalled). Its six measured attention-DP 8 DeepSeek-R1
rows, run at their stated 64-256 clients (batch_size is per rank: the MoE set's `concurrency`), keep TPOT within -29
/ +11 % without the stall and +27 to +231 % with it; their TTFT is 4-11x the model's (the balancing wait for the
other ranks' context requests, not modelled). (The stall had been adopted on the same rows run at an eighth of their
clients, where it took their mean |error| 0.69 -> 0.39.)

Speculative decoding (`speculative_tokens` K > 0, `acceptance` R): the verification of 1 + K tokens a row, the K
draft steps (the first over every verified position) and the draft layer over the prompt: `serving.speculative`
(sources there). The tokens per step and the decode steps a sequence needs: `serving.deployment`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates, exp_seconds, gemm_time, memory_bound_time
from infraplan.network.collectives import Fabric
from infraplan.ops.head import head_ops
from infraplan.ops.precision import SERVING_FORMATS, kind_dtype, quantised_roles, stored_weight_bytes
from infraplan.serving import (
    decode_kernels,
    deepgemm_moe,
    engine_kernels,
    kv_cache,
    mla_absorb,
    mla_decode,
    routed_experts,
    sparse_decode,
    speculative,
)
from infraplan.serving.deployment import Deployment, check_deployment
from infraplan.serving.engines import load_engine
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.host_overhead import eager_limits, floor_gpu_s, per_sequence_floor
from infraplan.serving.kv_cache import ACT_BYTES, kv_bytes_per_token_layer, stage_layers
from infraplan.serving.layer_work import layer_time, serving_collective_time
from infraplan.serving.pipeline_hops import pipeline_hops_time
from infraplan.serving.prefill_stall import stall_others, wide_ep_prefill_stall
from infraplan.serving.trtllm_gen_moe import routing_kernels

ITERATION_OVERHEAD_S = 0.5e-3  # ASSUMPTION: host scheduling + sampling + graph launch per iteration, not fitted
ELEMENTWISE_KERNELS_PER_LAYER = 6  # 2 norms, rotary, activation, 2 residual adds
SLIDING_WINDOW_ATTENTION = True  # sliding layers read / attend W tokens (module docstring; toggle to compare)
HOST_ISSUE = True  # eager iterations wait for the host's launches (`serving.host_overhead`; toggle to compare)


@dataclass(frozen=True)
class IterationCost:
    """Seconds of one iteration of one (virtual) engine, as tables over token and row counts.

    time = max(body_s[prefill_tokens + decode_seqs] + head_s[rows sampled: decode rows and every prompt chunk,
               hC66] (less decode_row_s[rows] - decode_row_s[decode_seqs] with prefill tokens) + fixed kernel costs
               (prefill_fixed_s with prefill tokens and prefill_row_s a row past the first, decode_fixed_s with
               decode rows, less shared_fixed_s with both), host_issue_s
               if the tokens exceed eager_above_tokens, or eager_prefill_above_tokens with prefill tokens)
           + kv_token_s * cached tokens read
           + pair_s * prefill (query, key) pairs + per_prefill_token_s * prefill tokens + overhead_s
    (`serving.host_overhead`). `*_flop_s` are the same terms' pure tensor-core time (for utilisation and power).
    """

    body_s: np.ndarray
    head_s: np.ndarray
    kv_token_s: float
    pair_s: float
    prefill_fixed_s: float
    decode_fixed_s: float
    overhead_s: float
    body_flop_s: np.ndarray
    pair_flop_s: float
    per_prefill_token_s: float = 0.0
    per_finish_s: float = 0.0
    shared_fixed_s: float = 0.0  # fixed kernels a mixed iteration runs once (DSA's; SGLang's decode attention op)
    prefill_row_s: float = 0.0  # an iteration with prefill tokens: per sampled row past the first (DSA on SGLang)
    # the part of head_s[r] that is r decode rows' own attention (per-row KV, MLA, DSA core, measured BMM terms; None:
    # none): an iteration with prefill tokens charges it on its decode rows only; a prompt chunk's sampled row
    # pays the rest (its last token's attention is a prefill token's: tests/serving/test_finishing_prompt_rows_hC65.py)
    decode_row_s: np.ndarray | None = None
    # a prefill-only iteration whose longest sequence (cached + chunk) is <= short_prefill_len runs SGLang's short DSA
    # path: these seconds per pair, per prefill token and once are added, prefill_row_s dropped (`sparse_decode`)
    short_prefill_len: int = 0
    short_prefill_terms: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # the same path in a mixed iteration too, its decode rows' context + 1 in the longest and every sequence's keys
    # <= `sparse_decode.MHA_KEY_CAP`: s per decode-row pair and per cached key, the share of decode_row_s[decode rows]
    # kept, s once with decode rows (hO64, hC66; `short_prefill`)
    short_extend_terms: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 0.0)
    short_prefix_fixed_s: float = 0.0  # that path's batch with cached keys: gathers' and index launches (hC65, hC66)
    # per masked logit of the prefill logits, [prefill tokens, the keys of the iteration's prompts (cached + chunk)],
    # less the pairs: DeepGEMM's clean kernel (DSA on vLLM, `serving.sparse_decode`)
    prefill_clean_s: float = 0.0
    host_issue_s: float = 0.0  # an eager iteration's floor (`serving.host_overhead`)
    eager_above_tokens: int = 1 << 62  # iterations of more tokens run eager
    eager_prefill_above_tokens: int = 1 << 62  # the same for iterations holding prefill tokens (`host_overhead`)
    host_per_sequence_s: float = 0.0  # a pure decode step of n sequences lasts >= n x this (`host_overhead`)
    decode_growth_tokens: float = 1.0  # cached tokens a decode step appends to a sequence (`serving.speculative`)
    draft_slots: int = 0  # cache slots a verification writes past them and rolls back (`serving.speculative`)
    budget_tokens: int = 1  # a decoding sequence's tokens of a mixed iteration's budget (`speculative`, hL76)
    reserve_scale: float = 1.0  # the output-reserve ratio's factor: SGLang's under DP attention (`output_reserve`)
    extra: dict = field(default_factory=dict)

    @property
    def max_tokens(self) -> int:
        return len(self.body_s) - 1

    def time(self, prefill_tokens, decode_seqs, decode_context, pairs, rows=None, longest=None,
             keys=None) -> np.ndarray:
        """Vectorised iteration time (analysis helper; the simulator inlines the same sum); `longest`: the
        iteration's longest sequence, cached + chunk, a decode row's context + 1 (None: not short,
        `short_prefill_len`); `keys`: its prompts' cached + chunk tokens (None: no masked logits, `prefill_clean_s`;
        the short path's cap and cached keys: 0); `rows`: sampled rows (None: the decode rows and one prompt)."""
        p = np.asarray(prefill_tokens, dtype=np.int64)
        dseq = np.asarray(decode_seqs, dtype=np.int64)
        rows = dseq + (p > 0) if rows is None else np.asarray(rows, dtype=np.int64)
        m = np.minimum(p + dseq, self.max_tokens)
        ctx = np.asarray(decode_context, dtype=np.float64)
        prefix = np.maximum(np.asarray(0 if keys is None else keys) - p, 0)  # the prompts' cached keys
        short = (sparse_decode.short_extend(self.short_prefill_len, p, np.asarray(longest), prefix + p, dseq, ctx)
                 if self.short_prefill_len and longest is not None else np.zeros_like(p, dtype=bool))
        fix, per_pair, per_token = sparse_decode.short_prefill_s(self.short_prefill_terms, self.prefill_row_s, rows)
        d_pair, key_s, kept, once = self.short_extend_terms  # (hO64) the decode rows' MHA, cached keys (hC66)
        fix = fix + np.where(dseq > 0, once, 0.0) + np.where(prefix + dseq > 0, self.short_prefix_fixed_s, 0.0)
        rest = key_s * (prefix + np.where(dseq > 0, ctx, 0)) + d_pair * np.where(dseq > 0, ctx + dseq, 0)
        ctx = np.where(short & (dseq > 0), 0.0, ctx)  # their indexer scores dropped (`kv_token_s`)
        top = len(self.head_s) - 1
        head = self.head_s[np.minimum(rows, top)]
        if self.decode_row_s is not None:  # a prompt's row: no decode attention (`decode_row_s`); short: `kept`
            r_s = self.decode_row_s
            own = r_s[np.minimum(dseq, top)] * np.where(short, kept, 1.0)
            head = head - np.where(p > 0, r_s[np.minimum(rows, top)] - own, 0.0)
        gpu = (self.body_s[m] + head
               + np.where(p > 0, self.prefill_fixed_s, 0.0) + np.where(dseq > 0, self.decode_fixed_s, 0.0)
               - np.where((p > 0) & (dseq > 0), self.shared_fixed_s, 0.0)
               + np.where(p > 0, self.prefill_row_s * np.maximum(rows - 1, 0), 0.0) + np.where(short, fix, 0.0))
        cap = np.where(p > 0, self.eager_prefill_above_tokens, self.eager_above_tokens)
        gpu = floor_gpu_s(gpu, m, self.host_issue_s, cap)  # eager: at least the launches
        if self.host_per_sequence_s:  # a pure decode step: at least its sequences' host work (`host_overhead`)
            gpu = np.where(p > 0, gpu, np.maximum(gpu, self.host_per_sequence_s * dseq))
        return (gpu + self.kv_token_s * ctx + self.pair_s * np.asarray(pairs)
                + self.per_prefill_token_s * p + np.where(p + dseq > 0, self.overhead_s, 0.0)
                + np.where(short, per_pair * np.asarray(pairs) + per_token * p + rest, 0.0)
                + (self.prefill_clean_s * (p * np.asarray(keys) - np.asarray(pairs)) if keys is not None else 0.0))


def build_iteration_cost(shape: TransformerShape, accelerator: Accelerator, fabric: Fabric,
                         dep: Deployment, overhead_s: float = ITERATION_OVERHEAD_S) -> IterationCost:
    """Cost tables of one virtual engine of the deployment (see module docstring)."""
    check_deployment(shape, accelerator, dep)
    rates = KernelRates.for_dtype(accelerator, "bf16")
    # weight reads per dtype (`serving.decode_kernels`), a checkpoint's group scales included (`stored_weight_bytes`):
    prec = serving_precision(accelerator, dep.dtype, dep.stack, stored_weight_bytes(shape, dep.dtype), dep.engine,
                             shape.model_type in routed_experts.FP8_BLOCK_MODEL_TYPES)  # block-fp8: not per-tensor
    read = SERVING_FORMATS[dep.dtype].weight_read_dtype  # mxfp8: fp8's measured rate (`ops.precision`)
    gemm_rates, head_rates = (decode_kernels.gemm_rates(accelerator, rates, dep.engine, d) for d in (read, "bf16"))
    layers = stage_layers(shape, dep.pp) * dep.pp  # heaviest stage sets the pace of the pipeline
    q = 1 + dep.speculative_tokens  # tokens per decode row through the target (verification)
    spec_rows = 2 * dep.max_batch * q if dep.speculative_tokens else 0
    m = np.arange(max(dep.token_budget, dep.max_batch, spec_rows) + 1, dtype=np.float64)
    experts = kind_dtype(shape, dep.dtype, "routed_experts")  # the routed experts' kernels: their weights' format
    align = deepgemm_moe.contiguous_alignment(accelerator, dep.stack, dep.tp, dep.ep, dep.attention_dp, experts)
    block_depth = routed_experts.fp8_block_depth(accelerator, dep.stack, experts, shape.model_type)
    block_rate = routed_experts.fp8_block_rate_fraction(accelerator, dep.stack, experts, shape.model_type, dep.tp,
                                                        dep.ep, dep.attention_dp)
    # the LM head's; the GEMMs a checkpoint's scope keeps in bf16
    bf16 = serving_precision(accelerator, "bf16", dep.stack)
    roles = quantised_roles(shape, dep.dtype)  # None: every GEMM at `prec` (`ops.precision.weight_scope`)
    plain = (bf16, head_rates) if roles is not None else None
    attention = kind_dtype(shape, dep.dtype, "attention")  # its projections, the MLA BMMs, the draft's projection
    attn_prec, attn_rates = plain if plain is not None and attention == "bf16" else (prec, gemm_rates)
    layer_s, layer_flop_s, routed_s = layer_time(shape, rates, fabric, dep, prec, m, gemm_rates, align, block_depth,
                                                  block_rate, accelerator, plain, roles or frozenset())
    fused_moe_s = (routed_experts.mxfp4_moe_token_time(shape, accelerator, dep.stack, experts, m)
                   + routed_experts.release_moe_time(shape, accelerator, dep.stack, block_depth, m))
    layer_s, routed_s = layer_s + fused_moe_s, routed_s + fused_moe_s  # the routed experts' fused-kernel terms too
    p2p = pipeline_hops_time(fabric, m * shape.hidden_size * ACT_BYTES, dep.tp, dep.pp, dep.attention_dp)
    body = np.where(m > 0, layers * layer_s + p2p, 0.0)
    rows = np.arange(2 * dep.max_batch * q + 1, dtype=np.float64)
    lm = head_ops(shape, rows, dep.tp, phase="inference")  # the LM head for the sampled rows: bf16, or the run's
    quantised_head = kind_dtype(shape, dep.dtype, "lm_head") != "bf16"  # format where stored so (`ops.precision`)
    lm_rates, lm_rate, lm_width = ((gemm_rates, prec.rate, prec.bytes_per_element(lm.gemm.m, lm.gemm.n, lm.gemm.k))
                                   if quantised_head else (head_rates, bf16.rate, ACT_BYTES))
    head = (gemm_time(lm_rates, lm.gemm.m, lm.gemm.n, lm.gemm.k, lm_width, lm_rate)
            + sum((serving_collective_time(fabric, c) for c in lm.collectives), np.zeros_like(rows))
            + memory_bound_time(rates, lm.elementwise.bytes, kernels=lm.elementwise.kernels))
    head = np.where(rows > 0, head, 0.0)
    # the attention op's launches a layer forward (prefill; decode: `attn_s`), the draft layer's too (`speculative`)
    kernel, kv_layers = engine_kernels.attention_launch_s(shape, rates, dep.engine, dep.kv_dtype), layers
    draft_token_s, spec_row_s = 0.0, None  # the draft layer over each prompt token; a decode row's verification
    if dep.speculative_tokens:  # verification and draft steps in the head table (`serving.speculative`)
        proj = gemm_time(attn_rates, m, shape.hidden_size, 2.0 * shape.hidden_size,
                         attn_prec.bytes_per_element(m, shape.hidden_size, 2.0 * shape.hidden_size), attn_prec.rate)
        spec_head = speculative.decode_head(dep, body, head, layer_s + proj)  # (a prompt row's: `verified_row_s`)
        head, spec_row_s = spec_head, speculative.verified_row_s(dep, spec_head, head, layer_s + proj)
        draft_token_s = speculative.prompt_token_s(dep, layer_s + proj, dep.token_budget)
        kv_layers = layers + dep.speculative_tokens  # the draft layer reads its own cache once per draft token
        m = m[: max(dep.token_budget, dep.max_batch) + 1]
        body, layer_flop_s = body[: len(m)], layer_flop_s[: len(m)]
    heads_local = shape.num_heads / dep.tp  # the attention core: 4 d FLOPs per (query, key) pair and local head
    prompt_layers = layers + speculative.prompt_layers(dep)  # a draft layer runs over the prompt too
    pair_flops = 4.0 * shape.attention_head_dim * heads_local * prompt_layers  # MLA prefill: decompressed heads
    kv_read = kv_bytes_per_token_layer(shape, dep.tp, dep.kv_dtype) * kv_layers
    mla_token_s, mla_row_s = mla_decode.decode_terms(shape, accelerator, rates, dep, layers)  # per token and per row
    # sliding-window layers (module docstring): they read W cached tokens per decode row and W keys per prefill token
    full = 1.0 - shape.sliding_fraction() if SLIDING_WINDOW_ATTENTION else 1.0
    window = float(shape.sliding_window) if full < 1.0 else 0.0
    attn_s, kv_bytes_per_s = decode_kernels.attention_terms(accelerator, rates, dep.engine, dep.kv_dtype, shape,
                                                            dep.stack)
    dsa = sparse_decode.sparse_terms(shape, accelerator, rates, dep, layers, kv_layers, prompt_layers)  # DSA or None
    kv_window_row_s = (1.0 - full) * kv_read * window / kv_bytes_per_s + mla_row_s + (dsa.row_s if dsa else 0.0)
    r = np.arange(len(head))
    head = np.where(r > 0, head + kv_window_row_s * r, 0.0)
    bmm_fixed_s, bmm_row_s = mla_absorb.decode_terms(  # decode rows' absorbed MLA BMMs, measured (`serving.mla_absorb`)
        shape, accelerator, dep, layers, np.arange(len(head), dtype=np.float64),
        lambda g: routed_experts.layer_gemm_time(rates, g, attn_prec.bytes_per_element(g.m, g.n, g.k),
                                                 attn_prec.grouped_rate or attn_prec.rate, 1.0))
    head = head + bmm_row_s
    decode_row_s = (np.where(r > 0, kv_window_row_s * r, 0.0) + bmm_row_s + (0.0 if spec_row_s is None else spec_row_s)
                    if kv_window_row_s or bmm_row_s.any() or spec_row_s is not None else None)
    rate = rates.attention_flops_per_s * kv_cache.context_fmha_speedup(shape, accelerator, dep.stack, dep.kv_dtype)
    exp_s = exp_seconds(rates, heads_local * prompt_layers, shape.attention_head_dim)  # softmax exps by head dim
    pair_s, window_token_s = full * pair_flops / rate + full * exp_s, (1 - full) * (pair_flops / rate + exp_s) * window
    short_len, short_terms, short_extend, gather_s = 0, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), 0.0
    if dsa is not None:  # the indexer over every pair, the core over top-k keys per prompt token (`sparse_decode`)
        short_len, short_terms, short_extend, gather_s = sparse_decode.short_prefill(  # SGLang's short path (MHA)
            shape, accelerator, rates, dep, dsa, pair_s * layers / prompt_layers, layers, prompt_layers, bmm_fixed_s)
        pair_s, window_token_s = dsa.pair_s, dsa.prefill_token_s
    launches, prefill_launches, shared = ((dsa.launches_s, dsa.prefill_launches_s, dsa.shared_launches_s)
                                          if dsa is not None else (0.0, 0.0, 0.0))
    stall_token_s, stall_pair_s = wide_ep_prefill_stall(body, pair_s, window_token_s + draft_token_s, dep)
    moe_kernels = routing_kernels(accelerator, shape, dep.dtype, dep.engine)  # eager: the host's launches wait
    host_s, cap, prefill_cap = (eager_limits(shape, dep, layers, moe_kernels, fabric.host_kernel_dispatch_s)
                                if HOST_ISSUE else (0.0, 1 << 62, 1 << 62))
    return IterationCost(
        body_s=body, head_s=head,
        kv_token_s=dsa.token_s if dsa is not None else max(full * kv_read / kv_bytes_per_s, mla_token_s),
        pair_s=pair_s + stall_pair_s, prefill_fixed_s=kernel * prompt_layers + prefill_launches,
        decode_fixed_s=attn_s * kv_layers + bmm_fixed_s + launches,
        shared_fixed_s=shared + decode_kernels.mixed_shared_s(dep.engine, attn_s * layers, accelerator, shape),
        prefill_row_s=dsa.prefill_row_s if dsa is not None else 0.0, short_prefill_len=short_len,
        short_prefill_terms=short_terms, short_extend_terms=short_extend, short_prefix_fixed_s=gather_s,
        decode_row_s=decode_row_s,
        prefill_clean_s=dsa.prefill_clean_s if dsa is not None else 0.0,
        overhead_s=overhead_s, body_flop_s=np.where(m > 0, layers * layer_flop_s, 0.0), host_issue_s=host_s,
        pair_flop_s=pair_s, per_prefill_token_s=stall_token_s + window_token_s + draft_token_s,
        eager_above_tokens=cap, eager_prefill_above_tokens=prefill_cap, host_per_sequence_s=per_sequence_floor(dep),
        decode_growth_tokens=speculative.context_growth(dep), draft_slots=speculative.draft_slots(dep),
        budget_tokens=speculative.budget_tokens(dep),
        reserve_scale=load_engine(dep.stack).reserve_scale_by_attention_dp if dep.attention_dp > 1 else 1.0,
        extra={"stall": (stall_token_s, stall_pair_s, others),
               "routed_s": np.where(m > 0, layers * routed_s[: len(m)], 0.0)} if (others := stall_others(dep)) else {},
    )


def prefill_time(cost: IterationCost, batch, prompt) -> np.ndarray:
    """Seconds to prefill `batch` prompts of `prompt` tokens in one iteration (no decode in the batch)."""
    batch, prompt = np.asarray(batch), np.asarray(prompt)
    pairs = batch * prompt * (prompt + 1) / 2.0
    return cost.time(batch * prompt, 0, 0, pairs, rows=batch, longest=prompt, keys=batch * prompt)


def decode_time(cost: IterationCost, batch, context) -> np.ndarray:
    """Seconds of one decode iteration of `batch` sequences with `context` cached tokens each."""
    batch = np.asarray(batch)
    return cost.time(0, batch, batch * np.asarray(context), 0, rows=batch)
