"""Which engine of a pool each request of the disaggregated closed loop goes to (`serving.pair_loop`, module docstring
"Routing"): client-sticky, or round-robin over a pool's workers in the order the requests reach it, each worker's in
turn to its next engine or to its least loaded one, as a router's counter does (`serving.disaggregated`,
`ROUND_ROBIN_DECODE`, `ROUND_ROBIN_PREFILL`). Split from `serving.pair_loop` (hO59) to give that module room.
"""

from __future__ import annotations

import numpy as np


class Router:
    """Which engine of a pool each request goes to (`serving.pair_loop` module docstring, "Routing"): client-sticky
    (`workers` 0), or round-robin over `workers` in the order the requests reach the pool, each worker's in turn
    over its ranks (engines w * ranks + r) or to its least loaded rank (`least_loaded`: fewest requests handed and
    not finished, the lowest rank on ties). `counts`: the requests per engine, fixed up front; under `least_loaded`
    every rank is sized for its worker's whole share and the ranks left short when the worker's last request is
    handed are topped up with empty requests (`padding`), which end as they are admitted, behind every real one."""

    def __init__(self, n: int, clients: int, engines: int, workers: int, least_loaded: bool = False) -> None:
        self.workers, self.least_loaded = workers, least_loaded
        self.ranks = engines // workers if workers else 0
        self.sticky = ((np.arange(n) % clients) % engines).tolist()
        self.share = [len(range(w, n, workers)) for w in range(workers)]  # round-robin: requests per worker
        if not workers:
            self.counts = np.bincount(self.sticky, minlength=engines).tolist()
        elif least_loaded:
            self.counts = [self.share[w] for w in range(workers) for _ in range(self.ranks)]
        else:
            self.counts = [len(range(r, self.share[w], self.ranks)) for w in range(workers) for r in range(self.ranks)]
        self.handed = [0] * (workers + 1)  # requests handed to the pool, then to each worker
        self.load = [0] * engines  # handed and not finished, per engine
        self.given = [0] * engines

    def route(self, k: int) -> int:
        """The engine of request k, the next to reach the pool."""
        if not self.workers:
            return int(self.sticky[k])
        w = self.handed[0] % self.workers
        self.handed[0] += 1
        self.handed[w + 1] += 1
        base = w * self.ranks
        if self.least_loaded:
            e = min(range(base, base + self.ranks), key=lambda x: (self.load[x], x))
        else:
            e = base + (self.handed[w + 1] - 1) % self.ranks
        self.load[e] += 1
        self.given[e] += 1
        return e

    def finished(self, e: int) -> None:
        self.load[e] -= 1

    def padding(self, e: int) -> list[int]:
        """Engines (one entry per empty request) to top up once engine e's worker has had its whole share."""
        if not (self.workers and self.least_loaded):
            return []
        w = e // self.ranks
        if self.handed[w + 1] < self.share[w]:
            return []
        top = [x for x in range(w * self.ranks, (w + 1) * self.ranks) for _ in range(self.share[w] - self.given[x])]
        for x in top:
            self.given[x] += 1
        return top
