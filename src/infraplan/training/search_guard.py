"""The plan search's published-MFU guard (issue 12 item 7): the ceiling of each precision, the test that ranks a
plan after those within it, the flags a listed plan carries, and what the guard did to the ranking (hG52).

A plan's MFU is compared with its precision's ceiling (`catalog.published_mfu.published_mfu_ceiling`) in the
figure's FLOP convention (`training.flops.causal_flops_ratio`, `results.published_mfu_flag`); a plan short of the
memory margin is ranked in the same tier (`communicator_buffers.tight`). `guard_effect` counts, per precision, the
plans `Found.best` ranked after its first for a flag though the objective put them ahead (`Found.passed_over`), and
names the fastest of them: where the guard, not the model, chose the answer (hU61, session 47: Llama 3 405B on
16,384 H100 in bf16, the best plan 6.32 s at the 43.0 % ceiling where the model's fastest is 4.89 s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from infraplan.catalog.error_bands import ErrorBand
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.published_mfu import PublishedMfu
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.training.activation_offload import offloaded_layers
from infraplan.training.batch_idle_note import idle_batch_notes
from infraplan.training.communicator_buffers import memory_headroom_flag, tight
from infraplan.training.enums import Dtype
from infraplan.training.estimate import mfu_ceiling as cached_mfu_ceiling
from infraplan.training.host_bound_note import host_bound_notes
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import Found, one_plans
from infraplan.training.plan_outputs import model_tflops_per_gpu, peak_flops
from infraplan.training.results import MfuCeiling, PlanConfig, PlanMetrics, published_mfu_flag
from infraplan.training.search_rows import FULL, Pricing


@dataclass(frozen=True)
class SearchGuard:
    """One search's guard: the ceiling of every precision, whether it ranks (else it only flags), the plan's
    causal-to-full FLOP ratio (a causal-scores figure compared like with like) and the memory margin (a share of
    HBM)."""

    ceilings: dict[Dtype, PublishedMfu | None]
    ranks: bool
    causal_ratio: float
    margin: float
    mfu_ceiling: np.ndarray  # per Dtype value: the ceiling a plan is ranked after beyond (inf: none, or not ranking)
    in_convention: np.ndarray  # per Dtype value: the factor taking a plan's MFU to the figure's convention
    pricing: Pricing = FULL  # the search's kind of step: its memory against the margin (`frozen_guard`)

    def over_mfu(self, plans: PlanArrays, mfu: np.ndarray) -> np.ndarray:
        """Plans whose MFU (`plan_mfu`) is beyond their precision's ceiling (none when the guard does not rank)."""
        return np.asarray(mfu * self.in_convention[plans.dtype] > self.mfu_ceiling[plans.dtype])

    def pinned(self, shape: TransformerShape, cluster: Cluster) -> Callable[[PlanArrays, np.ndarray], np.ndarray]:
        """`Found.best`'s `pinned`: which plans at these step times are over their precision's MFU ceiling (the
        flag that pins the best plan's time just under the ceiling's, so `best` breaks its ties by layout)."""
        return lambda plans, step_s: self.over_mfu(plans, plan_mfu(shape, cluster, plans, step_s))

    def beyond(self, shape: TransformerShape, cluster: Cluster, profile: Stack, plans: PlanArrays,
               step_s: np.ndarray) -> np.ndarray:
        """`Found.best`'s flags: beyond the MFU ceiling, or short of the memory margin (each plan's memory as its
        row gives it: one at a time, as the search's best plans are priced, no array split re-bisected)."""
        memory = np.array([self.pricing.one_memory(shape, cluster, plan, profile) for plan in one_plans(plans)])
        low = tight(memory, cluster.accelerator.memory_bytes, self.margin)  # (`memory_headroom_flag`'s test)
        return np.asarray(self.over_mfu(plans, plan_mfu(shape, cluster, plans, step_s)) | low)

    def row(self, row: PlanMetrics, band: ErrorBand | None) -> PlanMetrics:
        """The row with its error band and, when its MFU is beyond its ceiling, the flag and reason (as `train`
        flags it); its headroom against the margin, flagged where below it (`memory_headroom_flag`)."""
        ceiling = self.ceilings[Dtype.parse(row.config.dtype, "--dtype")]
        flag = published_mfu_flag(row.mfu, ceiling, "ranked after plans within it" if self.ranks
                                  else "ranked by predicted time (no MFU guard)", self.causal_ratio)
        room = memory_headroom_flag(row.memory_per_gpu_bytes, row.memory_capacity_bytes, self.margin,
                                    "ranked after plans with the margin")
        return row.model_copy(update={"error_band": band, **flag, **room})

    def idle_notes(self, row: PlanMetrics, profile: Stack | None = None) -> list[str]:
        """`train`'s notes of the plan where its batch leaves GPUs idle (`batch_idle_note`), against its ceiling, and,
        under `profile`, where its GPU waits for its host (`host_bound_note`; hK58)."""
        ceiling = self.ceilings[Dtype.parse(row.config.dtype, "--dtype")]
        host = ([] if profile is None else host_bound_notes(row.step_time_s, row.breakdown_s.host_exposed,
                                                             row.host_exposed_phases_s.model_dump(),
                                                             row.cuda_graphs, profile.name))
        return [*idle_batch_notes(row.config.model_dump(), row.mfu, ceiling, self.causal_ratio), *host]


