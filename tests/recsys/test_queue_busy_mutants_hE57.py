"""Hand mutants over the older core (hE, session 57): the recsys queue's device occupancy.

Each test fails on a one-line mutant that the mirrored tests let through (validation/notes/product_review_tried.md,
"hE (session 57)") and asserts a definition, not the current output."""

from __future__ import annotations

import numpy as np

from infraplan.recsys.queueing import busy_fraction, greedy_batches


def test_a_batch_occupies_the_device_for_its_period_and_answers_after_its_latency() -> None:
    """recsys/queueing.py: a batch holds the device for its period (max of device and host-link time) and is
    answered after its latency (device + link); the busy time, which the power at a rate is read from, is the sum
    of the periods. Three lone requests 10 s apart, period 1 s, latency 3 s: three batches of one, busy 3 s, each
    answered 3 s after it arrived; two requests at once form one batch of two (period 1.5 s). Mutant R5 (hE57):
    the busy time summed the latencies (9 s: a device whose host link overlaps its compute drew power for both)."""
    period, latency = np.array([1.0, 1.5]), np.array([3.0, 4.0])
    waits, busy = greedy_batches(np.array([0.0, 10.0, 20.0]), period, latency)
    assert waits is not None and busy == 3.0
    assert waits.tolist() == [3.0, 3.0, 3.0]
    waits, busy = greedy_batches(np.array([0.0, 0.0]), period, latency)
    assert waits is not None and busy == 1.5 and waits.tolist() == [4.0, 4.0]
    # at 1 request/s (mostly lone 10 ms batches) the device is busy about 1 %, not the 3 % of its latencies
    assert busy_fraction(1.0, np.full(4, 0.01), np.full(4, 0.03), queries=20_000) < 0.0101
