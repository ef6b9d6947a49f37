"""Exhaustive parallel-plan search, vectorised through the same `evaluate_plans` as a single estimate.

The space: TP (divisors of the attention heads, up to the scale-up domain unless asked to cross it),
PP, virtual stages, CP, DP (what is left), EP (MoE, dividing experts and DP), micro-batch, recompute
mode, ZeRO stage, dtype, the rank-to-node order (PP or DP outermost) where both axes exceed 1, and the
pipeline schedule (every registered one, or those asked for). The axes are declared once, in `training.axes`.
Plans are built as integer arrays, invalid ones are masked by the same rules that reject a user's plan,
the rest are evaluated in chunks; memory-infeasible plans are counted and dropped.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.error_bands import ErrorBand, PublishedMfu, error_band, published_mfu_ceiling
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import System
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.axes import SearchSpace, enumerate_axes
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.estimate import evaluate_plans, result_row
from infraplan.training.plan import PlanArrays, valid_mask
from infraplan.training.results import PlanConfig, PlanMetrics, PlanSearchResult

CHUNK = 1 << 18


def enumerate_plans(shape: TransformerShape, gpus: int, seq_len: int, global_batch: int,
                    dtypes: Sequence[str | Dtype], max_tp: int, max_vpp: int = 16,
                    schedules: Sequence[str | Schedule] = ()) -> PlanArrays:
    """Every candidate plan (valid or not yet checked) as PlanArrays, from the axes declared in `AXES`.

    `schedules` restricts the pipeline schedules tried (default: every registered one).
    """
    chosen = tuple(d if isinstance(d, Dtype) else Dtype.parse(d, "--dtype") for d in dtypes)
    pipelines = tuple(s if isinstance(s, Schedule) else Schedule.parse(s, "--schedule") for s in schedules)
    return enumerate_axes(SearchSpace(shape, gpus, seq_len, global_batch, chosen, max_tp, max_vpp, pipelines))


def train_command(model: str, system: str, config: PlanConfig, stack: str) -> str:
    """The `infraplan train` command line that evaluates exactly this plan: every axis of the search spelled
    out (rank order, pipeline schedule and stack included), so a search row copied into `train` gives its
    numbers."""
    args = ["infraplan", "train", model, "--system", system, "--gpus", str(config.gpus), "--tp", str(config.tp),
            "--pp", str(config.pp), "--dp", str(config.dp), "--cp", str(config.cp), "--ep", str(config.ep),
            "--vpp", str(config.vpp), "--seq-len", str(config.seq_len), "--global-batch", str(config.global_batch),
            "--micro-batch", str(config.micro_batch), "--recompute", config.recompute, "--zero", str(config.zero),
            "--dtype", config.dtype, "--attention", config.attention, "--order", config.order,
            "--sequence-parallel" if config.sequence_parallel else "--no-sequence-parallel",
            "--schedule", config.schedule, "--stack", stack]
    return shlex.join(args)


def _guarded(row: PlanMetrics, ceilings: dict[Dtype, PublishedMfu | None], band: ErrorBand | None) -> PlanMetrics:
    """The row with its error band and, when its MFU is beyond the best published one, the flag and reason."""
    ceiling = ceilings[Dtype.parse(row.config.dtype, "--dtype")]
    update: dict[str, object] = {"error_band": band}
    if ceiling is not None and row.mfu > ceiling.mfu:
        update["beyond_published_mfu"] = True
        update["beyond_published_mfu_reason"] = (
            f"predicted MFU {row.mfu:.1%} exceeds the best published {ceiling.mfu:.1%} for {ceiling.family} "
            f"{ceiling.dtype} under stack class {ceiling.stack} ({ceiling.source}); ranked after plans within it")
    return row.model_copy(update=update)


def search_plans(model: str | TransformerShape, system: str | System | Cluster, gpus: int, seq_len: int,
                 global_batch: int, dtype: str = "auto", top: int = 5, objective: str = "time",
                 cross_node_tp: bool = False, progress: Callable[[int, int], None] | None = None,
                 schedules: Sequence[str | Schedule] = (), stack: str | Stack | None = None) -> PlanSearchResult:
    """Search every valid plan; return the best, the top K, and how many were evaluated and fit.

    Every plan is priced under one software stack, as given (None: the default training stack); the search
    never switches on overlap or CUDA graphs the stack does not have.
    """
    profile = resolve_stack(stack, "training")
    shape = load_model(model) if isinstance(model, str) else model
    cluster = Cluster.resolve(system)
    sys_spec, accelerator = cluster.system, cluster.accelerator
    if gpus < 1 or gpus > sys_spec.total_accelerators:
        raise InputError(f"--gpus {gpus}: system {sys_spec.name} has {sys_spec.total_accelerators} accelerators")
    if objective not in ("time", "memory"):
        raise InputError("--objective must be time or memory")
    if dtype == "auto":
        dtypes = [d.label for d in Dtype if accelerator.supports(d.label)]
    elif dtype in Dtype.labels() and accelerator.supports(dtype):
        dtypes = [dtype]
    else:
        offered = ", ".join(d.label for d in Dtype if accelerator.supports(d.label))
        raise InputError(f"--dtype {dtype}: {accelerator.name} supports {offered}")
    start = time.perf_counter()
    max_tp = gpus if cross_node_tp else sys_spec.node.scale_up_domain
    candidates = enumerate_plans(shape, gpus, seq_len, global_batch, dtypes, max_tp, schedules=schedules)
    plans = candidates.take(valid_mask(shape, candidates))
    evaluated = len(plans)
    keep_index, keep_key, keep_beyond = [], [], []
    ceilings = {d: published_mfu_ceiling(accelerator.name, profile.name, d.label) for d in Dtype}
    mfu_ceiling = np.array([np.inf if ceilings[d] is None else ceilings[d].mfu for d in Dtype])  # type: ignore[union-attr]
    for lo in range(0, evaluated, CHUNK):
        chunk = plans.take(slice(lo, lo + CHUNK))
        res = evaluate_plans(shape, cluster, chunk, profile)
        key = res["step_time_s"] if objective == "time" else res["memory_per_gpu_bytes"]
        fits = np.flatnonzero(res["fits"])
        keep_index.append(lo + fits)
        keep_key.append(key[fits])
        keep_beyond.append((res["mfu"] > mfu_ceiling[chunk.dtype])[fits])
        if progress is not None:
            progress(min(lo + CHUNK, evaluated), evaluated)
    index = np.concatenate(keep_index) if keep_index else np.zeros(0, dtype=np.int64)
    keys = np.concatenate(keep_key) if keep_key else np.zeros(0)
    beyond = np.concatenate(keep_beyond) if keep_beyond else np.zeros(0, dtype=bool)
    # search guard: plans predicted beyond the best published MFU rank after every plan within it
    order = index[np.lexsort((keys, beyond))[:top]]
    best_plans = plans.take(order)
    rows: list[PlanMetrics] = []
    if len(best_plans):
        res = evaluate_plans(shape, cluster, best_plans, profile)
        band = error_band(accelerator.name, profile.name, "training")
        rows = [_guarded(result_row(res, best_plans, i, accelerator.memory_bytes), ceilings, band)
                for i in range(len(best_plans))]
        args = (model if isinstance(model, str) else shape.name, system if isinstance(system, str) else sys_spec.name,
                stack if isinstance(stack, str) else profile.name)
        rows = [row.model_copy(update={"train_command": train_command(args[0], args[1], row.config, args[2])})
                for row in rows]
    seconds = time.perf_counter() - start
    reason = None
    if not rows:
        reason = (f"{shape.name} ({shape.total_params() / 1e9:.0f}B) in {'/'.join(dtypes)} does not fit "
                  f"{gpus} GPUs of {accelerator.memory_bytes / 2**30:.0f} GiB with any plan"
                  if evaluated else f"no valid plan for {gpus} GPUs with global batch {global_batch}")
    return PlanSearchResult(
        model=shape.name, system=sys_spec.name, gpus=gpus, objective=objective, stack=profile.name,
        best=rows[0] if rows else None, top=rows, reason=reason,
        evaluated=evaluated, feasible=int(index.size),
        seconds=seconds, configs_per_s=evaluated / seconds if seconds > 0 else float("inf"),
    )
