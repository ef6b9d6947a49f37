"""DeepSeek Sparse Attention (DeepSeek-V3.2) in a serving iteration: the lightning indexer over every cached key and
the MLA core over the `index_topk` selected ones, priced on the roofline (`ops.sparse_attention` has what the layer
runs and the sources: vLLM 0.12.0 / SGLang 0.5.6).

Per layer of one GPU (the indexer is replicated over TP, the core runs the local heads):
* decode, per cached token of a row (`token_s`): the indexer reads its fp8 key (132 B) once per row and scores it
  for each of the row's queries (1 + K with K speculative tokens, `serving.speculative.decode_query_layers`):
  2 x index_n_heads x index_head_dim FLOPs at the fp8 rate (`ops.sparse_attention.indexer_score_flops_per_s`: 2 x
  the fused-attention rate; 1 x on a part without fp8 tensor cores) and an fp32 logit written and read by the
  top-k (8 B): the larger of bytes over the memory rate and FLOPs over that rate;
* decode, per row (`row_s`): each query's core attends `index_topk` gathered latents (656 B each in the fp8 format,
  1,152 B in bf16), whatever the context (the kernel runs topk indices per query, invalid ones masked:
  flashmla_sparse.py:276-277, :337), absorbed: 2 (2 kv_lora + rope) FLOPs per key and local head, the heads padded
  to the kernel's tile (64 on Hopper: TP8's 16 heads run as 64) at the fused-attention rate; bytes or FLOPs,
  whichever binds. ASSUMPTION: a context shorter than topk pays topk, as the kernel's fixed work per query says;
* prefill, per (query, key) pair (`pair_s`): the indexer's scores and logit bytes as above; per prompt token
  (`prefill_token_s`): the core over topk keys (absorbed, as decode: the sparse kernels run MQA 576 / 512 for both,
  flashmla_sparse.py:485-486), the pairs of a prompt shorter than topk at topk too (ASSUMPTION, as above);
* launches: the indexer op's kernels a layer forward beside the attention op's own, per engine family and phase
  (`INDEXER_OP_KERNELS`: a decode call, a prefill call, a mixed iteration's call), over every forward of a layer that
  holds an indexer. `launches_s` (decode, in `decode_fixed_s`) and `prefill_launches_s` (in `prefill_fixed_s`) each
  hold a call's kernels, and `shared_launches_s` = decode + prefill - mixed is what a mixed iteration pays once
  (`IterationCost.shared_fixed_s`; hQ62).
  vLLM 0.12.0 `sparse_attn_indexer` (deepseek_v2.py:603-764): once a call the key quantise-and-cache (:645) and the
  top-k buffer fill (:653); per prefill chunk the cached keys' gather (:667), the logits (:679) and `top_k_per_row`
  (:691) (ASSUMPTION: one chunk an iteration, the chunks split only past 2 x max_model_len of keys,
  v1/attention/backends/mla/indexer.py:177-212); in decode the paged logits (:731) and `top_k_per_row_decode`
  (:744); the paged logits' schedule is built once a step, not a layer (indexer.py:339). Each DeepGEMM logits call is
  two launches: its logits kernel and `smxx_clean_logits`, which writes -inf past each row's key range, run where
  `clean_logits` (DeepGEMM as sgl-kernel 0.3.18.post2 bundles it, the one SGLang 0.5.6 pins: the op schemas
  `fp8_mqa_logits(..., bool clean_logits=True)` and `fp8_paged_mqa_logits(..., bool clean_logits)` in
  deep_gemm_cpp.abi3.so, the kernel deep_gemm/include/deep_gemm/impls/smxx_clean_logits.cuh:10-65, a JIT kernel of
  its own beside sm90_fp8_mqa_logits / sm90_fp8_paged_mqa_logits); vLLM takes the prefill default (True,
  vllm/utils/deep_gemm.py:243) and passes True in decode (:308). So 5 a decode call, 6 a prefill call, 9 a mixed one
  (hQ62's 4 / 5 / 7 and a clean kernel a logits call). Its bytes (hM63): the kernel writes a 4 B -inf to every logit
  of a row outside its key range and reads none (`ops.sparse_attention.CLEAN_LOGIT_BYTES`), and the paged logits are
  sized [queries, max_model_len] (vllm/utils/deep_gemm.py:267-308 "Logits tensor of shape [B * next_n,
  max_model_len]", deepseek_v2.py:731-739), so a decode query writes 4 B x (max_model_len - context) a layer forward:
  + 4 B x max_seq_len (the config's context, vLLM's default max_model_len; V3.2 163,840: 655 KB) on `row_s` and - 4 B
  on `token_s`, per query layer (`query_layers`, as the logit bytes), over the memory rate, where the family's decode
  runs it (`IndexerCalls.clean_decode`: vLLM, and TensorRT-LLM as vLLM, ASSUMPTION; SGLang passes False);
  `CLEAN_KERNEL_PRICED` toggles. The prefill call's clean pass (hC64): its logits are [chunk queries, the chunk's
  keys of every prompt] (deepseek_v2.py:656-691, each row's prompt range valid), so p_tok x keys - pairs masked
  logits an iteration (one prompt's chunk of c tokens: c (c - 1) / 2), keys = its prompts' cached + chunk tokens,
  which the loops carry (`IterationCost.prefill_clean_s`, per masked logit: 4 B over the layers whose prefill call
  runs it, `IndexerCalls.clean_prefill`).
  SGLang 0.5.6 (srt/layers/attention/nsa/nsa_indexer.py, `Indexer.forward_cuda` :784-941; CUDA, Hopper, its
  defaults SGLANG_NSA_FUSE_TOPK and SGLANG_NSA_DUAL_STREAM on, nsa/utils.py:13-14): once a call the key's fp8 cache
  write, one Triton kernel (:860-865, index_buf_accessor.py:225-258); decode (`_get_topk_paged`, :270-331): the
  paged logits' schedule, a kernel a layer (`deep_gemm.get_paged_mqa_logits_metadata`, :302-304), the paged logits
  with `clean_logits=False` (:318-327: one launch) and the fused top-k + page transform
  (nsa_backend.py:205-214, `fast_topk_transform_fused`): 4. Prefill (`_get_topk_ragged`, :352-457) per prompt: the
  cached keys gathered in torch (`GetK.torch_fast`, index_buf_accessor.py:40-65: a multiply, an arange, an add, the
  gather; `GetS.torch_fast` :95-119 for the scales: a multiply, an arange, two adds, the gather) and the prompt's
  key range (`torch.full` :399, an add :402): 11; then four `torch.cat` (:411-415), the logits with
  `clean_logits=False` (:438-445), the fused ragged top-k (nsa_backend.py:215-222), the output's `torch.full`
  (:450-455) and its copy (:456): 8. The key side of the prologue (`k_norm`, its Hadamard rotation, its fp8 cast:
  :202, :243, :848) runs on a second stream only where the forward is captured in a CUDA graph (:805-811: decode), so
  a prefill call carries those 3 on the critical path: 1 + 11 + 8 + 3 = 23 a prefill call with one sequence. A mixed
  batch (`ForwardMode.MIXED`, an extend without speculation, forward_batch_info.py:96-104, :163-168) runs the prefill
  path for every row, its decode rows among the sequences: 23, no decode call. Each further sequence of the batch is
  11 more (`IndexerCalls.per_sequence`, hM63), over the target layers (the draft's pass over the prompt is a
  DRAFT_EXTEND, the paged path: :881-888, 0.5.9 :1070-1072, so it is charged a decode call's launches,
  `IndexerCalls.paged_draft_prompt`; it was a prefill call's, 19 too many: lead, session 63): `prefill_row_s` a sampled
  row past the first of an iteration holding prefill tokens (`IterationCost.prefill_row_s`), so 12 + 11 x max(rows, 1) a
  layer (rows: decode rows and every prompt chunk, finished or not: each is a sequence of the extend batch, hC66).
  An extend whose longest sequence (cached + new) is <= index_topk takes the key-only path (:817-836,
  `_forward_cuda_k_only` :513-552) and, on SM90 / SM100, dense MHA attention: `short_prefill` (hC64; a mixed
  batch's decode rows, the cached keys' decompression, the skipped query side and the 128k cap: hO64). SGLang 0.5.9
  differs (the paged schedule from the step's metadata where set, nsa_indexer.py:378-385; one fused K + scale gather a
  prompt, :520-535; hM63's notes): a profile's `dsa_indexer_release` names the release counted
  (`RELEASE_OP_KERNELS`: 0.5.9 decode 3 + its captured head gate's 2 eager scalings, prefill and mixed 7 + 3 key
  side + 1 a further sequence; `engine_kernels.indexer_release`); unset (sglang-0.x), the family's.
  TensorRT-LLM: its DSA path is not readable here (the PyPI wheel 1.2.1 is a stub); ASSUMPTION: vLLM's counts, as for
  an engine family not listed.
  The draft (MTP) layer holds an indexer: vLLM 0.12.0 deepseek_mtp.py:73-94 (`is_v32`: its `mtp_block`, a
  DeepseekV2DecoderLayer, gets the top-k buffer, so its attention builds an `Indexer`, deepseek_v2.py:1036-1054, with
  a cache of its own that the proposer feeds, v1/spec_decode/eagle.py:960-982); SGLang 0.5.6 deepseek_nextn.py:109-117,
  deepseek_v2.py:1252-1267, :1913 (0.5.23 too: its nextn layer reuses a carried top-k only where the config sets
  `index_share_for_mtp_iteration`, the glm5_next / qwen4_exp configs, not DeepSeek-V3.2's:
  speculative/eagle_worker_v2.py:300-322, models/deepseek_common/attention_forward_methods/forward_mla.py:146-165).
  It runs once per draft token of a decode step (the first forward over the verified positions, K - 1 more:
  eagle.py:327, :411, :507; SGLang 0.5.6 eagle_worker.py:303-306, :615-624), as its key reads do (`kv_layers`), and
  once over the prompt (`prompt_layers`): with K draft tokens a decode call's kernels x (61 + K) a decode step and a
  prefill call's x 62 a prefill (hJ62's S4, hN62). A mixed iteration's calls over both phases are the prompt's
  (`prompt_layers`: the target layers and the draft's first forward, which runs over the whole batch, eagle.py:327);
  its K - 1 later draft forwards are decode calls: vLLM 9 x 62 + 5 (K - 1) launches. What the indexer runs before its
  op (vLLM deepseek_v2.py:864-899) is the layer body's: its three projections GEMMs of `ops.mla_gemms`, its
  element-wise passes `serving.engine_kernels` (`INDEXER_PROLOGUE_KERNELS`, hU62; SGLang's per engine, hC63).
The dense MLA's measured decode kernels (`serving.mla_decode.measured_fit`) are not this kernel: a DSA model keeps
the roofline. Against dense MLA at a 128k context, a TP8 H200 decode row reads 17 MB of indexer keys a layer instead
of 75 MB of latent (tests/serving/test_sparse_decode_hI60.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.sparse_attention import (
    CLEAN_LOGIT_BYTES,
    HEAD_TILES,
    LOGIT_BYTES,
    absorbed_key_flops,
    index_cache_bytes,
    indexer_pair_flops,
    indexer_prologue_bytes,
    indexer_score_flops_per_s,
    is_sparse,
    latent_cache_bytes,
    padded_heads,
)
from infraplan.serving import engine_kernels, speculative
from infraplan.serving.deployment import Deployment


class IndexerCalls(NamedTuple):
    """Launches of the indexer op a layer forward, per call kind (module docstring)."""

    decode: float  # a decode-only call
    prefill: float  # a prefill-only call
    mixed: float  # a call over a mixed batch
    clean_decode: bool = False  # the paged logits run DeepGEMM's clean kernel (`clean_logits`: its bytes, docstring)
    per_sequence: float = 0.0  # a prefill call's launches for each sequence of its batch past the first (hM63)
    paged_draft_prompt: bool = False  # the draft layer's pass over the prompt runs the paged (decode) call (docstring)
    key_only: float = 0.0  # a short extend's key-only call (`short_prefill`, hC64); 0: the engine has no short path
    clean_prefill: bool = False  # the prefill logits run DeepGEMM's clean kernel (its -inf writes: docstring, hC64)


# per engine family (module docstring); a family not listed: vLLM's
INDEXER_OP_KERNELS: dict[str, IndexerCalls] = {
    "vllm": IndexerCalls(decode=5.0, prefill=6.0, mixed=9.0, clean_decode=True,  # 2 a call; 2 + 1; 1 + 2 + 1 a chunk
                         clean_prefill=True),
    "sglang": IndexerCalls(decode=4.0, prefill=23.0, mixed=23.0, per_sequence=11.0,  # 1 + 3; 1 + 11 + 8 + 3
                           paged_draft_prompt=True, key_only=4.0),  # key side 3 + cache write
    "trtllm": IndexerCalls(decode=5.0, prefill=6.0, mixed=9.0, clean_decode=True,  # ASSUMPTION: vLLM's
                           clean_prefill=True),
}
# per release a profile names (`dsa_indexer_release`, hM63; docstring): SGLang 0.5.9 decode 3 + the captured head
# gate's 2 eager scalings; prefill 7 + 1 a sequence + 3 key side
RELEASE_OP_KERNELS: dict[str, IndexerCalls] = {
    "sglang-0.5.6": INDEXER_OP_KERNELS["sglang"],
    "sglang-0.5.9": IndexerCalls(decode=5.0, prefill=11.0, mixed=11.0, per_sequence=1.0, paged_draft_prompt=True,
                                 key_only=4.0),
}
# the parts whose SGLang short extend runs dense MHA (`set_nsa_prefill_impl`: SM90, SM100-109): the sparse kernel's
MHA_SHORT_PARTS = frozenset(HEAD_TILES)  # Hopper / Blackwell parts (`ops.sparse_attention.HEAD_TILES`)
MHA_KEY_CAP = 128 * 1024  # the dense path's cap on the batch's keys, sum(seq_lens_cpu) (`short_prefill`, hO64)
KEY_ONLY_INDICES = 2.0  # the key-only call's zero logits and top-k transform where the MLA core needs indices
# the dense path's cached-key gather a target layer, by cache dtype (`prefix_key_s`, hC65): fp8, the dequantising
# Triton kernel (nsa/dequant_k_cache.py:221-235) and the latent's `.contiguous()` copy (deepseek_v2.py:2802); bf16,
# `get_mla_kv_buffer_triton` (mem_cache/memory_pool.py:1562)
GATHER_KERNELS = {"fp8": 2.0, "bf16": 1.0}
# and once a batch: bf16's key indices (`fetch_mha_one_shot_kv_indices`, forward_batch_info.py:1014-1040, kept on the
# batch after the first layer): torch.zeros, torch.cumsum (CUB's init and scan kernels), the int64 -> int32 copy into
# kv_indptr, the Triton `create_flashinfer_kv_indices_triton`; fp8 reads the metadata's page table (hC66)
INDEX_BUILD_KERNELS = {"fp8": 0.0, "bf16": 5.0}
# and once a batch on that path whatever its keys: fp8's page table flattened for the dequantisation, one `torch.cat`
# of per-sequence views in the backend's metadata (nsa_backend.py 0.5.6 :466-487, 0.5.9 :555-575; hC67)
PAGE_TABLE_KERNELS = {"fp8": 1.0, "bf16": 0.0}
PAGE_TABLE_PRICED = True  # `PAGE_TABLE_KERNELS` priced (toggle to compare)
SHORT_PREFILL = True  # SGLang's short extend path priced (`short_prefill`; hC64; toggle to compare)
CLEAN_KERNEL_PRICED = True  # the decode clean kernel's -inf writes (module docstring; hM63; toggle to compare)


def indexer_calls(engine: str, release: str | None = None) -> IndexerCalls:
    """The indexer op's launches a layer forward as `release` runs them where named (`RELEASE_OP_KERNELS`), else
    for `engine`'s family (`INDEXER_OP_KERNELS`, else vLLM's)."""
    if release:
        return RELEASE_OP_KERNELS[release]
    return INDEXER_OP_KERNELS.get(engine, INDEXER_OP_KERNELS["vllm"])


@dataclass(frozen=True)
class SparseTerms:
    """Seconds a DSA model's attention adds to an iteration's cost tables (`serving.llm_iteration`)."""

    token_s: float  # per cached token of a decode row (the indexer; less the clean kernel's write it spares)
    row_s: float  # per decode row (the core over topk keys; the clean kernel's write of a max_seq_len row)
    pair_s: float  # per prefill (query, key) pair (the indexer)
    prefill_token_s: float  # per prefill token (the core over topk keys)
    launches_s: float  # the indexer's launches in a decode step: the layers and the draft layer's K forwards
    prefill_launches_s: float  # the indexer's launches in a prefill: the layers and the draft layer over the prompt
    shared_launches_s: float  # the once-a-call part of both that a mixed iteration pays once (module docstring)
    prefill_row_s: float = 0.0  # a prefill's launches per sampled row past the first (`IterationCost.prefill_row_s`)
    prefill_clean_s: float = 0.0  # per masked prefill logit (`IterationCost.prefill_clean_s`, hC64)


def sparse_terms(shape: TransformerShape, accelerator: Accelerator, rates: KernelRates, dep: Deployment,
                 layers: float, kv_layers: float, prompt_layers: float) -> SparseTerms | None:
    """The DSA terms of one virtual engine over `layers` layers (`kv_layers` with the draft layer's forwards of a
    decode step, each reading its cache, `prompt_layers` with the draft layer over the prompt), or None for a model
    without it (module docstring)."""
    if not is_sparse(shape):
        return None
    fp8_rate = indexer_score_flops_per_s(rates.attention_flops_per_s, rates.fp8_tensor_cores)  # 1x without fp8
    bandwidth = rates.memory_bytes_per_s
    query_layers = speculative.decode_query_layers(dep, layers)
    score = indexer_pair_flops(shape)
    calls = indexer_calls(dep.engine, engine_kernels.indexer_release(dep.engine, dep.stack))
    # the clean kernel's -inf over each decode query's logits row past its context: (max_len - context) x 4 B
    clean = CLEAN_LOGIT_BYTES * query_layers / bandwidth if CLEAN_KERNEL_PRICED and calls.clean_decode else 0.0
    token_s = max((index_cache_bytes(shape) * kv_layers + LOGIT_BYTES * query_layers) / bandwidth,
                  score * query_layers / fp8_rate) - clean
    heads = padded_heads(shape.num_heads / dep.tp, accelerator.catalog_name)
    topk = float(shape.index_topk)
    key_s = max(latent_cache_bytes(shape, DTYPE_BYTES[dep.kv_dtype]) / bandwidth,
                absorbed_key_flops(shape) * heads / rates.attention_flops_per_s)
    pair_s = max(LOGIT_BYTES / bandwidth, score / fp8_rate) * prompt_layers
    launch_s = rates.kernel_overhead_s
    return SparseTerms(token_s=token_s, row_s=topk * key_s * query_layers + clean * shape.max_seq_len, pair_s=pair_s,
                       prefill_token_s=topk * key_s * prompt_layers,
                       launches_s=calls.decode * launch_s * kv_layers,
                       prefill_launches_s=(calls.prefill * layers + (prompt_layers - layers)  # (the draft's pass)
                                           * (calls.decode if calls.paged_draft_prompt else calls.prefill)) * launch_s,
                       shared_launches_s=(calls.decode + calls.prefill - calls.mixed) * launch_s
                       * min(kv_layers, prompt_layers), prefill_row_s=calls.per_sequence * launch_s * layers,
                       prefill_clean_s=CLEAN_LOGIT_BYTES / bandwidth * (layers if calls.paged_draft_prompt else
                                                                       prompt_layers)
                       if CLEAN_KERNEL_PRICED and calls.clean_prefill else 0.0)


def short_extend(short_len: int, p_tok: Any, longest: Any, keys: Any, d: Any, sum_ctx: Any) -> Any:
    """Whether an iteration of `p_tok` prefill tokens and `d` decode rows of `sum_ctx` cached tokens runs SGLang's
    short extend (`short_prefill`): prefill tokens, its longest sequence (cached + chunk, a decode row's context + 1)
    <= `short_len` and its keys (the prompts' cached + chunk, the decode rows' context + 1) <= `MHA_KEY_CAP`. The one
    test of the loops (ints, `engine_loop.engine_steps`, `loop_stepping.iteration_seconds`) and of
    `IterationCost.time` (arrays); a decode row past the limit is the loops' own check (`loop_stepping.decode_within`).
    """
    return (p_tok > 0) & (longest <= short_len) & (keys + (sum_ctx + d) * (d > 0) <= MHA_KEY_CAP)


def short_prefill_s(terms: tuple[float, float, float], prefill_row_s: float, rows: Any) -> tuple[Any, float, float]:
    """(seconds once, per pair, per prefill token) a prefill iteration of `rows` sampled rows (an int in the loops, an
    array in `IterationCost.time`) changes by on SGLang's short path (`short_prefill`'s `terms`, an `IterationCost`'s
    `short_prefill_terms`): its terms, the per-row launches (`prefill_row_s`) dropped."""
    per_pair, per_token, fixed = terms
    if isinstance(rows, int):
        return fixed - prefill_row_s * (rows - 1 if rows > 1 else 0), per_pair, per_token
    return fixed - prefill_row_s * np.maximum(np.asarray(rows) - 1, 0), per_pair, per_token


def short_prefill(shape: TransformerShape, accelerator: Accelerator, rates: KernelRates, dep: Deployment,
                  dsa: SparseTerms, mha_pair_s: float, layers: float, prompt_layers: float, bmm_fixed_s: float = 0.0
                  ) -> tuple[int, tuple[float, float, float], tuple[float, float, float, float], float]:
    """SGLang's short extend (hC64): (the longest sequence, cached + chunk, up to which it runs, its (per pair, per
    prefill token, once) seconds against the long path's, the extend terms below, the cached keys' gathers' launches
    once an iteration whose batch holds any: `GATHER_KERNELS` a target layer, hC65, and bf16's index build once,
    `INDEX_BUILD_KERNELS`, hC66), or (0, zeros) where the engine has none.

    An extend without speculation whose batch's longest sequence is <= index_topk (`seq_lens_cpu.max()`) runs the
    indexer's key-only call (0.5.6 srt/layers/attention/nsa/nsa_indexer.py:817-836, `_forward_cuda_k_only`
    :513-552; 0.5.9 :959-966, :647-692): wk, k_norm, the rope, the Hadamard rotation, the fp8 cast and the cache
    write, no query side, head gate, logits or per-sequence gathers. On SM90 / SM100 with an fp8 / bf16 cache and
    at most 128k keys in the batch the attention runs dense MHA_ONE_SHOT (nsa_backend.py `set_nsa_prefill_impl`
    0.5.6 :1429-1456, 0.5.9 :2021-2057; models/deepseek_v2.py:414-422, :2709-2731, FA3 varlen on SM90,
    nsa_backend.py:1289-1340), whose prepare calls the indexer with return_indices=False (deepseek_v2.py:1620-1631):
    `mha_pair_s` (the dense MLA prefill's pair, the rule every MLA model's prefill takes) over the target layers in
    place of the indexer's pairs and the top-k core per token. Elsewhere the MLA core stays and the key-only call
    adds a zero logits tensor and the top-k transform (:543-552). The draft layer's pass over the prompt is a
    DRAFT_EXTEND (the paged call: unchanged). Launches a target layer: the op's `key_only` (+ 2 with indices) in place
    of its `prefill` and the per-sequence ones (`IterationCost.prefill_row_s`), less the query side's passes
    (`engine_kernels.indexer_query_launches`), and the query side's GEMMs and bytes per prompt token (`query_side_s`,
    hO64).

    The third tuple (hO64, `IterationCost.short_extend_terms`): (per decode-row pair, per cached key) seconds, the
    share of the decode rows' own attention (`IterationCost.decode_row_s`) they keep, and seconds once with decode
    rows. A MIXED batch is an extend too (forward_batch_info.py:96-104, :163-168) whose `seq_lens_cpu` holds
    its decode rows' context + 1 (`mix_with_running` -> `merge_batch` concatenates the running batch's seq_lens_cpu
    after `prepare_for_decode` added 1: 0.5.6 managers/schedule_batch.py:1507-1536, :1755-1760, :1858; 0.5.9 :1770-1799,
    :2005-2010, :2135), so they count in the max and in the 128k cap (`sum(seq_lens_cpu) <= get_max_chunk_capacity()`,
    128 x 1,024: forward_batch_info.py:672-675; `MHA_KEY_CAP`). On the dense path a decode row is one more query of
    the MHA: its pairs (context + 1) at `mha_pair_s`, no indexer scores (`kv_token_s` dropped), no top-k core and
    no absorbed W_UK / W_UV BMMs (`forward_normal_prepare` up-projects through kv_b_proj, deepseek_v2.py:1600-1711;
    the BMMs are `forward_absorb_prepare`'s, :1893, and the absorbed core's, :2075; "Decode/verify always use MLA",
    nsa_backend.py:1455): its whole `decode_row_s` share dropped (kept 0) and the measured BMM's once part
    (`mla_absorb`, `bmm_fixed_s`) with it (hC66); a prompt's row carries none on either path (hC65); no MHA: the
    key-only call's indices, the core and the BMMs stay (kept 1). With any cached prefix in the batch
    (`sum(extend_prefix_lens_cpu) != 0`, a decode row's always) the prepare gathers every key of the batch (the fp8
    cache dequantised to bf16, `dequantize_k_cache_paged` over `page_table_1_flattened`, seq_lens_sum rows; bf16: a
    gather) and runs kv_b_proj over all of them (0.5.6 deepseek_v2.py:1692-1711, :2759-2807; 0.5.9 deepseek_common/
    attention_forward_methods/forward_mha.py:213-245), then concatenates K and the MHA reads K and V: per cached key
    and target layer `prefix_key_s` (the new tokens' up-projection is the body's).
    The fp8 page table the dequantisation reads is built once a batch, not a layer: `init_forward_metadata` sets the
    path (`set_nsa_prefill_impl`, nsa_backend.py:350) and, with MHA over an fp8 cache, concatenates each sequence's
    row of the page table (:466-487; 0.5.9 :555-575), every short-path batch whatever its cached keys: one launch
    (`PAGE_TABLE_KERNELS`, in the once term; ASSUMPTION, recalled: PyTorch's CUDA cat copies up to 128 inputs a
    launch, more sequences than a batch of the validated sizes). Its bytes (int32 indices, 8 B a key read and
    written) are not priced: 1 MiB at 128k keys, 0.2 us at H200's HBM rate.
    """
    calls = indexer_calls(dep.engine, engine_kernels.indexer_release(dep.engine, dep.stack))
    if not (SHORT_PREFILL and calls.key_only):
        return 0, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), 0.0
    share = layers / prompt_layers  # the target layers' part of the prompt's forwards (the draft's stays)
    mha = accelerator.catalog_name in MHA_SHORT_PARTS and dep.kv_dtype in ("bf16", "fp8")
    per_pair = (mha_pair_s if mha else 0.0) - dsa.pair_s * share
    per_token = (-dsa.prefill_token_s * share if mha else 0.0) - query_side_s(shape, accelerator, rates, dep) * layers
    op = calls.key_only + (0.0 if mha else KEY_ONLY_INDICES)
    dropped = calls.prefill - op + engine_kernels.indexer_query_launches(shape, dep)
    # no MHA: the sparse core reads the latent (no decompression) over the key-only call's indices
    extend = ((mha_pair_s, prefix_key_s(shape, rates, dep) * layers, 0.0, -bmm_fixed_s) if mha
              else (0.0, 0.0, 1.0, 0.0))
    kernels = GATHER_KERNELS[dep.kv_dtype] * layers + INDEX_BUILD_KERNELS[dep.kv_dtype]
    gather = kernels * rates.kernel_overhead_s if mha else 0.0
    cat = PAGE_TABLE_KERNELS[dep.kv_dtype] if mha and PAGE_TABLE_PRICED else 0.0  # once, cached keys or not
    once = cat * rates.kernel_overhead_s - dropped * rates.kernel_overhead_s * layers
    return int(shape.index_topk), (per_pair, per_token, once), extend, gather


def query_side_s(shape: TransformerShape, accelerator: Accelerator, rates: KernelRates, dep: Deployment) -> float:
    """Seconds a prompt token's indexer query side costs a target layer in the body's tables, which the key-only call
    skips (hO64; `_forward_cuda_k_only` runs wk and the key's passes only, nsa_indexer.py:513-552): wq_b (2 q_lora x
    heads x dim FLOPs at the fp8 GEMM rate where the run is fp8, else bf16) and weights_proj (2 hidden x heads, bf16:
    0.5.6 feeds it fp32, priced bf16 as the body does) at their rates (ASSUMPTION: compute-bound, as at a prefill's
    token counts), and the prologue's query-side bytes (`ops.sparse_attention.indexer_prologue_bytes` less the key's
    LayerNorm and rotation, 2 x dim x 2 B) over the memory rate."""
    heads, dim = float(shape.index_n_heads), float(shape.index_head_dim)
    fp8 = dep.dtype == "fp8" and rates.fp8_tensor_cores
    q_rate = KernelRates.for_dtype(accelerator, "fp8").matmul_flops_per_s if fp8 else rates.matmul_flops_per_s
    bf16 = DTYPE_BYTES["bf16"]
    query_bytes = indexer_prologue_bytes(shape, bf16) - 2.0 * dim * bf16
    return (2.0 * shape.q_lora_rank * heads * dim / q_rate + 2.0 * shape.hidden_size * heads / rates.matmul_flops_per_s
            + query_bytes / rates.memory_bytes_per_s)


def prefix_key_s(shape: TransformerShape, rates: KernelRates, dep: Deployment) -> float:
    """Seconds a cached key of a short extend's batch costs a target layer on the dense path (`short_prefill`):
    kv_b_proj over its latent, bf16 (SGLang dequantises DeepSeek's block-fp8 kv_b at load, `serving.mla_absorb`):
    2 kv_lora x heads (nope + v) FLOPs at the GEMM rate or its latent read and its K / V written, whichever binds
    (ASSUMPTION: the weights read once, apart); and over the memory rate the latent's gather (fp8: its 656 B read
    and dequantised to bf16 (kv_lora + rope) x 2 B written; bf16: read and written), the K concatenation (nope read,
    rope read, nope + rope written per local head, `_concat_and_cast_mha_k`) and the MHA's one read of K and V
    (ASSUMPTION: once a key, as for a decode row's single query). With an fp8 cache the dequantised latent's 512
    columns are copied out (`kv_latent_bf16[:, :, :kv_lora_rank].squeeze(1).contiguous()`, 0.5.6
    deepseek_v2.py:2802): 2 x 512 x 2 B more. The gathers' launches are `short_prefill`'s (hC65).
    """
    heads = shape.num_heads / dep.tp
    lora, rope, v = shape.kv_lora_rank, shape.qk_rope_head_dim, shape.v_head_dim
    nope = shape.head_dim - rope  # (MLA: head_dim = nope + rope)
    bf16 = DTYPE_BYTES["bf16"]
    out = heads * (nope + v) * bf16
    bw = rates.memory_bytes_per_s
    gemm = max(2.0 * lora * heads * (nope + v) / rates.matmul_flops_per_s, (lora * bf16 + out) / bw)
    gather = latent_cache_bytes(shape, DTYPE_BYTES[dep.kv_dtype]) + (lora + rope) * bf16
    if dep.kv_dtype == "fp8":  # the latent's `.contiguous()` copy, read and written (deepseek_v2.py:2802; hC65)
        gather += 2.0 * lora * bf16
    concat = heads * nope * bf16 + rope * bf16 + heads * (nope + rope) * bf16
    read = heads * (nope + rope + v) * bf16
    return gemm + (gather + concat + read) / bw
