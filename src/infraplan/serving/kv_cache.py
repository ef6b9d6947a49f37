"""Serving memory per accelerator: weights, KV cache in paged blocks, and what bounds the batch.

Weights: the matrix parameters of the heaviest pipeline stage, TP-sharded (KV heads below TP are
replicated, as in Megatron/vLLM), embedding and LM head on the end stages, in the weight dtype
(bf16 2 B, fp8/int8 1 B, int4 0.5 B per parameter; int4 is weight-only, AWQ/GPTQ style).

KV cache: per token and layer, K and V of the local KV heads, `2 * max(n_kv / TP, 1) * head_dim * bytes`;
MLA models cache the latent, `(kv_lora_rank + qk_rope_head_dim) * bytes` on every TP rank (`ops.params`).
It lives in fixed-size blocks of `block_tokens` tokens (PagedAttention, Kwon et al., SOSP'23,
arXiv:2309.06180; vLLM's default block is 16 tokens). How much memory the cache gets is the serving
engine's own convention (`serving.engines`): TensorRT-LLM's `kv_cache_free_gpu_mem_fraction` (0.9) applies to
the memory LEFT after the weights, a runtime reserve (CUDA context, NCCL/cuBLAS workspaces) and the activation
workspace of the largest iteration (`token_budget` tokens through one layer, plus fp32 logits of the sampled
rows); vLLM's `gpu_memory_utilization` (0.9) applies to the total, SGLang's `mem_fraction_static` to the memory
free before the weights load (`serving.sglang_memory.static_pool_bytes`). TensorRT-LLM's
reserve, activations and sliding-layer windows follow NVIDIA AIConfigurator's memory model (`serving.kv_pool_trtllm`);
vLLM's hybrid KV cache manager and SGLang's hybrid SWA pool hold a sliding layer's window (`serving.kv_pool_window`).

Prefill attention over an fp8 cache (`context_fmha_speedup`): TensorRT-LLM runs its FP8 context FMHA there, measured
faster than its bf16 FMHA on Hopper: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0),
systems/data/{h100_sxm,h200_sxm}/attention/trtllm/1.3.0rc20/context_attention_perf.parquet, head dim 128, no window,
1,424 / 1,425 (batch, ISL 4,096-32,768, heads) points per GPU with all three dtype pairs: bf16 FMHA over a bf16 cache
median 476 / 484 TFLOP/s (the catalog's 0.5 x 989 = 494), fp8 FMHA over an fp8 cache 1.32x that (quartiles 1.26-1.38;
1.36 from 8,192, 1.22 at 2,048-4,096). Head dim 64 gains 1.14 (0.75 with a 128-token window) and MLA's context kernels
are other tables, so the ratio applies to head dim 128 without MLA only (`hardware.fp8_attention`, the rule training's
fp8 dot-product attention reads too; DeepSeek-R1's TensorRT-LLM TTFT rows of the
Hopper MoE / disaggregated sets moved up to 7 points, mostly the wrong way, with it). The same wheel's vLLM 0.24 and
SGLang 0.5.14 tables show no such gain over their own kernels (vLLM 0.87-1.01x, SGLang's fp8 1.03-1.22x), and B200's
TensorRT-LLM table 0.9-1.3x, so the ratio is the accelerator's catalog value (`fp8_kv_context_attention_ratio`,
Hopper) applied where the stack's profile says it runs the kernel (`fp8_kv_context_fmha`: TensorRT-LLM). Toggle
`FP8_KV_CONTEXT_FMHA` (effect in validation/notes/inference_frontier_tried.md, Round 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.fp8_attention import fp8_attention_speedup
from infraplan.ops import params as ops_params
from infraplan.ops.head import end_table_bytes
from infraplan.ops.params import ACT_BYTES, RUNTIME_RESERVE_BYTES
from infraplan.ops.precision import SERVING_FORMATS, kind_dtype, scope_kinds, stored_weight_bytes, weight_scope
from infraplan.ops.sparse_attention import is_sparse
from infraplan.serving import kv_pool_trtllm, kv_pool_window
from infraplan.serving.engines import ServingEngine, load_engine, serving_profile

BLOCK_TOKENS = 16
WEIGHT_DTYPES = tuple(SERVING_FORMATS)  # bf16 fp8 int8 int4 nvfp4 mxfp4 mxfp8 (`ops.precision`, "Serving formats")
KV_DTYPES = ("bf16", "fp8", "int8")
# a KV-cache format asked that no modelled engine stores, and why (hM70: `serve --kv-dtype mxfp8` on MTIA 400, whose
# weights run MX8 on pytorch-mtia, was refused with the choices alone); not offered as an ASSUMPTION: no source has one
KV_UNSTORED = {"mxfp8": "no modelled engine stores an MXFP8 KV cache: vLLM 0.12.0's CacheDType (vllm/config/cache.py:"
                        "23-31; pytorch-mtia runs vLLM's loop) and SGLang 0.5.9's --kv-cache-dtype (srt/server_args.py:"
                        "3080-3085) list none, nor does any stack profile's kv_cache_dtypes; a part with MX8 and no "
                        "fp8 (MTIA 400 / 450) keeps a bf16 KV cache (--kv-dtype bf16)"}


def kv_dtype_reason(kv_dtype: str) -> str:
    """Why a KV-cache format outside `KV_DTYPES` is not offered where the planner knows ("": it does not): a weight
    format asked of the cache (`KV_UNSTORED`'s reason, else that `--dtype` takes it)."""
    return KV_UNSTORED.get(kv_dtype) or (f"{kv_dtype} is a weight format (--dtype {kv_dtype}), not a KV cache the "
                                         "stack profiles list" if kv_dtype in WEIGHT_DTYPES else "")


def kv_dtype_refusal(kv_dtype: str) -> str:
    """The line refusing a KV-cache format outside `KV_DTYPES`: the formats, and why (`kv_dtype_reason`)."""
    why = kv_dtype_reason(kv_dtype)
    return f"--kv-dtype must be one of {', '.join(KV_DTYPES)}, got {kv_dtype!r}" + (f": {why}" if why else "")


def kv_heads_local(shape: TransformerShape, tp: int) -> float:
    return float(ops_params.kv_heads_local(shape, tp))


def kv_bytes_per_token_layer(shape: TransformerShape, tp: int, kv_dtype: str) -> float:
    """K and V bytes one token adds to one layer on one GPU."""
    return float(ops_params.kv_bytes_per_token_layer(shape, tp, DTYPE_BYTES[kv_dtype]))


def stage_layers(shape: TransformerShape, pp: int) -> int:
    return int(ops_params.stage_layers(shape.num_layers, pp))


def kv_bytes_per_token(shape: TransformerShape, tp: int, pp: int, kv_dtype: str) -> float:
    """KV bytes one token occupies on one GPU of the heaviest stage."""
    return stage_layers(shape, pp) * kv_bytes_per_token_layer(shape, tp, kv_dtype)


def kv_bytes_per_token_model(shape: TransformerShape, kv_dtype: str) -> float:
    """KV bytes of one token over the whole model (what disaggregation transfers; DSA: with the indexer's keys)."""
    if is_sparse(shape):
        return shape.num_layers * float(ops_params.kv_bytes_per_token_layer(shape, 1, DTYPE_BYTES[kv_dtype]))
    if shape.is_mla:
        return shape.num_layers * ops_params.mla_latent_width(shape) * DTYPE_BYTES[kv_dtype]
    return shape.num_layers * 2.0 * shape.num_kv_heads * shape.head_dim * DTYPE_BYTES[kv_dtype]


def local_layer_params(shape: TransformerShape, tp: int) -> float:
    """Matrix parameters of one layer on one GPU (EP inside the TP group shards experts as TP does)."""
    return float(ops_params.local_layer_params(shape, tp))


def weight_bytes_per_gpu(shape: TransformerShape, tp: int, pp: int, dtype: str, ep: int = 1,
                         redundant: int = 0) -> float:
    """Weights on one GPU of the heaviest stage (embedding/LM head kept in bf16, as quantisers do, but a head the
    checkpoint stores quantised: `ops.precision.head_dtype`; under a checkpoint that quantises the routed experts
    only, every other layer too: `ops.precision.weight_scope`).

    `ep`: expert shards outside the TP group (wide EP over attention-DP ranks): each GPU holds ceil(E / (ep x TP))
    whole experts; when ep x TP does not divide E the spare slots hold redundant copies of hot experts
    (DeepSeek-V3 sec. 3.4 / EPLB: 256 experts in 288 slots on 72 GPUs). `redundant`: a stack's EPLB redundant
    experts R (`serving.expert_slots.redundant_experts`), held beside the E: ceil((E + R) / (ep x TP)) slots.
    """
    ends = float(ops_params.end_params_local(shape, tp, pp))
    head = stored_weight_bytes(shape, dtype) if kind_dtype(shape, dtype, "lm_head") != "bf16" else ACT_BYTES
    head_saved = ends * ACT_BYTES - end_table_bytes(shape, tp, pp, head)  # a quantised head's bytes less (0: bf16)
    wide = (ep > 1 or redundant > 0) and shape.is_moe
    slots = math.ceil((shape.num_experts + redundant) / (ep * tp)) if wide else 0
    shards = shape.num_experts / (slots * tp) if slots else 1.0
    layers = float(ops_params.stage_params_local(shape, tp, pp, shards))  # routed and dense layers of the stage
    scope = weight_scope(shape, dtype)
    if scope != "all":  # a checkpoint's scope: its kinds quantised, the rest bf16 (`ops.precision.weight_scope`)
        kinds = scope_kinds(scope)
        quantised = sum((held for kind, held in kind_params(shape, tp, pp, shards).items() if kind in kinds), 0.0)
        return quantised * stored_weight_bytes(shape, dtype) + (layers - quantised + ends) * ACT_BYTES - head_saved
    return layers * stored_weight_bytes(shape, dtype) + ends * ACT_BYTES - head_saved


def draft_layer_bytes(shape: TransformerShape, tp: int, dtype: str, ep: int = 1, redundant: int = 0) -> float:
    """Weights of one MTP / EAGLE draft layer on one GPU: a layer of the model's first kind, split and stored as
    the model's own (the weights of the model with one more such layer less the model's, on one pipeline stage),
    and the h x 2h input projection of [RMSNorm(h); RMSNorm(Emb)] in bf16 (DeepSeek-V3 sec. 2.2; ASSUMPTION: the
    checkpoints' `eh_proj` left unquantised). Its embedding and LM head copies are not resident: the engine shares
    the target's (SGLang 0.5.9 speculative/eagle_worker.py:157, :183 `set_embed_and_head`; TensorRT-LLM's source is
    not readable here). Under EPLB (`redundant` R > 0) its MoE holds the target's ceil((E + R) / EP) slots: SGLang
    0.5.9 builds the NextN layer as a `DeepseekV2DecoderLayer(is_nextn=True)` (models/deepseek_nextn.py:112-120)
    whose `DeepseekV2MoE` takes E + R experts from the one global `ep_num_redundant_experts`
    (models/deepseek_v2.py:420-423), the draft worker reusing the target's expert location map (it skips
    `set_global_expert_location_metadata` and the EPLB manager, model_executor/model_runner.py:457, :481); vLLM
    0.12.0 builds its MTP layer with the target's `vllm_config` (v1/spec_decode/eagle.py:969-971), whose
    `eplb_config.num_redundant_experts` sizes the MoE (model_executor/models/deepseek_v2.py:276-282)."""
    grown = shape.model_copy(update={"num_layers": shape.num_layers + 1})
    layer = (weight_bytes_per_gpu(grown, tp, 1, dtype, ep, redundant)
             - weight_bytes_per_gpu(shape, tp, 1, dtype, ep, redundant))
    return layer + 2.0 * shape.hidden_size * shape.hidden_size / tp * ACT_BYTES


def kind_params(shape: TransformerShape, tp: int, pp: int, shards: float) -> dict[str, float]:
    """Parameters of each GEMM kind (`ops.precision.SCOPE_KINDS`) on one GPU of the heaviest stage, `shards` the
    routed experts' split beyond TP (`weight_bytes_per_gpu`): attention (the QKV / MLA projections) and its output
    projection on every layer, the dense MLP on the dense layers (every layer of a dense model), the shared and
    routed experts on the routed layers. The router is in none."""
    held = float(ops_params.stage_layers(shape.num_layers, pp))
    routed_layers = float(ops_params.routed_stage_layers(shape, pp)) if shape.is_moe else 0.0
    width = shape.v_head_dim if shape.is_mla else shape.head_dim
    output = shape.num_heads * width * shape.hidden_size / tp
    dense = shape.layer_kinds()[-1][0]  # the dense-FFN layers' kind (the model itself where all layers are alike)
    return {"attention": held * (float(ops_params.attention_params_local(shape, tp)) - output),
            "attention_output": held * output,
            "dense_mlp": (held - routed_layers) * dense.expert_params() / tp,
            "shared_experts": routed_layers * shape.shared_expert_params() / tp,
            "routed_experts": float(ops_params.local_expert_params(shape, tp, pp, shards))}


def workspace_bytes(shape: TransformerShape, tp: int, token_budget: int, max_batch: int) -> float:
    """Transient activations of the largest iteration: one layer's widest tensors, fp32 logits."""
    width = float(ops_params.workspace_width(shape, tp))
    return token_budget * width * ACT_BYTES + max_batch * shape.vocab_size / tp * 4.0


@dataclass(frozen=True)
class KvCapacity:
    """Memory plan of one replica (per GPU of its heaviest stage) and the KV blocks it holds. `kv_bytes_per_token`
    is what one pooled token costs (sliding layers: `serving.kv_pool_trtllm`, `serving.kv_pool_window`)."""

    weights_bytes: float
    workspace_bytes: float
    reserve_bytes: float
    usable_bytes: float
    kv_cache_bytes: float
    kv_bytes_per_token: float
    block_tokens: int
    blocks: int
    window_sequences: int = 0  # sequences whose sliding-layer windows are held back (`kv_pool_window`); 0: none

    @property
    def tokens(self) -> int:
        return self.blocks * self.block_tokens

    @property
    def fits(self) -> bool:
        return self.blocks > 0


def kv_capacity(shape: TransformerShape, accelerator: Accelerator, tp: int, pp: int, dtype: str, kv_dtype: str,
                token_budget: int, max_batch: int, block_tokens: int = BLOCK_TOKENS,
                engine: str | ServingEngine | None = None, ep: int = 1, draft_layers: int = 0, running: int = 0,
                shortest_tokens: int = 0, redundant: int = 0) -> KvCapacity:
    """KV blocks of one replica: the engine's share of memory for the cache (`serving.engines`) over block size.

    `usable_bytes` is what weights, workspace, reserve and KV cache together may take under that rule (TensorRT-LLM
    and SGLang: the whole device; vLLM: its `gpu_memory_utilization` share). `ep` > 1 (wide EP): each GPU holds
    E / (ep x TP) whole experts (E + `redundant`, a stack's EPLB copies: `weight_bytes_per_gpu`) and the KV cache
    of its own attention-DP rank (MLA: the latent, whole per rank).
    `draft_layers` (`serving.speculative.memory_draft_layers`): the MTP / EAGLE draft layers' weights
    (`draft_layer_bytes`) and one more layer of KV per pooled token for each come out of the pool (TensorRT-LLM,
    vLLM); SGLang sizes its pool over the target alone and reserves for the draft in its fraction instead
    (`serving.sglang_memory.mem_fraction_static`, `drafts`).
    `running`, `shortest_tokens` (0: unknown): the sequences the workload runs on one GPU at once and its shortest
    sequence (prompt + output): a sliding-window model's windows are held for at most as many sequences as can run
    (`serving.kv_pool_window.window_sequences`), not for every slot of the batch cap.
    """
    rule = load_engine(engine)
    static_pool = rule.kv_convention not in ("free_after_weights", "of_total")  # SGLang's: drafts outside it
    pooled_drafts = 0 if static_pool else draft_layers
    weights = (weight_bytes_per_gpu(shape, tp, pp, dtype, ep, redundant)
               + pooled_drafts * draft_layer_bytes(shape, tp, dtype, ep, redundant))
    workspace = workspace_bytes(shape, tp, token_budget, max_batch)
    reserve = RUNTIME_RESERVE_BYTES
    if rule.engine == "trtllm" and kv_pool_trtllm.NVIDIA_MEMORY_MODEL:  # AIConfigurator's memory model
        workspace = kv_pool_trtllm.activation_bytes(shape, tp, token_budget, ep)
        reserve = kv_pool_trtllm.reserve_bytes(tp)
    free = rule.kv_cache_bytes(accelerator.memory_bytes, weights, workspace, reserve, tp, pp, ep, draft_layers > 0)
    usable = rule.usable_bytes(accelerator.memory_bytes, tp, pp, ep)
    per_token = kv_bytes_per_token(shape, tp, pp, kv_dtype)
    full = free  # what the full-attention layers' tokens get (the sliding layers' windows held back first)
    held = kv_pool_window.window_sequences(shape, free, per_token, max_batch, running, shortest_tokens)
    windows = 0
    if rule.engine == "trtllm" and kv_pool_trtllm.NVIDIA_MEMORY_MODEL:
        full, per_token = kv_pool_trtllm.window_capped_pool(shape, free, per_token, held)
        windows = held if full != free else 0
    elif rule.engine == "vllm":  # hybrid KV cache manager (`serving.kv_pool_window`)
        full, per_token = kv_pool_window.vllm_window_pool(shape, free, per_token, held, block_tokens)
        windows = held if full != free else 0
    elif rule.engine == "sglang":  # hybrid SWA memory pool (`serving.kv_pool_window`)
        per_token = kv_pool_window.sglang_token_bytes(shape, per_token)
    per_token += pooled_drafts * kv_bytes_per_token_layer(shape, tp, kv_dtype)  # the draft layer's own cache
    blocks = max(int(full // (per_token * block_tokens)), 0)
    return KvCapacity(weights, workspace, reserve, usable, max(free, 0.0), per_token, block_tokens, blocks, windows)


def blocks_for(tokens, block_tokens: int):
    """Blocks a request of `tokens` (prompt + output) reserves: ceil(tokens / block), numpy or int."""
    return -(-tokens // block_tokens)


FP8_KV_CONTEXT_FMHA = True  # fp8-cache context FMHA at the measured ratio (module docstring; toggle to compare)


def context_fmha_speedup(shape: TransformerShape, accelerator: Accelerator, stack: str, kv_dtype: str) -> float:
    """Prefill attention rate over the catalog's fused-attention rate (module docstring): the accelerator's
    measured `fp8_kv_context_attention_ratio` where the cache is fp8, the heads are 128 wide without MLA (the
    measured kernels: `hardware.fp8_attention`) and the stack's profile runs its FP8 context FMHA
    (`fp8_kv_context_fmha`), else 1."""
    ratio = fp8_attention_speedup(accelerator.efficiency.fp8_kv_context_attention_ratio, shape)
    if not (FP8_KV_CONTEXT_FMHA and kv_dtype == "fp8" and ratio != 1.0):
        return 1.0
    profile = serving_profile(stack)
    return ratio if profile is not None and profile.fp8_kv_context_fmha else 1.0
