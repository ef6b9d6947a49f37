"""Mutation wave hM24 (session 46) on `--dtype auto`'s answer (`training.dtype_choice`, hD50): which precisions are
compared, how the best other one is picked under each objective, and the words and figures of its line, on
hand-made plans whose ratios are worked by hand (no search run)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.training.dtype_choice import auto_dtypes, choice_short, dtype_choice
from infraplan.training.results import PlanMetrics, PlanSearchResult

MOE = cast(TransformerShape, SimpleNamespace(is_moe=True))  # only its class is read
DENSE = load_model("llama3-8b")


def _plan(dtype: str, step_s: float, tokens_per_s: float = 1e6, mfu: float = 0.3, memory: float = 50e9) -> Any:
    return SimpleNamespace(config=SimpleNamespace(dtype=dtype), step_time_s=step_s, tokens_per_s=tokens_per_s,
                           mfu=mfu, memory_per_gpu_bytes=memory)


class _Searches:
    """`search_one`: each dtype's best plan, and the dtypes searched, in order."""

    def __init__(self, plans: dict[str, Any]) -> None:
        self.plans, self.asked = plans, []  # type: ignore[var-annotated]

    def __call__(self, dtype: str) -> PlanSearchResult:
        self.asked.append(dtype)
        return cast(PlanSearchResult, SimpleNamespace(best=self.plans.get(dtype)))


def _choose(shape: Any, considered: list[str], left_out: list[str], best: Any, plans: dict[str, Any],
            objective: str = "time") -> Any:
    searches = _Searches(plans)
    choice = dtype_choice(shape, considered, left_out, cast(PlanMetrics, best), searches, objective)
    return choice, searches.asked


def test_an_asked_dtype_leaves_nothing_out_even_for_a_class_without_its_recipe() -> None:
    """`auto` False (a dtype named): every trained precision is searched, nvfp4 on an MoE included."""
    assert auto_dtypes(MOE, ["bf16", "nvfp4"], auto=False) == (["bf16", "nvfp4"], [])
    assert auto_dtypes(MOE, ["bf16", "nvfp4"]) == (["bf16"], ["nvfp4"])


def test_the_chosen_precision_is_not_searched_again_nor_its_own_alternative() -> None:
    """One search per *other* precision: the chosen one's plan is the answer, never its alternative, even where a
    search of it would return a plan faster than every other."""
    best = _plan("fp8", 1.0)
    choice, asked = _choose(DENSE, ["bf16", "fp8"], [], best, {"fp8": best, "bf16": _plan("bf16", 1.5)})
    assert asked == ["bf16"] and choice.alternative == "bf16"


def test_a_considered_precision_faster_than_the_left_out_one_is_the_alternative() -> None:
    """The fastest of every other precision, considered or left out: bf16 (considered) at 1.2 s beats nvfp4 (left
    out) at 1.4 s, and its line names no recipe gap."""
    choice, _ = _choose(MOE, ["bf16", "fp8"], ["nvfp4"], _plan("fp8", 1.0),
                        {"bf16": _plan("bf16", 1.2), "nvfp4": _plan("nvfp4", 1.4)})
    assert choice.alternative == "bf16"
    assert "no published recipe" not in choice.summary.split("best in")[1]
    left, _ = _choose(MOE, ["bf16", "fp8"], ["nvfp4"], _plan("fp8", 1.0),
                      {"bf16": _plan("bf16", 1.5), "nvfp4": _plan("nvfp4", 0.9)})
    assert left.alternative == "nvfp4" and "best in nvfp4 (left out: no published recipe for the class)" in \
        left.summary


def test_under_the_memory_objective_the_leanest_other_plan_is_named() -> None:
    """objective memory: the alternative is the other precision with the fewest bytes per GPU (fp8 at 40 GB), not the
    fastest (bf16, 60 GB); the basis says "leanest"."""
    choice, _ = _choose(DENSE, ["bf16", "fp8", "nvfp4"], [], _plan("nvfp4", 1.0, memory=30e9),
                        {"bf16": _plan("bf16", 1.1, memory=60e9), "fp8": _plan("fp8", 1.3, memory=40e9)}, "memory")
    assert choice.alternative == "fp8"
    assert choice.summary.startswith("dtype auto: nvfp4, the leanest of bf16, fp8, nvfp4")


