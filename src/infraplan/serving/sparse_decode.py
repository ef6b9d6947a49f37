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
* launches: the indexer's kernels a layer forward beside the attention op's own, as vLLM 0.12.0's
  `sparse_attn_indexer` runs them (deepseek_v2.py:603-764; DeepGEMM's logits kernels counted one launch each,
  ASSUMPTION): once per call whatever the phases, the key quantise-and-cache (:645) and the top-k buffer fill (:653)
  (`INDEXER_CALL_KERNELS`); per prefill chunk the cached keys' gather (:667), the logits (:679) and `top_k_per_row`
  (:691) (`INDEXER_PREFILL_KERNELS`; ASSUMPTION: one chunk an iteration, the chunks split only past 2 x max_model_len
  of keys, v1/attention/backends/mla/indexer.py:177-212); in decode the paged logits (:731) and
  `top_k_per_row_decode` (:744) (`INDEXER_DECODE_KERNELS`). So 4 a decode call, 5 a prefill call and 7 a mixed one:
  `launches_s` (decode, in `decode_fixed_s`) and `prefill_launches_s` (in `prefill_fixed_s`) each hold the call's
  kernels, and `shared_launches_s` is the per-call part a mixed iteration pays once
  (`IterationCost.shared_fixed_s`; hQ62, where hN62 charged 3 / 3 / 6). Over every forward of a layer that holds an
  indexer. The draft (MTP) layer holds one: vLLM 0.12.0 deepseek_mtp.py:73-94 (`is_v32`: its `mtp_block`, a
  DeepseekV2DecoderLayer, gets the top-k buffer, so its attention builds an `Indexer`, deepseek_v2.py:1036-1054, with
  a cache of its own that the proposer feeds, v1/spec_decode/eagle.py:960-982); SGLang 0.5.6 deepseek_nextn.py:109-117,
  deepseek_v2.py:1252-1267, :1913 (0.5.23 too: its nextn layer reuses a carried top-k only where the config sets
  `index_share_for_mtp_iteration`, the glm5_next / qwen4_exp configs, not DeepSeek-V3.2's:
  speculative/eagle_worker_v2.py:300-322, models/deepseek_common/attention_forward_methods/forward_mla.py:146-165).
  It runs once per draft token of a decode step (the first forward over the verified positions, K - 1 more:
  eagle.py:327, :411, :507; SGLang 0.5.6 eagle_worker.py:303-306, :615-624), as its key reads do (`kv_layers`), and
  once over the prompt (`prompt_layers`): with K draft tokens 4 (61 + K) launches a decode step and 5 x 62 a
  prefill (hJ62's S4, hN62). A mixed iteration's calls over both phases are the prompt's (`prompt_layers`: the
  target layers and the draft's first forward, which runs over the whole batch, eagle.py:327); its K - 1 later draft
  forwards are decode calls: 7 x 62 + 4 (K - 1) launches. What `Indexer.forward` runs before the op (deepseek_v2.py
  :864-899) is the layer body's: its three projections GEMMs of `ops.mla_gemms`, its key norm, ropes, query fp8 cast
  and head-weight scaling 4 element-wise launches of `serving.engine_kernels` (hU62).
The dense MLA's measured decode kernels (`serving.mla_decode.measured_fit`) are not this kernel: a DSA model keeps
the roofline. Against dense MLA at a 128k context, a TP8 H200 decode row reads 17 MB of indexer keys a layer instead
of 75 MB of latent (tests/serving/test_sparse_decode_hI60.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.sparse_attention import (
    LOGIT_BYTES,
    absorbed_key_flops,
    index_cache_bytes,
    indexer_pair_flops,
    indexer_score_flops_per_s,
    is_sparse,
    latent_cache_bytes,
    padded_heads,
)
from infraplan.serving import speculative
from infraplan.serving.deployment import Deployment

INDEXER_CALL_KERNELS = 2.0  # key quantise-and-cache, top-k buffer fill: once a call (module docstring)
INDEXER_PREFILL_KERNELS = 3.0  # the cached keys' gather, MQA logits, top-k per row: a prefill chunk's
INDEXER_DECODE_KERNELS = 2.0  # paged MQA logits, top-k per decode row


@dataclass(frozen=True)
class SparseTerms:
    """Seconds a DSA model's attention adds to an iteration's cost tables (`serving.llm_iteration`)."""

    token_s: float  # per cached token of a decode row (the indexer)
    row_s: float  # per decode row (the core over topk keys)
    pair_s: float  # per prefill (query, key) pair (the indexer)
    prefill_token_s: float  # per prefill token (the core over topk keys)
    launches_s: float  # the indexer's launches in a decode step: the layers and the draft layer's K forwards
    prefill_launches_s: float  # the indexer's launches in a prefill: the layers and the draft layer over the prompt
    shared_launches_s: float  # the once-a-call part of both that a mixed iteration pays once (module docstring)


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
    token_s = max((index_cache_bytes(shape) * kv_layers + LOGIT_BYTES * query_layers) / bandwidth,
                  score * query_layers / fp8_rate)
    heads = padded_heads(shape.num_heads / dep.tp, accelerator.catalog_name)
    topk = float(shape.index_topk)
    key_s = max(latent_cache_bytes(shape, DTYPE_BYTES[dep.kv_dtype]) / bandwidth,
                absorbed_key_flops(shape) * heads / rates.attention_flops_per_s)
    pair_s = max(LOGIT_BYTES / bandwidth, score / fp8_rate) * prompt_layers
    launch_s = rates.kernel_overhead_s
    return SparseTerms(token_s=token_s, row_s=topk * key_s * query_layers, pair_s=pair_s,
                       prefill_token_s=topk * key_s * prompt_layers,
                       launches_s=(INDEXER_CALL_KERNELS + INDEXER_DECODE_KERNELS) * launch_s * kv_layers,
                       prefill_launches_s=(INDEXER_CALL_KERNELS + INDEXER_PREFILL_KERNELS) * launch_s * prompt_layers,
                       shared_launches_s=INDEXER_CALL_KERNELS * launch_s * min(kv_layers, prompt_layers))
