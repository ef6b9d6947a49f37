"""vLLM 0.12's DeepGEMM MoE for block-fp8 routed experts: the padded contiguous workspace it computes whole, and
DeepGEMM's per-tile depth (`serving.routed_experts` prices every other routed-expert GEMM).

Padded workspace (vLLM 0.12's DeepGEMM MoE; `contiguous_grouped_gemm_time`, a stack profile's
`moe_fp8_padded_workspace`). Read in the vllm 0.12.0 wheel: block-fp8 MoE on Hopper / Blackwell at MoE TP < 8
(EP sets MoE TP to 1) runs DeepGEMM (model_executor/layers/quantization/fp8.py:172-188 `get_fp8_moe_backend`;
VLLM_USE_DEEP_GEMM, VLLM_MOE_USE_DEEP_GEMM and VLLM_USE_DEEP_GEMM_E8M0 default on, envs.py:157-159, so
fused_moe/triton_deep_gemm_moe.py:140 takes DeepGEMM at every batch size, decode included). `DeepGemmExperts.apply`
sizes its workspace M_sum = round_up(T k + E_local (128 - 1), 128) rows (fused_moe/deep_gemm_utils.py:42
`compute_aligned_M`, 128 = DeepGEMM's M alignment, `ep_scatter` BLOCK_E); `ep_scatter` writes each hit expert's
tokens into round_up(count, 128) rows and leaves the rest of the expert-id array as initialised, zeros
(deep_gemm_utils.py:369-374, `torch.zeros` when the counts are not on the host): DeepGEMM's scheduler skips only
blocks with a negative id (read in the sgl-deep-gemm 0.2.5 wheel, SGLang's DeepGEMM fork:
include/deep_gemm/scheduler/gemm.cuh:322-326 `is_computation_valid`, `grouped_layout[...] >= 0`, consulted by
impls/sm90_fp8_gemm_1d2d.cuh:300 before the WGMMA loop; ASSUMPTION: the DeepGEMM vLLM 0.12 installs behaves so),
so the padding blocks run as expert 0 and BOTH grouped GEMMs compute all M_sum rows;
SiLU-and-mul and the fp8 re-quantisation (`per_token_group_quant_fp8`) also pass over all M_sum rows
(`CONTIGUOUS_SILU_QUANT_BYTES`: 2 + 1 B per up-GEMM column read and written by the activation, 1 + 0.5 by the
quantisation, per padded row). At decode M_sum is ~E_local x 127 whatever the batch: Qwen3-235B-A22B (128
experts, top-8) at TP2 computes ~16k rows x (1536 x 4096 + 4096 x 768) per layer, ~23 ms per step on an H200,
which is the measured TPOT's flatness (52-58 ms at TP2 from 4 to 20 clients, 34-46 ms at TP4). vllm 0.18.0
initialises the ids to -1 so the padding is skipped (deep_gemm_utils.py:380-390) and prefers Triton for block fp8 at
TP on Hopper (fused_moe/oracle/fp8.py:85-95): the shipped vllm-0.x profile leaves the flag off, and
`validation/data/stacks/vllm-0.12.yaml` sets it for the vLLM 0.12.0 rows. Compute: M_sum / 128 one-tile problems
in waves (`hardware.grouped_gemm_time`); memory: the hit experts' weights and M_sum rows of activations.
Effect (toggle `CONTIGUOUS_PADDED_LAYOUT`, every expressible row of the MoE serving set, 540): 20.72 % (TTFT 27.31,
TPOT 14.13) -> 19.99 % (27.08, 12.89); vLLM 0.12 Qwen3-235B H200 (32 rows) TTFT median -45 % -> -39 % (mean |error|
0.38 -> 0.34), TPOT -44 % -> -23 % (0.43 -> 0.22); no other row moves (no other fp8 vLLM MoE row).

DeepGEMM's per-tile depth (`DEEPGEMM_TILE_DEPTH`, 0 = off). DeepGEMM's published contiguous-layout grouped GEMMs
(deep-gemm 1.0.0 sdist README.md:38-45, H800: 4 x 8192 / 8 x 4096 rows, N 4096 K 7168: 1,297 / 1,288 TF/s; N 7168 K
2048: 1,099 / 1,093 TF/s) run at R K / (K + D) with D = 556 K elements (R 1,398 TF/s; its dense table, :31-36, K
512-16,384, gives D ~ 720): a fixed cost per output tile, as TensorRT-LLM's (`serving.routed_experts`, "Block-scaled
fp8"). The padded workspace therefore runs at the catalog's fp8 rate x K / (K + 556) (`expert_gemm_time`): the down
GEMM of Qwen3-235B's experts is 768 deep at MoE TP2 and 384 at TP4 (0.58 / 0.41 of the rate). ASSUMPTION: the SM90
kernel vLLM 0.12 installs keeps the published release's shape dependence (measured on H800; H200 has the same SMs).
Effect (toggle, every expressible row, 540): 17.56 % (TTFT 23.84, TPOT 11.29) -> 17.04 % (23.61, 10.46); vLLM 0.12
Qwen3-235B TPOT median -25 -> -9 % (mean |error| 0.24 -> 0.10), TTFT -34 -> -26 % (0.31 -> 0.27); no other row of
any set runs the padded workspace. With the table's R instead of the catalog's rate (0.63 of peak): +0.2 points
(TPOT median -15 %).
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates, grouped_gemm_time, memory_bound_time
from infraplan.ops.layer import Gemm
from infraplan.serving.engines import serving_profile

CONTIGUOUS_PADDED_LAYOUT = True  # vLLM's DeepGEMM MoE computes its whole padded workspace (module docstring)
CONTIGUOUS_ALIGN_ROWS = 128  # DeepGEMM's M alignment of each expert's rows (vLLM deep_gemm_utils.ep_scatter BLOCK_E)
CONTIGUOUS_MAX_MOE_TP = 8  # vLLM disables the DeepGEMM MoE by default at MoE TP >= 8 (fp8.get_fp8_moe_backend)
DEEPGEMM_TILE_DEPTH = 556.0  # K elements per output tile of DeepGEMM's contiguous grouped GEMM (docstring; 0: off)
CONTIGUOUS_SILU_QUANT_BYTES = 4.5  # B per padded row and up-GEMM column: SiLU-and-mul and the fp8 re-quantisation


def contiguous_alignment(accelerator: Accelerator, stack: str, tp: int, ep: int, attention_dp: int,
                         dtype: str) -> int:
    """DeepGEMM's M alignment where the routed experts compute a padded contiguous workspace (module docstring,
    "Padded workspace"), else 0: a stack profile with `moe_fp8_padded_workspace`, fp8 (block-scaled) weights on an
    NVIDIA GPU (DeepGEMM: Hopper, Blackwell) and MoE TP below 8 (vLLM's default; EP makes it 1)."""
    moe_tp = max(1, tp * attention_dp // ep)
    if not (CONTIGUOUS_PADDED_LAYOUT and dtype == "fp8" and moe_tp < CONTIGUOUS_MAX_MOE_TP
            and accelerator.vendor.lower() == "nvidia"):
        return 0
    profile = serving_profile(stack)
    return CONTIGUOUS_ALIGN_ROWS if profile is not None and profile.moe_fp8_padded_workspace else 0


def contiguous_grouped_gemm_time(rates: KernelRates, m: np.ndarray, n: np.ndarray | float, k: np.ndarray | float,
                                 count: np.ndarray | float, local_experts: float,
                                 bytes_per_element: np.ndarray | float, rate: np.ndarray | float, align: int,
                                 up: bool) -> np.ndarray:
    """Seconds of one DeepGEMM contiguous grouped GEMM as vLLM launches it: every one of the M_sum = round_up(T k
    + E_local (align - 1), align) workspace rows is computed (the padding as expert 0), the hit experts' weights
    read; after the up GEMM, SiLU-and-mul and the fp8 re-quantisation pass over all M_sum rows (module docstring)."""
    m = np.asarray(m, dtype=np.float64)
    hit = np.broadcast_to(np.asarray(count, dtype=np.float64), m.shape)
    rows = m * hit
    m_sum = np.ceil((rows + local_experts * (align - 1.0)) / align) * align
    compute = grouped_gemm_time(rates, float(align), n, k, m_sum / align, 0.0, rate)
    memory = (hit * k * n + m_sum * (k + n)) * bytes_per_element / rates.memory_bytes_per_s
    busy = np.maximum(compute - rates.kernel_overhead_s, memory) + rates.kernel_overhead_s
    if up:
        busy = busy + memory_bound_time(rates, CONTIGUOUS_SILU_QUANT_BYTES * m_sum * n, kernels=0.0)
    return np.asarray(np.where(rows > 0, busy, 0.0), dtype=np.float64)


def expert_gemm_time(rates: KernelRates, g: Gemm, bytes_per_element: np.ndarray | float,
                     expert_rate: np.ndarray | float,
                     local_experts: float, align: int) -> np.ndarray:
    """Seconds of one routed-expert GEMM record (`ops.layer`, role expert_up or expert_down) on the padded workspace
    (`contiguous_grouped_gemm_time`), at the experts' rate x K / (K + `DEEPGEMM_TILE_DEPTH`) (module docstring)."""
    depth = np.asarray(g.k, dtype=np.float64)  # the GEMM's K: h (up) or the expert width / TP (down)
    deep_rate = expert_rate * depth / (depth + DEEPGEMM_TILE_DEPTH) if DEEPGEMM_TILE_DEPTH else expert_rate
    return np.asarray(g.share * contiguous_grouped_gemm_time(rates, np.asarray(g.m), g.n, g.k, g.count, local_experts,
                                                             bytes_per_element, deep_rate, align,
                                                             g.role == "expert_up"))
