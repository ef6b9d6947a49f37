"""Mutation wave 10 (hM10, session 39): `plan`'s training job size under a deadline (`size_training`), by hand.

The search (scenario_sizing.py): start at the devices whose memory holds the weights, gradients and Adam state
(18 bytes a parameter on the default stack, fully sharded: `first_training_count`, hP61; 16 before), rounded up
to a power of two (at least TRAINING_MIN_GPUS = 8); double until a plan meets the deadline (wall clock <=
deadline; up to TRAINING_MAX_GPUS = 2^18 devices), then take the
first of four steps between the last miss and that hit that meets it. Here the best plan's wall clock on g devices
is W / g (`_training_point` written by hand), so each answer is arithmetic.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import infraplan.planning.scenario_sizing as sz

W_S = 100 * 86400.0  # the run on one device, seconds


def _size(monkeypatch: pytest.MonkeyPatch, model: str, deadline_s: float) -> sz.Sized | str:
    def point(model: str, device: str, system: str | None, gpus: int, *rest: object) -> sz.TrainingPoint:
        return sz.TrainingPoint(W_S / gpus, f"{gpus} devices", 0.4, 1.0)

    monkeypatch.setattr(sz, "_training_point", point)
    # tokens: 1e9, whose wall floor (hA62: `training_run.wall_floor_s`, 2.3e4 s on one H100 for llama3-8b) stays below
    # the hand-written W / g at every count, so no count the arithmetic searches is skipped as beyond physics
    svc = SimpleNamespace(model=model, seq_len=8192, global_batch=512, dtype="bf16", stack=None, tokens=1e9,
                          gpus=None, deadline=deadline_s, optimizer=None, dsa_stage=None, dsa_warmup_tokens=None,
                          dsa_warmup_global_batch=None, no_spare_policy="shrink")
    return sz.size_training(svc, SimpleNamespace(device="h100-sxm", system=None))  # type: ignore[arg-type]


def test_the_first_of_four_steps_meeting_the_deadline_exactly_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama3-8b (8.03e9 x 18 B / 85.5 GB = 1.7 devices: the floor of 8); deadline W / 40: 8, 16, 32 devices miss,
    64 meets it; the steps of (64 - 32) / 4 = 8 from 32: 40 devices take W / 40, exactly the deadline: 40."""
    got = _size(monkeypatch, "llama3-8b", W_S / 40)
    assert isinstance(got, sz.Sized)
    assert (got.unit_devices, got.time_to_train_s, got.slo_headroom) == (40, W_S / 40, 0.0)


def test_the_search_starts_where_the_training_state_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama3-70b: 7.06e10 x 18 B / 85.5 GB = 14.9 devices, rounded up to 16: even with 8 meeting the deadline
    (W / 8) the answer is 16, the first count tried (no miss before it: no steps below it)."""
    got = _size(monkeypatch, "llama3-70b", W_S / 8)
    assert isinstance(got, sz.Sized)
    assert got.unit_devices == 16


def test_the_device_limit_itself_is_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only 2^18 devices meet W / 2^18: the doubling reaches the limit and takes it (the steps from 2^17 miss)."""
    got = _size(monkeypatch, "llama3-8b", W_S / 2**18)
    assert isinstance(got, sz.Sized)
    assert got.unit_devices == sz.TRAINING_MAX_GPUS == 2**18
