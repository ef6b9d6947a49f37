"""Mutation wave hM23 (session 45) on `reliability --checkpoint-interval` (facility/reliability.py, hU58): the
optimum is Daly's to within 10 %, an infinite interval is refused, and the notes say which interval is whose.
"""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.facility.reliability import reliability_report


def test_dalys_interval_beats_ten_percent_either_side() -> None:
    """Goodput is flat near its optimum, and Daly's higher-order interval sits on it for d << M (16,384 H100 with
    Llama 3 405B's checkpoint: d ~3 s, M ~3 h): 10 % shorter or longer both give less (a relation, not a copied
    figure)."""
    base = reliability_report("h100-sxm", 16384, 54.0)
    tau = base.daly_interval_s
    assert base.checkpoint_write_s < 0.01 * base.job_mttf_s
    for other in (0.9 * tau, 1.1 * tau):
        assert reliability_report("h100-sxm", 16384, 54.0, checkpoint_interval_s=other).goodput < base.goodput


def test_an_infinite_interval_is_refused() -> None:
    """Never checkpointing is not an interval: the library refuses it as it refuses 0 (the CLI's one line)."""
    with pytest.raises(InputError, match="checkpoint interval"):
        reliability_report("h100-sxm", 8, 1.0, checkpoint_interval_s=float("inf"))


def test_the_notes_put_the_given_goodput_first_and_the_formula_at_dalys_interval() -> None:
    """At a given 30 min (1,800 s, seven times the 16,384-GPU job's Daly
    optimum of ~250 s) the first note states the goodput at
    1,800 s, then Daly's; the formula note is Daly's formula with its own result, not the given 1,800 s."""
    r = reliability_report("h100-sxm", 16384, 54.0, checkpoint_interval_s=1800.0)
    assert r.goodput < r.goodput_at_daly_interval and r.daly_interval_s != pytest.approx(1800.0, rel=0.05)
    given = r.notes[0]
    assert "as given" in given and "1,800 s" in given
    assert given.index(f"{r.goodput:.1%}") < given.index(f"{r.goodput_at_daly_interval:.1%}")
    (formula,) = [n for n in r.notes if n.startswith("checkpoint interval: Daly")]
    assert "= 1800 s" not in formula and "= 1,800 s" not in formula
    assert reliability_report("h100-sxm", 16384, 54.0).notes[0] == formula  # the default's own note, unchanged
