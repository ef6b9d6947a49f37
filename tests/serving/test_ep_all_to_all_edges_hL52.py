"""Edges of `serving.ep_all_to_all` (hL, session 52: hand mutation testing). Each test failed on a mutant the
module's own tests let live (checked by flipping the line and running this file): the micro-batches of an odd M
taken as floor(M / 2) both (one token lost), and the 1 / 2 cap of the SMs the all-to-all kernels hold raised."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.serving import ep_all_to_all as a2a
from infraplan.serving.deployment import Deployment


def _dep(stack: str) -> Deployment:
    return Deployment(tp=1, ep=72, attention_dp=72, dtype="bf16", kv_dtype="bf16", max_batch=256, engine="sglang",
                      stack=stack)


def _stack(tmp_path: Path, sms: int) -> str:
    path = tmp_path / f"tbo-{sms}.yaml"
    path.write_text(f"extends: sglang-0.x\ndisplay_name: tbo {sms}\nserving:\n  two_batch_overlap: true\n"
                    f"  ep_overlap_sms: {sms}\n", encoding="utf-8")
    return str(path)


def test_an_odd_batch_splits_into_ceil_and_floor_halves(tmp_path: Path) -> None:
    compute, zero = np.array([0.0, 1.0, 10.0, 20.0, 30.0]), np.zeros(5)
    got = a2a.layer_seconds(compute, zero, zero, _dep(_stack(tmp_path, 0)))
    # M = 2: 1 + 1; M = 3: c(2) + c(1) = 11 (not c(1) + c(1)); M = 4: c(2) + c(2)
    assert np.allclose(got, [0.0, 1.0, 2.0, 11.0, 20.0])


def test_the_sms_the_kernels_hold_are_at_most_half_the_gpu(tmp_path: Path) -> None:
    assert a2a.overlap_sm_share(_dep(_stack(tmp_path, 24)), 132) == pytest.approx(24 / 132)
    assert a2a.overlap_sm_share(_dep(_stack(tmp_path, 1000)), 132) == 0.5
    assert a2a.overlap_sm_share(_dep(_stack(tmp_path, 24)), 0) == 0.0  # no SM count known: none priced
    # f = 1 / 2: the hidden seconds cost as much again on the half of the SMs left
    compute, ep = np.array([0.0, 1.0, 2.0]), np.array([0.0, 4.0, 4.0])
    got = a2a.layer_seconds(compute, np.zeros(3), ep, _dep(_stack(tmp_path, 1000)), compute_units=132)
    assert got[2] == pytest.approx(max(1 + 1 + min(2.0, 8.0), 8.0))
