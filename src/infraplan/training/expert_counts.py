"""Per-expert token counts spread around their mean: the tile rows the experts' GEMMs really run.

The layer table (`ops.layer`) gives every local expert the mean count of routed rows, m = T k EP / E (times the
expert load factor). A dropless MoE layer runs each expert on the rows routed to it that micro-batch: Megatron-Core
0.16.1's `TEGroupedMLP` reads the counts (`tokens_per_expert.tolist()`, transformer/moe/experts.py:645) and
Transformer Engine 2.14's `GroupedLinear` splits its input by them (`m_splits`, module/grouped_linear.py:160-170) into
one GEMM per expert (`moe.expert_gemm` per_expert), or a grouped kernel pads each problem to its own tiles
(`grouped`). The counts are random. Under Megatron-Core's forced load balancing, which every MoE performance
configuration of the frontier rows sets (`moe_router_force_load_balancing`, megatron-bridge 0.6.0 perf_recipes),
the router's logits are replaced by i.i.d. normal draws (`RandomSTE`, transformer/moe/moe_utils.py:1110-1134;
transformer/moe/router.py:655-657), so each token's top-k is a uniformly random k-subset of the E experts and an
expert's count among the N tokens of its EP group is Binomial(N, k / E): mean m, variance m (1 - k / E). A learned
router spreads the counts at least as much (ASSUMPTION: independent tokens; the binomial is the floor used here).

What it changes (`hardware.kernels`' tile model): a GEMM whose rows are the expert's count runs ceil(M / tile) row
tiles. Where m is a multiple of the tile (1,024 or 4,096 rows: most training layouts), half the experts hold one
row more than m and start one more row of tiles, which can add a wave; the mean count alone never does. So the
forward and data-gradient GEMMs (rows = the count) are priced as the expectation over three row-tile counts,
ceil(m / t) and one more or one fewer tile row, with the normal approximation's probabilities of the count crossing
those tile edges (t = the accelerator's `matmul_tile_m`; the count's tails beyond one tile either way are put on the
nearest of the three: exact while sigma < t, i.e. m < t^2 / (1 - k / E), which holds at every frontier row but the
EP64 ones, where many waves make the step small anyway). The weight-gradient GEMM sums over the rows (its inner
dimension, linear in the count): priced at the mean. Counts below one tile (skinny GEMMs, whose tile narrows:
`hardware.kernels`) keep the mean. The shifted evaluations move the memory term by a tile of rows too, a bias of
at most t / 2 rows where the mean sits on a tile edge (the compute term binds at these shapes).

Where it applies: the per-expert pricing (`moe.expert_gemm` per_expert, each expert's GEMM alone on the GPU, the
stack's stated upper bound: TE's 4 compute streams may fill one GEMM's last wave with the next's tiles) and the
grouped kernel (every expert shifted together, the expectation of their summed tiles); not the stream-batched
pricing (`expert_gemm_streams` > 1), whose shared waves already absorb a tile row. Training only (serving's MoE
tables are measured or priced by their engines).

Toggle `ROUTED_COUNT_SPREAD`, OFF (the mean count, as before). Reason: the mechanism is sourced, its size is not. It
is priced through `hardware.kernels`' 128 x 128 full-wave tile model, and NVIDIA AIConfigurator 0.12.0's measured
H100 bf16 GEMMs (aiconfigurator-core systems/data/h100_sxm/gemm/{trtllm/1.3.0rc20,vllm/0.24.0,
sglang/0.5.14}/gemm_perf.parquet, cuBLAS through torch; rows m and m + 1 on tile edges) place the steps elsewhere:
from 1,024 to 1,025 rows at n 5,120 / 6,144, k 2,560 / 3,072 cuBLAS takes +45-47 % / +16-22 % where the tile model
prices +0 % / +31 %; from 2,048 to 2,049 it measures -3 to +5 % where the tile model prices +16-31 %; at 4,096 to
4,097 cuBLAS measures -9 to +5 % (B200's tables -8 to +7 %), while at H022's own fc1 (4,096 x 5,760 x 2,880) the
tile model prices 10 -> 12 waves. So the spread would move GPT-OSS's B200 row (4,096 rows per expert, +0.40 ms per
layer pass) by a wave step the library does not show, while the H100 row (1,024 rows, +0.14 ms) is the case the
tables do show. On (validate --json, same tree): frontier 10.53 -> 10.30 % (H022 +44.9 -> +43.0, H023 +26.8 ->
+25.6, H015 / H025 -0.15 / -0.2 points, the rest unchanged), gated 5.93 % and vTrain 7.60 % bit-identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.moe_routing import MoeRouting
from infraplan.hardware.gemm_seconds import gemm_seconds, grouped_gemm_seconds
from infraplan.hardware.kernels import KernelRates, gemm_time, grouped_gemm_time
from infraplan.ops.layer import ArrayLike
from infraplan.scalar_path import ops_of, pick
from infraplan.training.layer_kernels import gemm_fwd_bwd, output_width, result, stream_runs

ROUTED_COUNT_SPREAD = False  # built, off: see the module docstring
# Abramowitz & Stegun 7.1.26: erf(x) = 1 - (a1 u + ... + a5 u^5) exp(-x^2), u = 1 / (1 + p x), x >= 0, |error| < 1.5e-7
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def normal_cdf(z: Any) -> Any:
    """The standard normal CDF of `z` (a float or an array), through A&S 7.1.26's erf; numpy's ufuncs on both, so a
    one-plan float and the same array element give the same bits."""
    x = np.abs(np.asarray(z, dtype=np.float64)) / np.sqrt(2.0)
    u = 1.0 / (1.0 + _ERF_P * x)
    poly = u * (_ERF_A[0] + u * (_ERF_A[1] + u * (_ERF_A[2] + u * (_ERF_A[3] + u * _ERF_A[4]))))
    half = 0.5 * poly * np.exp(-x * x)  # 1 - Phi(|z|)
    cdf = np.where(np.asarray(z) >= 0.0, 1.0 - half, half)
    return float(cdf) if np.ndim(cdf) == 0 else cdf


def count_spread(num_experts: int, experts_per_token: int) -> float:
    """Variance of a local expert's routed count over its mean: 1 - k / E (binomial; module docstring)."""
    return 1.0 - float(experts_per_token) / float(num_experts)


