"""Mutation spot-checks, third wave (hM, session 34): Daly's interval and wall time (facility/checkpoint_goodput.py).

Each test fails on a one-line mutant (validation/notes/test_suite_cost_tried.md, "hM (session 34)"); the values are
Daly (2006, FGCS 22(3)) worked by hand."""

from __future__ import annotations

import math

import pytest

from infraplan.facility.checkpoint_goodput import daly_interval_s, wall_time_factor


def test_daly_interval_keeps_its_formula_between_one_and_two_mttfs() -> None:
    """Daly: tau = sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d for d < 2M, else M. d 150 s, M 100 s:
    sqrt(30,000) x (1 + sqrt(0.75) / 3 + 0.75 / 9) - 150 = 87.64 s (not M). Mutant R02 cut over at d >= M."""
    want = math.sqrt(30_000.0) * (1 + math.sqrt(0.75) / 3 + 0.75 / 9) - 150.0
    assert want == pytest.approx(87.64, abs=0.01)
    assert float(daly_interval_s(150.0, 100.0)) == pytest.approx(want, rel=1e-12)
    assert float(daly_interval_s(200.0, 100.0)) == 100.0  # d = 2M: tau = M


def test_wall_time_pays_the_restart_on_every_failure() -> None:
    """Daly's expected wall time per unit of work, M e^(R/M) (e^((tau + d)/M) - 1) / tau: M 10 h, R 600 s, d 60 s,
    tau 1 h gives 10 x e^(1/60) x (e^(0.10167) - 1) = 1.0881. Mutant R01 dropped e^(R/M) (1.0702)."""
    got = float(wall_time_factor(3600.0, 60.0, 600.0, 36_000.0))
    assert got == pytest.approx(10.0 * math.exp(600 / 36_000) * math.expm1(3660 / 36_000), rel=1e-12)
    assert got == pytest.approx(1.0881, abs=1e-4)
