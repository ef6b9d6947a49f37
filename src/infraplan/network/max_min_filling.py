"""Max-min fair rates of weighted flow classes by progressive filling, and its replay across events.

Progressive filling (Bertsekas & Gallager, "Data Networks", Sec. 6.5.2), vectorised: all unfrozen classes grow
together by the smallest fair share left on any link (remaining capacity / unfrozen weight through it); classes
crossing a link that saturates freeze. Max-min fairness gives identical flows identical rates (the allocation is
unique), so filling over classes of weight w is exact. `Incidence` is the link x class matrix (scipy.sparse, built
once); `max_min_rates` is one fresh filling; `Filling` keeps each event's rounds and replays them at the next
event while the same links saturate (hF, session 35: the per-class work reused, each round's link arithmetic
redone, so the rates are a fresh filling's to the bit). Used by the event-driven simulator `network.flow_sim`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["Filling", "Incidence", "max_min_rates"]


@dataclass(frozen=True)
class Incidence:
    """Link x class incidence of weighted flow classes on a compact link numbering.

    `paths` (classes, hops) int32 local link ids padded with -1 (class-major); `indptr`/`indices` the same
    incidence link-major (CSR, built once by a stable counting sort); `weight` flows per class.
    """

    paths: np.ndarray
    weight: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray

    @classmethod
    def build(cls, paths: np.ndarray, links: int, weight: np.ndarray | None = None) -> Incidence:
        paths = np.asarray(paths, dtype=np.int32)
        valid = paths >= 0
        indptr = np.zeros(paths.shape[0] + 1, dtype=np.int64)
        np.cumsum(valid.sum(axis=1), out=indptr[1:])
        entries = paths[valid]  # row-major: each class's links in turn
        by_class = sparse.csr_matrix((np.ones(entries.size, dtype=np.int8), entries, indptr),
                                     shape=(paths.shape[0], links))
        by_link = by_class.tocsc()  # scipy's linear-time transpose: link-major, classes in order
        w = np.ones(paths.shape[0]) if weight is None else np.asarray(weight, dtype=np.float64)
        return cls(paths, w, by_link.indptr, by_link.indices)

    def classes_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(class, link) of every entry of the link rows `rows`, in row order."""
        start = self.indptr[rows]
        lens = self.indptr[rows + 1] - start
        shift = np.repeat(start - np.cumsum(lens) + lens, lens)
        shift += np.arange(shift.size)
        return self.indices[shift], np.repeat(rows, lens)

    def load(self, classes: np.ndarray, links: int) -> np.ndarray:
        """Flows per link (weights summed) of `classes`: one weighted bincount per hop column, padding in bin 0."""
        rows = self.paths[classes]
        rows += 1
        w = np.repeat(self.weight[classes], rows.shape[1])
        return np.bincount(rows.ravel(), weights=w, minlength=links + 1)[1:]