def _rows_time(rates: KernelRates, precision: tuple[ArrayLike, ArrayLike], m: Any, n: Any, k: Any, count: Any,
               grouped: bool, share: Any, one: bool) -> Any:
    """Seconds of the `count` (m x k) @ (k x n) expert GEMMs as `gemm_fwd_bwd` prices its forward (the output at
    `output_width`: an fp8 GEMM writes bf16, hR51)."""
    rate, operands = precision
    width = output_width(operands, m, n, k)
    if one:
        one_gemm = (grouped_gemm_seconds(rates, m, n, k, count, width, rate) if grouped  # type: ignore[arg-type]
                    else gemm_seconds(rates, m, n, k, width, rate))  # type: ignore[arg-type]
        return share * one_gemm if grouped else count * one_gemm
    many = grouped_gemm_time(rates, m, n, k, count, width, rate) if grouped else gemm_time(rates, m, n, k, width, rate)
    return share * many if grouped else count * many


def routed_gemm_fwd_bwd(rates: KernelRates, precision: tuple[ArrayLike, ArrayLike], m: ArrayLike, n: ArrayLike,
                        k: ArrayLike, count: ArrayLike, grouped: bool, share: ArrayLike, one: bool,
                        grad_bytes: float | None, spread: float) -> tuple[Any, Any]:
    """`training.layer_kernels.gemm_fwd_bwd` of an expert GEMM entry (`count` experts of `m` mean rows) with the
    forward and data-gradient GEMMs at the expected row tiles of counts of variance `spread` x m (module
    docstring); the mean's prices where `ROUTED_COUNT_SPREAD` is off or `spread` is 0."""
    fwd, bwd = gemm_fwd_bwd(rates, precision, m, n, k, count, grouped, share, one, grad_bytes)
    if not ROUTED_COUNT_SPREAD or spread <= 0.0:
        return fwd, bwd
    tile = float(rates.tile_m)
    xp = ops_of(m)
    sigma = np.sqrt(xp.maximum(m, 1.0) * spread)
    edge = xp.ceil(m / tile) * tile  # the last row of the mean count's tiles
    above = 1.0 - normal_cdf((edge - m) / sigma)  # one more row of tiles
    below = normal_cdf((edge - tile - m) / sigma)  # one fewer (the count at or under the previous edge)
    spreads = m >= tile  # skinny counts keep the mean (their tile narrows)
    above, below = pick(spreads, above, 0.0), pick(spreads, below, 0.0)
    if one and not spreads:
        return fwd, bwd
    lower = xp.maximum(m - tile, 0.0)
    for rows, weight in ((m + tile, above), (lower, below)):
        fwd = fwd + weight * (_rows_time(rates, precision, rows, n, k, count, grouped, share, one)
                              - _rows_time(rates, precision, m, n, k, count, grouped, share, one))
        bwd = bwd + weight * (_rows_time(rates, precision, rows, k, n, count, grouped, share, one)
                              - _rows_time(rates, precision, m, k, n, count, grouped, share, one))
    return (float(fwd), float(bwd)) if one else (result(fwd), result(bwd))


def expert_wgrad_time(rates: KernelRates, m: Any, n: Any, k: Any, count: Any, share: Any, width: Any, rate: Any,
                      routing: MoeRouting, one: bool) -> Any:
    """Weight-gradient seconds of an expert GEMM entry (`count` local experts of `m` mean rows, in `share` of the
    layers; wgrad at the mean count, module docstring) as `layer_time.layer_times_but_ep` prices it for the stack:
    one grouped kernel (`expert_gemm` grouped), runs of `expert_gemm_streams` experts as grouped kernels
    (`layer_kernels.stream_batched_fwd_bwd`), or one GEMM per expert. What a frozen expert skips (`frozen_base`,
    hR56: the grouped kernel's time alone left Qwen3-30B-A3B's per-expert wgrad 0.27 ms a layer in a LoRA step)."""
    def grouped(c: Any) -> Any:
        return (grouped_gemm_seconds(rates, k, n, m, c, width, rate) if one
                else grouped_gemm_time(rates, k, n, m, c, width, rate))
    streams = float(routing.expert_gemm_streams)
    if routing.expert_gemm == "grouped":
        return share * grouped(count)
    if streams > 1.0:
        full, rest = stream_runs(count, streams, one)
        return share * full * grouped(streams) + share * grouped(rest)
    wgrad = gemm_seconds(rates, k, n, m, width, rate) if one else gemm_time(rates, k, n, m, width, rate)
    return count * share * wgrad