def test_on_a_tie_the_precision_searched_first_stays_the_alternative() -> None:
    """Equal bytes per GPU: the earlier in the order searched (the considered ones, with a published recipe, before
    the left-out) is kept; a later one replaces it only when strictly better."""
    choice, _ = _choose(MOE, ["fp8", "mxfp8"], ["nvfp4"], _plan("mxfp8", 1.0, memory=30e9),
                        {"fp8": _plan("fp8", 1.1, memory=40e9), "nvfp4": _plan("nvfp4", 0.9, memory=40e9)}, "memory")
    assert choice.alternative == "fp8"


def test_the_line_states_the_alternatives_speed_tokens_and_each_mfu_by_hand() -> None:
    """Chosen fp8 at 1.0 s a step, MFU 20 %; the alternative bf16 at 0.8 s, 2.5 M tokens/s, MFU 30 % of its own
    peak: its throughput is 1 / 0.8 = 1.25x, "25.0 % faster"; at 2.0 s it would be half, "50.0 % slower"."""
    choice, _ = _choose(DENSE, ["bf16", "fp8"], [], _plan("fp8", 1.0, mfu=0.2),
                        {"bf16": _plan("bf16", 0.8, tokens_per_s=2.5e6, mfu=0.3)})
    text = choice.summary
    assert "best in bf16: 2.5 M tokens/s, 25.0 % faster, MFU 30.0 % of the bf16 peak against 20.0 % of the fp8 peak" \
        in text
    slow, _ = _choose(DENSE, ["bf16", "fp8"], [], _plan("fp8", 1.0), {"bf16": _plan("bf16", 2.0)})
    assert "50.0 % slower" in slow.summary


def test_the_basis_names_the_class_and_whether_its_recipes_are_published() -> None:
    """A dense model in published precisions: "each with a published dense pre-training recipe"; an MoE whose
    precisions have none published (nvfp4 alone, searched as all): "none has a published MoE pre-training recipe";
    an MoE with one left out names the MoE recipes."""
    dense, _ = _choose(DENSE, ["bf16", "fp8"], [], _plan("fp8", 1.0), {})
    assert dense.summary == ("dtype auto: fp8, the fastest of bf16, fp8 (each with a published dense pre-training "
                             "recipe)")
    none, _ = _choose(MOE, ["nvfp4"], [], _plan("nvfp4", 1.0), {})
    assert none.summary.endswith("(none has a published MoE pre-training recipe: all searched)")
    moe, _ = _choose(MOE, ["bf16", "fp8"], ["nvfp4"], _plan("fp8", 1.0), {})
    assert "with a published MoE pre-training recipe" in moe.summary


def test_choice_short_gives_the_alternatives_throughput_ratio_and_class() -> None:
    """A plan's detail: fp8 chosen at 1.0 s a step, nvfp4 (left out) at 0.8 s: 1 / 0.8 - 1 = 25 % faster; at 1.25 s:
    1 / 1.25 - 1 = -20 %, "20 % slower"."""
    choice, _ = _choose(MOE, ["bf16", "fp8"], ["nvfp4"], _plan("fp8", 1.0), {"nvfp4": _plan("nvfp4", 0.8)})
    assert choice_short(choice, 1.0) == "dtype auto: fp8 of bf16/fp8 (published MoE recipes), nvfp4 (left out) 25 % " \
        "faster"
    slower, _ = _choose(DENSE, ["bf16", "fp8"], [], _plan("fp8", 1.0), {"bf16": _plan("bf16", 1.25)})
    assert choice_short(slower, 1.0) == "dtype auto: fp8 of bf16/fp8 (published dense recipes), bf16 20 % slower"
