"""What a training search's `--dtype auto` considers, and how its answer states the choice.

auto searches the precisions the accelerator has a peak for and the stack trains in (`training.stack_limits.
searched_dtypes`) that have a published pre-training recipe for the model's class (`catalog.training_precisions`,
data with sources: NVFP4 is published for dense models only, every Blackwell MoE recipe of the same Megatron-Bridge
releases runs MXFP8). Where none of them has one, it searches them all and says so. The answer (`DtypeChoice`)
names the precision chosen, the ones left out and why, and what the fastest plan in any other precision gives
(one more search per other precision, top 1): so a planner sees that a 2T MoE on GB300 is planned in MXFP8 and that
NVFP4, were its recipe to hold for MoE, would be some per cent faster (session 45, hU58's finding: auto picked
NVFP4 at 8 % of the FP4 peak against fp8's 21 % of the fp8 peak, 74.7 vs 82.6 days).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.training_precisions import model_class, published_for
from infraplan.training.results import DtypeChoice, PlanMetrics, PlanSearchResult

AUTO_DTYPE = "auto"


def auto_dtypes(shape: TransformerShape, trained: Sequence[str], auto: bool = True) -> tuple[list[str], list[str]]:
    """(considered, left out) of the precisions `trained` (the accelerator's and the stack's, `stack_limits.
    searched_dtypes`) for `shape`'s class under `auto`: those with a published pre-training recipe for it; all of
    them where none has one, or where a dtype was asked (not `auto`), nothing left out."""
    if not auto:
        return list(trained), []
    cls = model_class(shape.is_moe)
    considered = [d for d in trained if published_for(d, cls)]
    if not considered:
        return list(trained), []
    return considered, [d for d in trained if d not in considered]


def _better(a: PlanMetrics, b: PlanMetrics, objective: str) -> bool:
    """Whether plan `a` ranks before `b` under the search objective (time: step time; memory: bytes per GPU)."""
    if objective == "memory":
        return a.memory_per_gpu_bytes < b.memory_per_gpu_bytes
    return a.step_time_s < b.step_time_s


def dtype_choice(shape: TransformerShape, considered: Sequence[str], left_out: Sequence[str], best: PlanMetrics,
                 search_one: Callable[[str], PlanSearchResult], objective: str = "time",
                 compare: bool = True) -> DtypeChoice:
    """The auto answer for `best` (the search's best plan over `considered`): with `compare`, the fastest plan in
    each other precision, `considered` or `left_out`, by `search_one(dtype)` (a search of that dtype alone); the
    one line saying what was chosen, why, and what the best of the others gives."""
    chosen = best.config.dtype
    cls = model_class(shape.is_moe)
    alternative: PlanMetrics | None = None
    for d in [*considered, *left_out] if compare else []:
        if d == chosen:
            continue
        found = search_one(d).best
        if found is not None and (alternative is None or _better(found, alternative, objective)):
            alternative = found
    words = "MoE" if cls == "moe" else "dense"
    basis = (f"the {'fastest' if objective == 'time' else 'leanest'} of {', '.join(considered)}"
             + (f", the precisions with a published {words} pre-training recipe (catalog/training_precisions.yaml;"
                f" left out: {', '.join(left_out)}, searched when --dtype names it)" if left_out else
                f" (each with a published {words} pre-training recipe)" if published_for(chosen, cls) else
                f" (none has a published {words} pre-training recipe: all searched)"))
    summary = f"dtype auto: {chosen}, {basis}"
    if alternative is not None:
        other = alternative.config.dtype
        faster = best.step_time_s / alternative.step_time_s - 1.0
        how = f"{abs(faster) * 100:.1f} % {'faster' if faster > 0 else 'slower'}"
        why = " (left out: no published recipe for the class)" if other in left_out else ""
        summary += (f"; best in {other}{why}: {alternative.tokens_per_s / 1e6:.3g} M tokens/s, {how}, MFU "
                    f"{alternative.mfu * 100:.1f} % of the {other} peak against {best.mfu * 100:.1f} % of the "
                    f"{chosen} peak")
    return DtypeChoice(
        chosen=chosen, model_class=cls, considered=list(considered), left_out=list(left_out),
        alternative=None if alternative is None else alternative.config.dtype,
        alternative_tokens_per_s=None if alternative is None else alternative.tokens_per_s,
        alternative_step_time_s=None if alternative is None else alternative.step_time_s,
        alternative_mfu=None if alternative is None else alternative.mfu, summary=summary)


def choice_short(choice: DtypeChoice, step_time_s: float) -> str:
    """The auto choice in a few words, for a plan's one-line detail (`planning.scenario_sizing`): what was chosen
    among what, and how much faster or slower the best other precision's step is than the chosen plan's
    `step_time_s`."""
    words = "MoE" if choice.model_class == "moe" else "dense"
    text = f"dtype auto: {choice.chosen} of {'/'.join(choice.considered)} (published {words} recipes)"
    if choice.alternative is None or choice.alternative_step_time_s is None:
        return text
    faster = step_time_s / choice.alternative_step_time_s - 1.0
    left = " (left out)" if choice.alternative in choice.left_out else ""
    return text + f", {choice.alternative}{left} {abs(faster) * 100:.0f} % {'faster' if faster > 0 else 'slower'}"