def plan_mfu(shape: TransformerShape, cluster: Cluster, plans: PlanArrays, step_s: np.ndarray) -> np.ndarray:
    """Each plan's MFU at `step_s`: model FLOPs per GPU over its precision's dense peak."""
    return np.asarray(model_tflops_per_gpu(shape, plans, step_s) * 1e12 / peak_flops(cluster, plans))


def search_guard(accelerator: str, stack_class: str, leave_out: Sequence[str], ranks: bool, causal_ratio: float,
                 margin: float, pricing: Pricing = FULL) -> SearchGuard:
    """The guard of a search on `accelerator` (its catalog name) under `stack_class`, without the validation cases
    `leave_out`; `ranks` False: flags only (what-if hardware, --no-mfu-guard); `pricing`: the search's kind of step
    (its memory against the margin)."""
    ceilings = {d: cached_mfu_ceiling(accelerator, stack_class, d.label, tuple(leave_out)) for d in Dtype}
    bars = np.array([c.mfu if c is not None and ranks else np.inf for c in ceilings.values()])
    convention = np.array([causal_ratio if c is not None and c.flop_convention == "causal_scores" else 1.0
                           for c in ceilings.values()])  # (`published_mfu_flag`'s product)
    return SearchGuard(ceilings, ranks, causal_ratio, margin, bars, convention, pricing)


def frozen_guard(margin: float, pricing: Pricing) -> SearchGuard:
    """The guard of a search whose kind of step has no published MFU (`Pricing.guarded` False): a LoRA search's
    (`search --lora-rank`): no MFU ceiling, as `train --lora-rank` applies none (every published figure,
    `catalog.published_mfu`, is a pre-training MFU in the 6N-type count; a frozen-base step's MFU is Megatron-Bridge's
    LoRA count, `frozen_base.FLOP_CONVENTION`, and no LoRA figure is in the catalog), the memory margin on the frozen
    base's memory; a DSA warm-up search's (`search --dsa-stage warmup`: no warm-up MFU is published either), the
    margin on the warm-up's memory (`dsa_warmup_grid`)."""
    none = np.full(max(int(d) for d in Dtype) + 1, np.inf)
    return SearchGuard({d: None for d in Dtype}, False, 1.0, margin, none, np.ones(none.size), pricing)


def guard_effect(guard: SearchGuard, dtypes: Sequence[str], shape: TransformerShape, cluster: Cluster,
                 found: Found, profile: Stack | None = None) -> dict[str, Any]:
    """`PlanSearchResult`'s fields of what the ranking did, from `found.passed_over` (`Found.best` has run): the
    ceiling of each searched precision with the plans it ranked after the best (`mfu_ceilings`: how many, and the
    fastest's time, MFU and layout, hF59: the layout the model prefers where the ceiling chose another), and the plans
    ranked after it for their memory headroom alone, counted and the fastest's step time (`margin_*`). `profile`:
    the search's stack, whose activation offload a layout names as the search's rows do (`offloaded_layers`)."""
    passed = found.passed_over
    step_s, over, mfu, dtype = np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0, dtype=np.int64)
    if passed.size:
        plans = found.plans(passed)
        step_s = found.step_s[passed]
        mfu, dtype = plan_mfu(shape, cluster, plans, step_s), plans.dtype
        over = guard.over_mfu(plans, mfu)
    out: list[MfuCeiling] = []
    for label in dtypes:
        d = Dtype.parse(label, "--dtype")
        ceiling = guard.ceilings[d]
        if ceiling is None:
            continue
        mine = np.flatnonzero(over & (dtype == int(d)))
        fastest = int(mine[np.argmin(step_s[mine])]) if mine.size else None
        out.append(MfuCeiling(
            dtype=d.label, mfu=ceiling.mfu, flop_convention=ceiling.flop_convention, family=ceiling.family,
            stack_class=ceiling.stack, figure_dtype=ceiling.dtype, source=ceiling.source, lookup=ceiling.lookup,
            fallback=ceiling.lookup in ("own_other_precision", "any_family"), basis=ceiling.basis,
            ranks=guard.ranks, ranked_after_count=int(mine.size),
            fastest_ranked_after_step_time_s=None if fastest is None else float(step_s[fastest]),
            fastest_ranked_after_mfu=None if fastest is None else float(mfu[fastest]),
            fastest_ranked_after_config=None if fastest is None else _config(plans, fastest, shape, profile)))
    margin = step_s[~over]
    return {"mfu_ceilings": out, "margin_ranked_after_count": int(margin.size),
            "margin_fastest_ranked_after_step_time_s": float(margin.min()) if margin.size else None}


def _config(plans: PlanArrays, i: int, shape: TransformerShape, profile: Stack | None) -> PlanConfig:
    """Plan `i` of `plans` as a row's `config`: the layers it offloads under `profile` (0 where Megatron would not)."""
    row = plans.row(i)
    if profile is not None and profile.cpu_offload_layers:
        row["offload_layers"] = int(np.ravel(offloaded_layers(profile, plans.take([i]), float(shape.num_layers)))[0])
    return PlanConfig.model_validate(row)
