"""Why the search's best plan of an MoE model runs its expert parallelism: the best plan of the other kind (EP 1
against EP > 1) and where their step times differ.

hF59 (session 59): `search mixtral-8x7b --system dgx-b200 --gpus 64` answered EP 1, 2.4 % ahead of an EP 8 plan
(inside the error band), and no line said why; a user who expects EP > 1 for an MoE wants the comparison. Once per
answer, never per candidate: the other kind's best is the first of the answer's own top plans of that kind (they are
a stable sort of every plan), else a second search over the plans of that kind alone (`search_plans(ep_mask=...)`,
top 1, the same precision, stack, schedules and MFU guard). The line names that plan, its step time against the
best's, and the `breakdown_s` rows that differ most (the step's exposed terms as `train` reports them, which add up
to the step time, so the rows' differences add up to the two steps').
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.training.results import PlanMetrics
from infraplan.units import significant_text

TERMS_SHOWN = 3  # breakdown rows named, the largest differences first
# where the answer's top plans hold none of the other kind: search that kind alone (once per answer). CPU seconds of
# the whole `search_plans` call, best of 3, benchmarks/search_speed.py's DeepSeek-V3 EP on 8,192 GB200 (EP 64 best, no
# EP 1 plan in its top 5): 0.184 without the line, 0.229 with it; dense models (GPT-3, Llama 3 405B) never search
# again. The answer's own `seconds` / `configs_per_s` stop before it. False: the line says only that the top has none.
SECOND_SEARCH = True
EpMask = Callable[[np.ndarray], np.ndarray]  # plan EP degrees -> the plans to keep


def every_ep(eps: np.ndarray) -> np.ndarray:
    """Every plan, with no EP line: a search that is itself a comparison (`dtype_choice`'s per-precision best), or
    whose answer drops the line (a scaling curve's points, `ScalingResult`; a campus sizing's or a validation case's
    best): the line's second search is not run for them (hQ59: mixtral-8x7b on dgx-b200 at 64, 128, 256 GPUs,
    the three searches 0.17-0.29 s with it, 0.13-0.14 s without)."""
    return np.ones(eps.shape, dtype=bool)


EVERY_EP: EpMask = every_ep


def _ep_one(eps: np.ndarray) -> np.ndarray:
    return np.asarray(eps == 1)


def _ep_many(eps: np.ndarray) -> np.ndarray:
    return np.asarray(eps > 1)


def other_kind(ep: int) -> EpMask:
    """The mask of the plans of the other kind than EP `ep`: EP > 1 for EP 1, EP 1 for EP > 1."""
    return _ep_many if ep == 1 else _ep_one  # (two masks, the same each call: a search caches its answer by them)


def _signed_ms(seconds: float) -> str:
    return f"{'+' if seconds >= 0 else '-'}{significant_text(abs(seconds) * 1e3, 3)} ms"


def _layout(row: PlanMetrics) -> str:
    c = row.config
    vpp = f" x V{c.vpp}" if c.vpp > 1 else ""
    return (f"TP{c.tp} CP{c.cp} PP{c.pp}{vpp} DP{c.dp} EP{c.ep} mb{c.micro_batch} {c.recompute} Z{c.zero} "
            f"{c.dtype}")


def ep_choice(shape: TransformerShape, rows: list[PlanMetrics],
              search_other: Callable[[EpMask, str], PlanMetrics | None]) -> str | None:
    """The answer's "why this EP" line for an MoE model (None for a dense model or no plan). `search_other(mask,
    dtype)`: the best plan of the masked kind in the best plan's precision, or None where none is valid and fits."""
    if not shape.is_moe or not rows:
        return None
    best = rows[0]
    ep = best.config.ep
    wanted = "EP > 1" if ep == 1 else "EP 1"
    other = next((r for r in rows[1:] if (r.config.ep > 1) != (ep > 1) and r.config.dtype == best.config.dtype),
                 None) or (search_other(other_kind(ep), best.config.dtype) if SECOND_SEARCH else None)
    if other is None:
        return (f"why EP {ep}: no plan with {wanted} in {best.config.dtype} is valid and fits in memory"
                if SECOND_SEARCH else f"why EP {ep}: none of the {len(rows)} best plans runs {wanted} (--top more)")
    delta = other.step_time_s - best.step_time_s
    mine, theirs = best.breakdown_s.model_dump(), other.breakdown_s.model_dump()
    terms = sorted(((theirs[k] - mine[k], k) for k in theirs), key=lambda d: -abs(d[0]))[:TERMS_SHOWN]
    split = ", ".join(f"{k} {_signed_ms(d)}" for d, k in terms if d)
    band, gap = best.error_band, abs(delta) / best.step_time_s
    within = (f"; smaller than this answer's error band ({band.low:+.0%}..{band.high:+.0%})"
              if band is not None and gap < min(-band.low, band.high) else "")
    how = "slower" if delta >= 0 else "faster, ranked after the best by the MFU ceiling or the memory margin"
    return (f"why EP {ep}: the best plan with {wanted}, {_layout(other)}, takes {other.step_time_s:.4g} s a step, "
            f"{gap:.1%} {how} ({_signed_ms(delta)}: {split or 'no term differs'})"
            f"{within}")
