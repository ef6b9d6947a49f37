"""hN59's hand mutants over the disaggregated closed loop's window (hO59: `window_marks.next_cut`, `ClosedCuts`,
`pair_router.Router`) that no test killed (validation/notes/product_review_tried.md, session 59)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.serving.pair_router import Router
from infraplan.serving.window_marks import ClosedCuts, closed_window, next_cut


def test_a_steps_tensor_core_work_is_capped_at_its_seconds() -> None:
    """The loops add min(tensor-core s, step s) per iteration (engine_loop: `compute += f if f < t else t`): a cut
    half-way through a 1 s step of 3 s tensor-core time takes half of 1 + 1, from 18 at the step's start."""
    marks: list[float] = []
    assert next_cut(marks, [9.5], 10.0, 20.0, 1.0, 3.0) == math.inf
    assert marks == pytest.approx([19.0])  # uncapped: 16 + 0.5 x 4 = 18


@pytest.mark.parametrize(("n", "clients", "mid"), [(5, 2, 2), (3, 2, 2), (4, 1, 1), (100, 8, 46)])
def test_the_middle_request_is_past_the_first_wave(n: int, clients: int, mid: int) -> None:
    """max(clients, (n - clients) // 2): a short run's middle is the first request a client sends after its first
    (k >= clients, the only ones `sent` is told of), and `closed_window` reads the same request."""
    cuts = ClosedCuts(n, clients)
    assert cuts.mid == mid
    cuts.sent(mid, 3.0)
    assert cuts.cuts == [3.0]
    sent = np.arange(n, dtype=float)
    window = closed_window(sent, sent + 100.0, clients)
    assert window is not None and window[0] == float(mid)


@pytest.mark.parametrize(("n", "clients"), [(1, 1), (2, 2), (1, 4), (3, 0)])
def test_no_later_send_no_window(n: int, clients: int) -> None:
    """No client sends twice (n <= clients) or no client: no cut, none read."""
    cuts = ClosedCuts(n, clients)
    assert not cuts.open and cuts.mid == -1
    for k in range(n):
        cuts.sent(k, float(k))
    cuts.ended(5.0)
    assert cuts.cuts == [] and cuts.rate([], 1.0) is None
    assert closed_window(np.arange(float(n)), np.arange(float(n)) + 1.0, clients) is None


def test_least_loaded_takes_the_lowest_rank_on_ties() -> None:
    router = Router(4, 4, 2, 1, least_loaded=True)
    assert [router.route(k) for k in range(2)] == [0, 1]
    router.finished(1)
    router.finished(0)
    assert router.route(2) == 0  # both idle again: the lowest
