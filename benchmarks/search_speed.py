"""Search speed: every plan for GPT-3 175B on 4,096 H100 (dgx-h100-superpod), batch 2,048, seq 2,048, and two
large spaces: DeepSeek-V3 with EP on 8,192 GB200 (gb200-nvl72, seq 4,096, batch 15,360) and Llama 3 405B on
131,072 H100 (the dgx-h100-superpod fabric at 131,072 GPUs, seq 8,192, batch 16,384).

Prints, per space, the plans evaluated, the candidate configurations (the plans valid under every rule but the
pipeline split's divisibility, `training.pipeline_split_rule`: the space before that filter, counted by an untimed
search on the same stack taking any layer count), the candidates per second and the seconds per whole search, each
the best of 3 in one process. Times are CPU seconds of this process (numpy is single-threaded here), so a busy
shared machine does not count against the search. The one-plan memo is emptied before each timed search
(`clear_one_plan_memo(pricings=False)`): the search prices its best plans on the single estimate's path, which
keeps them, so a repeated search would find them there; each timed search prices them as a new question does (the
cluster and stack's pricing kept, as after the warm-up). The timed search is the one grid over auto's precisions
(`compare_dtypes=False`, the API's default until hU67): the other precisions' top-1 searches that `search` and
`search_plans` add by default for `dtype_choice` are not timed.
Goals (issue 18, restated by hR45 when the split rule landed: it halves GPT-3's valid plans, 99,768 -> 52,440, and
DeepSeek-V3's falls 3.8 M -> 0.7 M, without the search's time falling with them, so plans evaluated per second no
longer measured the search's speed): >= 5,000,000 candidate configurations per second on GPT-3 (the same space and
figure as the plans/s goal before the rule), and each whole search answered in <= 0.05 s (GPT-3) / <= 0.3 s (each
large space).
Peers: Calculon 70-400 configs/s, llm-analysis ~2,500.
"""

from __future__ import annotations

import sys
import time

from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.search import search_plans

GOAL_CANDIDATES_PER_S = 5_000_000
GOAL_GPT3_S = 0.05
GOAL_LARGE_S = 0.3


def _best_of_3(*args: object) -> tuple[float, int]:
    search_plans(*args, compare_dtypes=False)  # type: ignore[arg-type, misc]  # warm caches (catalog loads)
    best = float("inf")
    for _ in range(3):
        clear_one_plan_memo(pricings=False)  # its best plans priced anew (module docstring)
        start = time.process_time()
        result = search_plans(*args, compare_dtypes=False)  # type: ignore[arg-type, misc]  # one grid (docstring)
        best = min(best, time.process_time() - start)
    return best, result.evaluated_count


def _candidates(*args: object) -> int:
    """The plans the search would evaluate with the default stack taking any layer count: the space before the
    pipeline split's divisibility filter (untimed)."""
    model = str(args[0])
    stack: Stack = resolve_stack(None, "training", model).model_copy(update={"pipeline_split_divisible": False})
    # (no other precisions' searches: `dtype_choice` reads none of this count; the API's default since hU67)
    return search_plans(*args, stack=stack, compare_dtypes=False).evaluated_count  # type: ignore[arg-type, misc]


def main() -> None:
    failed = False
    h100 = Cluster.resolve("dgx-h100-superpod")
    big = Cluster(h100.system.model_copy(update={"total_accelerators": 131072}), h100.accelerator)
    for label, args, ceiling in (
            ("GPT-3 175B / 4,096 H100", ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048), GOAL_GPT3_S),
            ("DeepSeek-V3 EP / 8,192 GB200", ("deepseek-v3", "gb200-nvl72", 8192, 4096, 15360), GOAL_LARGE_S),
            ("Llama 3 405B / 131,072 H100", ("llama3-405b", big, 131072, 8192, 16384), GOAL_LARGE_S)):
        seconds, evaluated = _best_of_3(*args)
        candidates = _candidates(*args)
        rate = candidates / seconds
        goal = f", goal {GOAL_CANDIDATES_PER_S:,}" if ceiling == GOAL_GPT3_S else ""
        print(f"search_speed: {label}: {evaluated:,} plans of {candidates:,} candidates in {seconds:.3f} s (goal <= "
              f"{ceiling} s); {rate:,.0f} candidates/s{goal}")
        failed |= seconds > ceiling or (ceiling == GOAL_GPT3_S and rate < GOAL_CANDIDATES_PER_S)
    if failed:
        print("search_speed: FAILED a goal")
        sys.exit(1)


if __name__ == "__main__":
    main()
