"""hI72 mutation wave on hF71's whole-server billing: the run's embodied carbon is amortised over the accelerators
it is billed for (its whole servers: 12 H100 on 8-GPU servers hold 16), as its GPU-hours, energy and cost are; with
`WHOLE_SERVERS` off it is the job's own 12. The wall clock is the same either way, so the two differ by 16 / 12."""

from __future__ import annotations

import pytest

from infraplan.planning import training_run
from infraplan.planning.training_run import training_run_totals
from infraplan.training import estimate_training


def _run(gpus: int):  # type: ignore[no-untyped-def]
    estimate = estimate_training("llama3-8b", "h100-sxm", gpus, tp=4, seq_len=4096, global_batch=gpus * 4)
    return training_run_totals(estimate, "h100-sxm", 1e9)


def test_embodied_carbon_counts_the_whole_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _run(12)
    monkeypatch.setattr(training_run, "WHOLE_SERVERS", False)
    own = _run(12)
    assert whole.time_to_train_s == own.time_to_train_s
    assert whole.co2_embodied_t is not None and own.co2_embodied_t is not None and own.co2_embodied_t > 0
    assert whole.co2_embodied_t == pytest.approx(own.co2_embodied_t * 16 / 12, rel=1e-12)
    assert whole.co2_t == pytest.approx(own.co2_t * 16 / 12, rel=1e-12)  # operational: energy on the 16 too
