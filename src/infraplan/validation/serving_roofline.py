"""The naive baseline of the Hopper serving sets: a roofline with one efficiency per metric fitted to the set.

TPOT = (a decode GPU's weights + its clients' KV cache read at the mean context, ISL + OSL / 2) / HBM bandwidth;
TTFT = one prompt's FLOPs (2 x active parameters x ISL, no attention) over the prefill GPUs / the peak at the
prefill deployment's dtype (fp8, nvfp4; native MXFP4 at the 8-bit rate; weight-only formats at bf16). Each is scaled
by the one efficiency that minimises the set's mean |error| (`fitted_scale`: a weighted median), so the baseline is
the best any single constant can do. Used by the dense (`validation.serving_hopper`), MoE / MLA
(`serving_hopper_moe`) and disaggregated (`serving_hopper_disagg`) sets and the Blackwell set (`serving_blackwell`);
moved here from `validation.serving_hopper`.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.serving.deployment import eight_bit_rate, mxfp4_weight_only
from infraplan.serving.kv_cache import kv_bytes_per_token, weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment

SYSTEMS = {"h100_sxm": "dgx-h100-superpod", "h200_sxm": "hgx-h200",  # the sets' `system` -> catalog system
           # Blackwell: `validation.serving_blackwell` (and B200 in `validation.frontier_silicon`)
           "b200_sxm": "dgx-b200", "b300_sxm": "dgx-b300", "gb200": "gb200-nvl72"}


def roofline_seconds(shape: TransformerShape, system: str, prefill: Deployment, decode: Deployment,
                     clients_per_rank: float, isl: int, osl: int) -> dict[str, float]:
    """The naive roofline at efficiency 1 of a row: TPOT = (a decode GPU's weights + its clients' KV read at the
    mean context) / bandwidth; TTFT = one prompt's FLOPs over the prefill GPUs / peak (fp8 or bf16)."""
    acc = Cluster.resolve(SYSTEMS[system]).accelerator
    step_bytes = (weight_bytes_per_gpu(shape, decode.tp, decode.pp, decode.dtype, decode.expert_shards)
                  + clients_per_rank * (isl + osl / 2.0)
                  * kv_bytes_per_token(shape, decode.tp, decode.pp, decode.kv_dtype))
    prompt_flops = 2.0 * shape.active_params(input_embedding=False) * isl / (prefill.tp * prefill.pp)
    rate_dtype = prefill.dtype if prefill.dtype in ("fp8", "nvfp4") else "bf16"  # weight-only formats: bf16
    if prefill.dtype == "mxfp4" and not mxfp4_weight_only(acc, "mxfp4"):
        rate_dtype = eight_bit_rate(acc)  # native MXFP4 x MXFP8 (`serving.deployment.eight_bit_rate`)
    return {"tpot_s": step_bytes / acc.memory_bandwidth_bytes_per_s, "ttft_s": prompt_flops / acc.peak(rate_dtype)}


def fitted_scale(work: np.ndarray, measured: np.ndarray) -> float:
    """The s minimising mean |s * work / measured - 1|: the median of measured/work weighted by work/measured."""
    r = work / measured
    target = 1.0 / r
    order = np.argsort(target)
    cum = np.cumsum(r[order])
    return float(target[order][np.searchsorted(cum, cum[-1] / 2.0)])
