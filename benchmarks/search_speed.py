"""Search speed: every plan for GPT-3 175B on 4,096 H100 (dgx-h100-superpod), batch 2,048, seq 2,048.

Prints the number of plans evaluated and configs/s on one core (numpy is single-threaded here).
Goal (issue 8): >= 1,000,000 configs/s. Peers: Calculon 70-400 configs/s, llm-analysis ~2,500.
"""

from __future__ import annotations

import sys
import time

from infraplan.training.search import search_plans

GOAL_CONFIGS_PER_S = 1_000_000


def main() -> None:
    search_plans("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048)  # warm caches (catalog loads)
    best = None
    for _ in range(3):
        start = time.perf_counter()
        result = search_plans("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048, dtype="auto")
        elapsed = time.perf_counter() - start
        rate = result.evaluated / elapsed
        best = rate if best is None else max(best, rate)
    print(f"plans evaluated: {result.evaluated:,} (feasible {result.feasible:,})")
    print(f"search_speed: {best:,.0f} configs/s (best of 3, one process; goal {GOAL_CONFIGS_PER_S:,})")
    if best < GOAL_CONFIGS_PER_S:
        print("search_speed: FAILED the goal")
        sys.exit(1)


if __name__ == "__main__":
    main()
