"""Exhaustive parallel-plan search, vectorised through the same `evaluate_plans` as a single estimate.

The space: TP (divisors of the attention heads, up to the scale-up domain unless asked to cross it),
PP, virtual stages, CP, DP (what is left), EP (MoE, dividing experts and DP), micro-batch, recompute
mode, ZeRO stage, dtype, and the rank-to-node order (PP or DP outermost) where both axes exceed 1.
Plans are built as integer arrays, invalid ones are masked by the same rules that reject a user's plan,
the rest are evaluated in chunks; memory-infeasible plans are counted and dropped.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.training.estimate import evaluate_plans, result_row
from infraplan.training.plan import DTYPES, ORDERS, RECOMPUTE_MODES, PlanArrays, valid_mask

MICRO_BATCHES = (1, 2, 4, 8, 16)
CHUNK = 1 << 18


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def enumerate_plans(shape: TransformerShape, gpus: int, seq_len: int, global_batch: int, dtypes: list[str],
                    max_tp: int, max_vpp: int = 16) -> PlanArrays:
    """Every candidate plan (valid or not yet checked) as PlanArrays."""
    tps = [t for t in _divisors(shape.num_heads) if t <= max_tp and gpus % t == 0]
    cps = [c for c in (1, 2, 4, 8, 16) if seq_len % (2 * c) == 0]
    grids = []
    for tp in tps:
        for cp in cps:
            for pp in _divisors(gpus // tp):
                if (gpus // tp) % (pp * cp) or pp > shape.num_layers:
                    continue
                dp = gpus // (tp * pp * cp)
                vpps = range(1, min(shape.num_layers // pp, max_vpp) + 1) if pp > 1 else [1]
                eps = [e for e in _divisors(dp) if shape.num_experts % e == 0] if shape.is_moe else [1]
                mbs = [m for m in MICRO_BATCHES if global_batch % (dp * m) == 0]
                if not mbs:
                    continue
                orders = range(len(ORDERS)) if pp > 1 and dp > 1 else [0]  # the order only matters then
                grid = np.array(np.meshgrid(list(vpps), eps, mbs, range(len(RECOMPUTE_MODES)), range(4),
                                            [DTYPES.index(d) for d in dtypes], orders, indexing="ij")).reshape(7, -1)
                head = np.repeat(np.array([[tp], [pp], [dp], [cp]]), grid.shape[1], axis=1)
                grids.append(np.vstack([head, grid]))
    if not grids:
        return PlanArrays.build(tp=[], pp=[], dp=[], cp=[], ep=[], vpp=[], micro_batch=[], global_batch=[],
                                seq_len=[], recompute=[], zero=[], dtype=[], attention=[], order=[],
                                sequence_parallel=[])
    g = np.hstack(grids)
    n = g.shape[1]
    return PlanArrays(tp=g[0], pp=g[1], dp=g[2], cp=g[3], vpp=g[4], ep=g[5], micro_batch=g[6],
                      recompute=g[7], zero=g[8], dtype=g[9], order=g[10], global_batch=np.full(n, global_batch),
                      seq_len=np.full(n, seq_len), attention=np.zeros(n, dtype=np.int64),
                      sequence_parallel=np.ones(n, dtype=np.int64))


def search_plans(model: str | TransformerShape, system: str | System, gpus: int, seq_len: int,
                 global_batch: int, dtype: str = "auto", top: int = 5, objective: str = "time",
                 cross_node_tp: bool = False, progress=None) -> dict[str, Any]:
    """Search every valid plan; return the best, the top K, and how many were evaluated and fit."""
    shape = load_model(model) if isinstance(model, str) else model
    sys_spec = load_system(system) if isinstance(system, str) else system
    accelerator = load_accelerator(sys_spec.accelerator)
    if gpus < 1 or gpus > sys_spec.total_accelerators:
        raise InputError(f"--gpus {gpus}: system {sys_spec.name} has {sys_spec.total_accelerators} accelerators")
    if objective not in ("time", "memory"):
        raise InputError("--objective must be time or memory")
    if dtype == "auto":
        dtypes = [d for d in DTYPES if accelerator.supports(d)]
    elif dtype in DTYPES and accelerator.supports(dtype):
        dtypes = [dtype]
    else:
        offered = ", ".join(d for d in DTYPES if accelerator.supports(d))
        raise InputError(f"--dtype {dtype}: {accelerator.name} supports {offered}")
    start = time.perf_counter()
    fabric = Fabric.from_system(sys_spec, accelerator)
    max_tp = gpus if cross_node_tp else sys_spec.node.scale_up_domain
    candidates = enumerate_plans(shape, gpus, seq_len, global_batch, dtypes, max_tp)
    plans = candidates.take(valid_mask(shape, candidates))
    evaluated = len(plans)
    keep_index, keep_key = [], []
    for lo in range(0, evaluated, CHUNK):
        chunk = plans.take(slice(lo, lo + CHUNK))
        res = evaluate_plans(shape, accelerator, fabric, chunk)
        key = res["step_time_s"] if objective == "time" else res["memory_per_gpu_bytes"]
        fits = np.flatnonzero(res["fits"])
        keep_index.append(lo + fits)
        keep_key.append(key[fits])
        if progress is not None:
            progress(min(lo + CHUNK, evaluated), evaluated)
    index = np.concatenate(keep_index) if keep_index else np.zeros(0, dtype=np.int64)
    keys = np.concatenate(keep_key) if keep_key else np.zeros(0)
    order = index[np.argsort(keys, kind="stable")[:top]]
    best_plans = plans.take(order)
    rows = []
    if len(best_plans):
        res = evaluate_plans(shape, accelerator, fabric, best_plans)
        rows = [result_row(res, best_plans, i, accelerator.memory_bytes) for i in range(len(best_plans))]
    seconds = time.perf_counter() - start
    reason = None
    if not rows:
        reason = (f"{shape.name} ({shape.total_params() / 1e9:.0f}B) in {'/'.join(dtypes)} does not fit "
                  f"{gpus} GPUs of {accelerator.memory_bytes / 2**30:.0f} GiB with any plan"
                  if evaluated else f"no valid plan for {gpus} GPUs with global batch {global_batch}")
    return {
        "model": shape.name, "system": sys_spec.name, "gpus": gpus, "objective": objective,
        "best": rows[0] if rows else None, "top": rows, "reason": reason,
        "evaluated": evaluated, "feasible": int(index.size),
        "seconds": seconds, "configs_per_s": evaluated / seconds if seconds > 0 else float("inf"),
    }
