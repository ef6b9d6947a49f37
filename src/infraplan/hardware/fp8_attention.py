"""fp8 fused attention's speed-up over the bf16 fused-attention rate, one rule for prefill (serving) and training.

The catalog's `fp8_kv_context_attention_ratio` (`KernelRates.fp8_attention_ratio`) is a measurement of one kernel
family at one head shape: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0), systems/data/
{h100_sxm,h200_sxm}/attention/trtllm/1.3.0rc20/context_attention_perf.parquet, TensorRT-LLM's FP8 context FMHA over an
fp8 cache against its bf16 FMHA over a bf16 cache, head dim 128, no window, ISL 4,096-32,768: 1.32x on H100 / H200
(quartiles 1.26-1.38), 1.20x on B200 (the catalog files' `source`). The same tables give head dim 64 1.14x (0.75 with
a 128-token window), and MLA's context kernels are other tables (`serving.kv_cache`'s docstring), so the ratio holds
where it was measured only: 128-wide heads (`ATTENTION_REFERENCE_HEAD_DIM`) without MLA; elsewhere the fp8 kernel
is priced at the bf16 rate (ratio 1; its casts, where the caller prices them, stay).

The kernels run at those other shapes, so ratio 1 rather than a refusal: Transformer Engine 2.14 runs fp8 dot-product
attention on cuDNN's FP8 fused attention for MLA's unequal q/k and v heads (DeepSeek-V3: 192 / 128;
pytorch/attention/dot_product_attention/utils.py:605-615 keeps FusedAttention for MLA in the hd_hd_hd layouts,
sbhd_sbhd_sbhd included, and :832-837 drops it for fp8 MLA only under context parallelism, where FlashAttention 2/3
(:473-479) and the unfused path (:481-487) are dropped for fp8 too: no backend, dot_product_attention.py:1431).
Which head dims cuDNN's FP8 engine accepts is decided in TE's C++ (`nvte_get_fused_attn_backend`), not readable here:
recalled (ASSUMPTION) head_dim_qk, head_dim_v <= 256 and multiples of 16 on sm90 from cuDNN 9.7, <= 128 on sm100.

Readers: `serving.kv_cache.context_fmha_speedup` (prefill over an fp8 cache, where the stack runs the FP8 context
FMHA) and `training.attention_core` (fp8 dot-product attention). Toggle `FP8_ATTENTION_MEASURED_HEADS` (False: the
ratio at every head shape: training's pricing before hU session 56; serving's rule, which held the restriction in
`serving.kv_cache`, moves with it).
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.hardware.kernels import ATTENTION_REFERENCE_HEAD_DIM

FP8_ATTENTION_MEASURED_HEADS = True  # the measured ratio at the measured head shape only (module docstring)


def fp8_attention_speedup(ratio: float | None, shape: TransformerShape) -> float:
    """fp8 fused attention's rate over the bf16 fused-attention rate for `shape`'s heads: the accelerator's
    measured `ratio` (catalog `fp8_kv_context_attention_ratio`; None: 1) at head dim 128 without MLA, else 1."""
    if not ratio:
        return 1.0
    measured = shape.attention_head_dim == ATTENTION_REFERENCE_HEAD_DIM and not shape.is_mla
    return float(ratio) if measured or not FP8_ATTENTION_MEASURED_HEADS else 1.0
