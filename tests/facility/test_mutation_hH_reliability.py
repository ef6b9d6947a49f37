"""Planned stops cost a restart and a checkpoint write (hH mutation spot-check, session 33: the mutation below
survived every existing test).

- `facility.reliability` (module docstring): planned interruptions are checkpointed first, so each costs R + d
  on top of Daly's expected wall time. Without failures (MTTF -> infinity) Daly's factor is (tau + d) / tau, and
  a rate p of planned stops per second gives goodput = tau / (tau + d) / (1 + p (R + d)). A stop charged R only
  survived the existing check, which asked only that planned stops lower the goodput.
"""

from __future__ import annotations

import pytest

from infraplan.facility.checkpoint_goodput import goodput


def test_a_planned_stop_costs_a_restart_and_a_checkpoint_write() -> None:
    tau, write, restart = 3600.0, 60.0, 600.0  # s: interval, checkpoint write, restart
    per_s = 1.0 / 86400.0  # one planned stop a day
    no_failures = 1e15  # MTTF, s
    expected = tau / (tau + write) / (1.0 + per_s * (restart + write))
    assert float(goodput(tau, write, restart, no_failures, planned_per_s=per_s)) == pytest.approx(expected, rel=1e-6)
    assert float(goodput(tau, write, restart, no_failures)) == pytest.approx(tau / (tau + write), rel=1e-6)
