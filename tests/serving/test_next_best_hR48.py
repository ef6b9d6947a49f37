"""hR48's review of hB48 / hK46: serve-plan's next-best deployments after a grown retry (the retry can win one replica
larger while a cheaper option of the level's ranking was never run, the level running its first FULL_RUN_TRIES; that
option must not be listed as "next-best" with fewer accelerators than the answer), and the probe memo's key with
drafts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import speculative
from infraplan.serving.capacity_candidate import Candidate, _fingerprint
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.replica_search import FULL_RUN_TRIES, chosen_run, grown, next_best, whole_runs


def _opt(gpus: int, replicas: int, tp: int = 2, max_batch: int = 64) -> dict[str, Any]:
    return {"gpus": gpus, "replicas": replicas, "prefill_replicas": 0, "disaggregated": False, "attention_dp": 1,
            "tp": tp, "pp": 1, "max_batch": max_batch}


def test_a_grown_answer_lists_no_cheaper_option_as_next_best() -> None:
    """FULL_RUN_TRIES TP2 layouts at 8 GPUs miss near their SLO and meet at 10 (grown); a TP1 layout at 9 ranks
    after them: it is run whole before the grown 10 is accepted (hB49; before, never run) and misses, so the answer is
    TP2 at 10, and neither the 9-GPU layout nor the missed 8-GPU ones is a next-best."""
    tp2 = [_opt(8, 4, max_batch=b) for b in (256, 128, 64, 32, 16)[:FULL_RUN_TRIES]]
    tp1 = _opt(9, 9, tp=1)
    after = _opt(12, 3, tp=4)
    levels = iter([[*tp2, tp1, after]])
    options, runs = whole_runs(lambda below: next(levels, None), lambda o: (o, o["gpus"] >= 10),
                               lambda o, run: grown(o, 1.1, 0.5, 1_000))
    chosen, _, meets = chosen_run(runs)
    assert meets and (chosen["gpus"], chosen["tp"]) == (10, 2)
    assert [r[0]["gpus"] for r in runs] == [8] * FULL_RUN_TRIES + [9, 10]  # the cheaper layout ran before the 10
    assert runs[FULL_RUN_TRIES][0] is tp1 and not runs[FULL_RUN_TRIES][2]
    listed = next_best(options, runs, chosen)
    assert listed == [after]  # neither the 9-GPU layout nor the missed 8-GPU ones
    assert all(o["gpus"] >= chosen["gpus"] for o in listed)


def test_next_best_keeps_the_levels_ranking_and_the_beaten_levels_answers() -> None:
    """Without a retry: the level's options after the answer in rank order, then a shallower level's answer."""
    a, b, c = _opt(8, 4), _opt(8, 2, tp=4), _opt(12, 3, tp=4)
    shallower = _opt(16, 8)
    runs = [(shallower, None, True), (a, None, True)]
    assert next_best([a, b, c], runs, a) == [b, c, shallower]


def test_a_probe_verdicts_key_holds_the_drafts_acceptance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two candidates differing only in the drafts' acceptance run different decode steps (`decode_steps`), so
    their memo keys differ even where the cost tables do not carry it (CONTEXT_GROWTH off: the tables are the same),
    and a process that searches both (the web, fleet-mix's phases) cannot reuse one's verdict for the other."""
    monkeypatch.setattr(speculative, "CONTEXT_GROWTH", False)
    acc = Cluster.resolve("h100-sxm").accelerator
    cluster = Cluster.for_accelerator(acc, 8)
    shape = load_model("llama3-8b")
    low, high = (Candidate(shape, acc, cluster.fabric, Deployment(tp=1, dtype="fp8", speculative_tokens=2,
                                                                  acceptance=r)) for r in (0.5, 0.9))
    assert _fingerprint(low.cost) == _fingerprint(high.cost)  # the tables alone cannot tell them apart
    out = np.full(4, 200)
    assert (low.dep.decode_steps(out) > high.dep.decode_steps(out)).all()  # but their runs differ
    assert low.key != high.key and low.prefill_key != high.prefill_key