def max_min_rates(paths: np.ndarray, capacity: np.ndarray, active: np.ndarray, rtol: float = 1e-9,
                  incidence: Incidence | None = None,
                  load: np.ndarray | None = None,
                  on_round: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Max-min fair per-flow rates of the `active` classes; returns (rates, link that froze each class, rounds).

    A class stands for `weight` identical flows (same links): it takes `weight` x its rate on each of its links,
    and max-min fairness gives identical flows identical rates, so filling over classes is exact. Each round
    raises the common rate of the unfrozen classes to the smallest fair share left (remaining capacity / unfrozen
    flows), then freezes the classes of the links that saturate. Links whose share is within `rtol` of the
    smallest saturate in the same round (rates exact to within `rtol`; many near-equal levels need few rounds).
    Only links that still carry unfrozen flows are visited, so a round costs the live links, not the fabric.
    `load` (flows per link of the active classes) may be passed in when the caller keeps it up to date.
    `on_round(frozen)`, if given, is called after every round with the classes frozen so far.
    """
    inc = Incidence.build(paths, capacity.size) if incidence is None else incidence
    return Filling(inc, capacity, rtol).fill(active, load, on_round=on_round)


@dataclass
class _Round:
    """One round of a filling, kept for the next event's: the links that saturated (ascending), the level, the
    classes it froze in order, the per-link flow counts they took off (sparse) and how many of them are active."""

    saturated: np.ndarray
    level: float
    frozen: np.ndarray
    drop_links: np.ndarray
    drop: np.ndarray
    active_frozen: int


class Filling:
    """Progressive filling (`max_min_rates`) that replays the previous event's rounds where they still hold.

    Between two events only the classes that finished leave (`finished`). A round of the new filling is the
    old round again when the links that saturate are the same (the old round's links that still carry flows):
    it freezes the same classes less the finished ones, at the level computed now, and takes the same flows off
    each link less the finished ones'. The per-link arithmetic (shares, levels, remaining capacity) is done every
    round exactly as a fresh filling does it; only the per-class work (which classes a saturated link holds,
    freezing them, their load) is reused, so the rates are the fresh filling's to the bit. From the first round
    that differs on, the rounds are computed afresh.
    """

    def __init__(self, inc: Incidence, capacity: np.ndarray, rtol: float) -> None:
        self.inc, self.capacity, self.rtol = inc, capacity, rtol
        c = inc.paths.shape[0]
        self.rate = np.zeros(c)
        self.frozen_by = np.full(c, -1, dtype=np.int64)
        self.round_of = np.full(c, -1, dtype=np.int32)  # round of the last filling that froze each class
        self.slot = np.empty(c, dtype=np.int64)  # scratch: first entry of each class among a round's entries
        self.rounds: list[_Round] = []
        self.changed = False  # whether the last `fill` changed any class's rate
        self.replayed = 0  # rounds of the last `fill` replayed from the one before

    def _finished_by_round(self, finished: np.ndarray) -> dict[int, np.ndarray]:
        """The `finished` classes grouped by the round of the last filling that froze them."""
        if not finished.size:
            return {}
        r_of = self.round_of[finished]
        order = np.argsort(r_of, kind="stable")
        r_sorted, cls = r_of[order], finished[order]
        cut = np.flatnonzero(np.diff(r_sorted)) + 1
        return {int(r[0]): c for r, c in zip(np.split(r_sorted, cut), np.split(cls, cut), strict=True)}

    def fill(self, active: np.ndarray, load: np.ndarray | None = None, finished: np.ndarray | None = None,
             on_round: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """Rates of the `active` classes (see `max_min_rates`); `finished`: classes that were active in the
        previous call and are not now (none: nothing is replayed)."""
        inc, capacity, rtol = self.inc, self.capacity, self.rtol
        links = capacity.size
        if finished is None:
            self.rounds = []
        old, self.rounds = self.rounds, []
        self.changed, self.replayed = False, 0
        gone = self._finished_by_round(np.asarray(finished if finished is not None else (), dtype=np.int64))
        count = inc.load(np.flatnonzero(active), links) if load is None else load.astype(np.float64)
        remaining = capacity.astype(np.float64)
        live = np.flatnonzero(count > 0.5)
        unfrozen: np.ndarray | None = None
        level, rounds, frozen = 0.0, 0, 0
        while live.size:
            share = remaining[live] / count[live]
            delta = float(share.min())
            level += delta
            remaining[live] -= delta * count[live]
            # links whose fair share is within rtol of the current level saturate with it (relative to the level,
            # not to this round's increment: late rounds have tiny increments and would saturate one link each)
            saturated = live[share <= delta + rtol * level]
            prev = old[rounds] if unfrozen is None and rounds < len(old) else None
            if prev is not None and np.array_equal(saturated, prev.saturated[count[prev.saturated] > 0.5]):
                done = gone.get(rounds)
                if done is not None:  # the finished classes it froze no longer count on their links
                    rows = inc.paths[done]
                    on = rows >= 0
                    at = np.searchsorted(prev.drop_links, rows[on])
                    np.subtract.at(prev.drop, at, np.broadcast_to(inc.weight[done][:, None], rows.shape)[on])
                    prev.active_frozen -= done.size
                if level != prev.level:
                    self.changed = True
                    self.rate[prev.frozen] = level
                    prev.level = level
                count[prev.drop_links] -= prev.drop
                self.rounds.append(prev)
                self.replayed += 1
                frozen += prev.active_frozen
            else:
                self.changed = True
                if unfrozen is None:
                    unfrozen = active.astype(bool)
                    for r in self.rounds:
                        unfrozen[r.frozen] = False
                cls, owner_link = inc.classes_of(saturated)
                keep = unfrozen[cls]
                cls, owner_link = cls[keep], owner_link[keep]
                slot = self.slot
                slot[cls[::-1]] = np.arange(cls.size - 1, -1, -1)  # sequential assignment: each class's first entry
                first = np.flatnonzero(slot[cls] == np.arange(cls.size))
                cls = cls[first]
                self.rate[cls] = level
                self.frozen_by[cls] = owner_link[first]
                self.round_of[cls] = rounds
                unfrozen[cls] = False
                took = inc.load(cls, links)
                drop_links = np.flatnonzero(took)
                drop = took[drop_links]
                count[drop_links] -= drop
                self.rounds.append(_Round(saturated, level, cls, drop_links, drop, int(cls.size)))
                frozen += int(cls.size)
            rounds += 1
            live = live[count[live] > 0.5]
            if on_round is not None:
                on_round(frozen)
        return self.rate, self.frozen_by, rounds
