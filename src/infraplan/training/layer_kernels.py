"""The kernel time of a layer's operation table (`ops.layer_ops`): GEMMs, memory-bound passes and collectives,
in arrays over plans or in one plan's Python floats (`PlanArrays.one_row`).

* GEMMs: each (m x k) @ (k x n) runs forward and, in the backward, as its data-gradient (m x n) @ (n x k) and
  weight-gradient (k x m) @ (m x n) GEMMs, priced by `hardware.kernels.gemm_time` (grouped MoE experts by
  `grouped_gemm_time`) at the recipe's FLOP rate and operand bytes (`ops.precision`). The weight gradient's
  k x n output is the main gradient, read and written in its buffer's dtype (`training.main_grad_accumulation`:
  `wgrad_width`, `main_grad_wgrad_bytes`; the unfused path's hook, `unfused_main_grad_bytes`). A recipe that keeps
  a share of the layers' GEMMs in bf16 (NVFP4's first and last layers, `bf16_layer_share`) adds their bf16 time for
  that share (`bf16_gemm_sums`, priced only for the plans that have one). Per-expert GEMMs issued round robin over
  concurrent streams (Transformer Engine 2.14: 4, `TE_COMPUTE_STREAMS`; the stack's `expert_gemm_streams`):
  each run of that many shares its waves, as one grouped kernel (`stream_batched_fwd_bwd`).
* Memory-bound passes (`hardware.kernels.memory_bound_time`): a recipe's amax reads add 2 B per cast element.
* Collectives of one role (TP, CP, EP), priced by `network.collectives` on the group and rank stride, once per
  distinct (size, group, stride) row of a search's columns (`training.distinct_collectives`, issue 18).
* Full recompute's input split over TP (`partitioned_checkpoint_seconds`, DeepSpeed 0.5.10 / 0.14.4
  activation checkpointing): the slice kept, the full input rebuilt and all-gathered before the recompute.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from infraplan.hardware.gemm_seconds import gemm_fwd_bwd_seconds, grouped_gemm_seconds
from infraplan.hardware.kernels import (
    KernelRates,
    gemm_time,
    grouped_gemm_time,
    memory_bound_seconds,
    memory_bound_time,
)
from infraplan.network.collectives import Fabric, collective_seconds
from infraplan.ops.layer import ArrayLike, Collective, Elementwise, Gemm
from infraplan.scalar_path import anywhere, larger, pick
from infraplan.training.distinct_collectives import distinct_collective_time
from infraplan.training.main_grad_accumulation import wgrad_width
from infraplan.training.plan import PlanArrays


def result(value: Any) -> Any:
    """An array result as an array; a one-plan result (a numpy scalar or 0-d array of the kernel and collective
    formulas, which keep numpy's shapes for plain numbers) as a Python float, so the next steps stay on floats."""
    if type(value) is np.ndarray and value.ndim:
        return value
    return float(value)


# bytes per element of a GEMM's output where its operands are narrower (fp8, fp4): Transformer Engine 2.14 writes
# the forward and data-gradient GEMMs' outputs, and an unfused weight gradient, in the activations' dtype (bf16):
# module/linear.py:323-327 / :722-729 (`out_dtype=activation_dtype`) and :849-851 (`main_grad.dtype` if fused)
GEMM_OUTPUT_BYTES = 2.0


def output_width(width: ArrayLike, rows: ArrayLike, cols: ArrayLike, depth: ArrayLike) -> Any:
    """Mean bytes per element the GEMM (rows x depth) @ (depth x cols) moves when its operands are `width` bytes
    and its rows x cols output is written at `GEMM_OUTPUT_BYTES` (`width` itself where that is no narrower):
    fp8 GEMMs write bf16 (the wgrad GEMMs of an expert with few tokens, K = its tokens, write a large output).
    Expressed as one width, as `wgrad_width` does (`hardware.kernels` charges one width for all three matrices)."""
    if type(width) is not np.ndarray:
        if width >= GEMM_OUTPUT_BYTES:
            return width
    elif not anywhere(width < GEMM_OUTPUT_BYTES):
        return width
    inputs = rows * depth + depth * cols
    moved = inputs + rows * cols
    if type(moved) is not np.ndarray and type(width) is not np.ndarray:  # one plan's floats
        return (width * inputs + GEMM_OUTPUT_BYTES * rows * cols) / moved if moved > 0 else width
    safe = np.where(moved > 0, moved, 1.0)
    mixed = (width * inputs + GEMM_OUTPUT_BYTES * rows * cols) / safe
    return np.where((moved > 0) & (np.asarray(width) < GEMM_OUTPUT_BYTES), mixed, width)


def gemm_fwd_bwd(rates: KernelRates, precision: tuple[ArrayLike, ArrayLike], m: ArrayLike, n: ArrayLike,
                  k: ArrayLike, count: ArrayLike = 1.0, grouped: bool = False,
                  share: ArrayLike = 1.0, one: bool = False,
                  grad_bytes: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Forward, and backward (dgrad + wgrad) seconds of `count` GEMMs of shape (m x k) @ (k x n).

    `precision` is (FLOP/s, operand bytes) per plan (`ops.precision` recipes). `grouped`: the `count` GEMMs
    are one grouped kernel (MoE experts, `hardware.grouped_gemm_time`) in `share` of the layers. `one`: a
    `PlanArrays.one_row` plan's plain numbers, priced as Python floats (`hardware.gemm_seconds.gemm_fwd_bwd_seconds`).
    `grad_bytes`: the main-gradient buffer's bytes per element, which the wgrad GEMM reads and writes
    (`wgrad_width`); None prices its output at the operand width.
    """
    rate, width = precision
    # each GEMM's output at its own width where the operands are narrower than bf16 (`output_width`)
    if type(width) is float and width >= GEMM_OUTPUT_BYTES:  # (`output_width`'s answer, without its calls)
        w_fwd = w_dgrad = width
        w_grad = width if grad_bytes is None else wgrad_width(width, m, n, k, grad_bytes)
    else:
        w_fwd, w_dgrad = output_width(width, m, n, k), output_width(width, m, k, n)
        w_grad = output_width(width, k, n, m) if grad_bytes is None else wgrad_width(width, m, n, k, grad_bytes)
    if one:
        if grouped:
            fwd_s = grouped_gemm_seconds(rates, m, n, k, count, w_fwd, rate)  # type: ignore[arg-type]
            bwd_s = (grouped_gemm_seconds(rates, m, k, n, count, w_dgrad, rate)  # type: ignore[arg-type]
                     + grouped_gemm_seconds(rates, k, n, m, count, w_grad, rate))  # type: ignore[arg-type]
            return share * fwd_s, share * bwd_s  # type: ignore[return-value]
        # (the three GEMMs on the rates read once, each at its own width)
        fwd_s, bwd_s = gemm_fwd_bwd_seconds(rates, m, n, k, w_fwd, rate, w_grad, w_dgrad)  # type: ignore[arg-type]
        return count * fwd_s, count * bwd_s  # type: ignore[return-value]
    if grouped:
        fwd = grouped_gemm_time(rates, m, n, k, count, w_fwd, rate)
        bwd = grouped_gemm_time(rates, m, k, n, count, w_dgrad, rate) + grouped_gemm_time(rates, k, n, m, count,
                                                                                           w_grad, rate)
        return result(share * fwd), result(share * bwd)
    fwd = gemm_time(rates, m, n, k, w_fwd, rate)
    bwd = gemm_time(rates, m, k, n, w_dgrad, rate) + gemm_time(rates, k, n, m, w_grad, rate)
    return result(count * fwd), result(count * bwd)


# Transformer Engine 2.14's `nvte_multi_tensor_gemm` (the "multi-stream cublas backend" GroupedLinear calls,
# pytorch csrc/extensions/gemm.cpp:601-606) runs `multi_stream_cublas_gemm`: GEMM i on compute stream i % 4
# (`get_num_compute_streams` returns the constant 4), each cuBLAS GEMM on the whole GPU (math_sm_count 0:
# pytorch/cpp_extensions/gemm.py:217, :285), no dependency between the streams but an event before the first and after
# the last (read in the disassembly of libtransformer_engine.so, transformer-engine-cu12 2.14.0)
TE_COMPUTE_STREAMS = 4.0


def stream_runs(count: ArrayLike, streams: float, one: bool) -> tuple[Any, Any]:
    """(whole runs of `streams` GEMMs, the GEMMs left) of `count` GEMMs issued over `streams` concurrent streams
    (`stream_batched_fwd_bwd`; a frozen expert's skipped wgrad, `expert_counts.expert_wgrad_time`)."""
    full = float(math.floor(float(count) / streams)) if one else np.floor(np.asarray(count, dtype=np.float64) / streams)
    return full, count - full * streams


def stream_batched_fwd_bwd(rates: KernelRates, precision: tuple[ArrayLike, ArrayLike], m: ArrayLike, n: ArrayLike,
                           k: ArrayLike, count: ArrayLike, share: ArrayLike = 1.0, one: bool = False,
                           grad_bytes: float | None = None,
                           streams: float = TE_COMPUTE_STREAMS) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward seconds of `count` same-shape GEMMs issued one per stream over `streams` concurrent
    streams (`TE_COMPUTE_STREAMS`), in `share` of the layers: each run of `streams` consecutive GEMMs shares its
    waves (the next stream's tiles fill the SMs a GEMM's last wave leaves idle), priced as one grouped kernel of
    `streams` problems, and the runs one after another; a last partial run as a grouped kernel of the rest."""
    full, rest = stream_runs(count, streams, one)
    runs = gemm_fwd_bwd(rates, precision, m, n, k, streams, True, share * full, one, grad_bytes)
    tail = gemm_fwd_bwd(rates, precision, m, n, k, rest, True, share, one, grad_bytes)
    return result(runs[0] + tail[0]), result(runs[1] + tail[1])


def bf16_gemm_sums(rates: KernelRates, gemms: tuple[Gemm, ...], bf16_share: Any, recipe: tuple[Any, Any],
                    bf16: tuple[Any, Any], one: bool, grad_bytes: float | None = None) -> tuple[Any, Any]:
    """Forward and backward seconds of the layer's GEMMs priced in bf16, for the plans keeping a share of them
    there (`bf16_share` > 0); the others get their `recipe` sums, which a zero share drops (x * 0 = 0: the bits of
    pricing every plan in bf16). Arrays: only the plans with a share are priced (a search's other dtypes skip it)."""
    if not anywhere(bf16_share):
        return recipe
    n = np.size(bf16_share)
    fields = [v for g in gemms for v in (g.m, g.n, g.k, g.count, g.share) if type(v) is np.ndarray and v.ndim]
    if one or np.ndim(bf16_share) != 1 or any(v.shape != (n,) for v in fields):  # one plan, or a grid: all of them
        priced = [gemm_fwd_bwd(rates, bf16, g.m, g.n, g.k, g.count, g.grouped, g.share, one, grad_bytes)
                  for g in gemms]
        return sum(g[0] for g in priced), sum(g[1] for g in priced)
    at = np.flatnonzero(np.asarray(bf16_share) > 0.0)

    def rows(v: ArrayLike) -> ArrayLike:
        return v[at] if type(v) is np.ndarray and v.ndim else v

    width = np.full(at.size, 2.0)
    priced = [gemm_fwd_bwd(rates, (np.full(at.size, rates.matmul_flops_per_s), width), rows(g.m), rows(g.n),
                            rows(g.k), rows(g.count), g.grouped, rows(g.share), grad_bytes=grad_bytes) for g in gemms]
    out = []
    for phase, total in enumerate(recipe):
        full = np.array(np.broadcast_to(np.asarray(total, dtype=np.float64), (n,)))
        full[at] = sum(g[phase] for g in priced)
        out.append(full)
    return out[0], out[1]


def zero(one: bool) -> Any:
    """The start of a sum of terms: a float for one plan's floats, numpy's 0-d zero for arrays."""
    return 0.0 if one else np.zeros(())


def total(values: Iterable[Any], one: bool) -> Any:
    """The sum of `values` from `zero(one)`."""
    return sum(values, zero(one))


def elementwise_time(rates: KernelRates, passes: tuple[Elementwise, ...], amax_read_passes: ArrayLike = 0.0,
                      cast_bytes: ArrayLike = 4.0, one: bool = False) -> np.ndarray:
    """Seconds of memory-bound passes; a recipe's amax reads add 2 B per cast element (a cast moves `cast_bytes`).
    `one`: a `PlanArrays.one_row` plan's passes, summed as Python floats."""

    def scale(e: Elementwise) -> ArrayLike:
        amax = amax_read_passes if one else np.asarray(amax_read_passes)
        return 1.0 + 2.0 * amax / larger(cast_bytes, 1e-9) if e.role == "fp8_cast" else 1.0

    if one:  # a pass that does not run is not priced (`pick`'s zeros); from 0.0 in order as `total`, no generator
        seconds: Any = 0.0
        for e in passes:
            seconds = seconds + (memory_bound_seconds(rates, scale(e) * e.bytes, kernels=e.kernels)  # type: ignore[arg-type]
                                 if e.mask else 0.0)
        return seconds  # type: ignore[no-any-return]
    summed: np.ndarray = sum((pick(e.mask, result(memory_bound_time(rates, scale(e) * e.bytes, kernels=e.kernels)),
                                   0.0) for e in passes), zero(one))
    return summed


def collective_times(fabric: Fabric, records: tuple[Collective, ...], role: str, one: bool = False) -> np.ndarray:
    """Seconds of the collectives of one role ("tp", "cp", "ep"), priced by `network.collectives` (`one`: a
    `PlanArrays.one_row` plan's records, summed as Python floats)."""
    if one:  # a collective that does not run, or runs over a group of one (0 s: nothing leaves the rank, as every
        # collective formula and `Collective.launches` say), is not priced (the same sum as `pick`'s zeros); summed
        # from 0.0 in record order, as `total` does, without its generator (a single estimate sums ~8 of these)
        seconds = 0.0
        for c in records:
            if c.role == role:
                seconds = seconds + (c.count * collective_seconds(fabric, c.kind, c.bytes, c.group, c.stride)  # type: ignore[arg-type]
                                     if c.mask and c.group > 1 else 0.0)
        return seconds  # type: ignore[return-value]  # a float: the annotation is the array path's
    summed: np.ndarray = sum((pick(c.mask, c.count * result(distinct_collective_time(fabric, c.kind, c.bytes,
                                                                                      c.group, c.stride)), 0.0)
                              for c in records if c.role == role), zero(one))
    return summed


def partitioned_checkpoint_seconds(rates: KernelRates, fabric: Fabric, plan: PlanArrays, elements: Any, full: Any,
                                   one: bool) -> tuple[Any, Any, Any]:
    """A layer's extra seconds per micro-batch where full recompute keeps its input split over TP
    (`Stack.partition_checkpointed_activations`; hK, session 53), read in DeepSpeed 0.5.10
    runtime/activation_checkpointing/checkpointing.py (0.14.4 the same but at TP 1, where its gather is a view, no
    zeros, copy or all-gather: :280-286, read by hR53; priced as 0.5.10 here): forward, `partition_activations`
    (:367-430) keeps the rank's 1 / TP slice of each checkpointed input (`narrow(...).clone()`: read and write
    T h / TP); backward, `gather_partitioned_activations` (:259-294) allocates the full input (`torch.zeros`: write
    T h), copies the slice in (read and write T h / TP) and all-gathers it over TP (T h bf16) before the recompute.
    Without sequence parallelism only (with it the stored input is already the SP shard). `elements`: T x h of
    the micro-batch on this rank; `full`: the plans under full recompute. Returns (forward copies, backward copies,
    the backward all-gather), 0.0 where it does not run; the memory side is `activation_memory.stage_activations`'."""
    runs = full & (plan.sequence_parallel == 0)
    saved = elements * 2.0  # bf16
    gather = collective_times(fabric, (Collective("all_gather", "tp", saved, plan.tp, 1, 1.0, runs),), "tp", one)
    slice_bytes = 2.0 * saved / plan.tp
    if one:
        if not runs:
            return 0.0, 0.0, 0.0
        return (memory_bound_seconds(rates, slice_bytes, 1.0), memory_bound_seconds(rates, saved + slice_bytes, 2.0),
                gather)
    return (pick(runs, result(memory_bound_time(rates, slice_bytes, kernels=1.0)), 0.0),
            pick(runs, result(memory_bound_time(rates, saved + slice_bytes, kernels=2.0)), 0.0), gather)
