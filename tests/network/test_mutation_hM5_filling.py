"""Mutation wave 5 (hM5): `network.max_min_filling.Filling`'s replay, counted by hand on a two-link fabric.

Link 0 (capacity 1) carries classes A and B, link 1 (capacity 10) class C. The first filling: level 1/2 saturates
link 0 (A and B frozen at 0.5), then C at 10. After A finishes, the replay's first round is link 0 again (B alone:
level 1), freezing B only, then C at 10: the rounds report 1 and then 2 classes frozen, not the 2 and 3 of before."""

from __future__ import annotations

import numpy as np

from infraplan.network.max_min_filling import Filling, Incidence


def test_a_replayed_round_counts_only_the_classes_still_active() -> None:
    paths = np.array([[0], [0], [1]])
    filling = Filling(Incidence.build(paths, 2), np.array([1.0, 10.0]), 1e-9)
    seen: list[int] = []
    rate, _, rounds = filling.fill(np.array([True, True, True]), on_round=seen.append)
    assert rounds == 2 and seen == [2, 3] and rate.tolist() == [0.5, 0.5, 10.0]
    seen.clear()
    rate, _, rounds = filling.fill(np.array([False, True, True]), finished=np.array([0]), on_round=seen.append)
    assert filling.replayed == 2 and rounds == 2
    assert seen == [1, 2]
    assert rate[1:].tolist() == [1.0, 10.0]


def test_a_fill_without_finished_classes_is_a_fresh_filling() -> None:
    # `fill`'s docstring: `finished` none -> nothing is replayed (A left without being said finished)
    paths = np.array([[0], [0], [1]])
    filling = Filling(Incidence.build(paths, 2), np.array([1.0, 10.0]), 1e-9)
    filling.fill(np.array([True, True, True]))
    seen: list[int] = []
    rate, _, rounds = filling.fill(np.array([False, True, True]), on_round=seen.append)
    assert filling.replayed == 0 and rounds == 2 and seen == [1, 2]
    assert rate[1:].tolist() == [1.0, 10.0]
