"""hI2 (session 68): hC68's EP collectives at the dispatched bytes (serving/ep_all_to_all.py): `collective_seconds`
returns each at the stack's dispatch bytes, so `layer_terms`' plain sum (the layer without the overlap) takes the EP
seconds as given, as `layer_seconds` does. With fp8 dispatch on (examples/stacks/sglang-deepep-tbo.yaml, fp8
weights: `dispatch_share` (1 + 4 / 128 + 2) / 4 = 0.758) the routed experts' seconds are scaled by the layer over
compute + TP + EP, and at M = 0, 1 (no split) the layer is that sum: the routed seconds unchanged (the plain sum at
the share again, 1 + 0.5 + 3 x 0.758, made them 4.5 / 3.77 = 19 % larger at M = 1 below).
"""

from __future__ import annotations

import numpy as np

from infraplan.serving import ep_all_to_all as a2a
from infraplan.serving.deployment import Deployment

EXAMPLE = "examples/stacks/sglang-deepep-tbo.yaml"


def test_routed_share_takes_the_ep_seconds_as_given_with_fp8_dispatch() -> None:
    dep = Deployment(tp=1, ep=72, attention_dp=72, dtype="fp8", kv_dtype="bf16", max_batch=256, engine="sglang",
                     stack=EXAMPLE)
    assert a2a.overlaps(EXAMPLE) and a2a.dispatch_share(dep) < 1.0  # the case: both priced
    compute, ep = np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.0, 3.0, 3.0, 5.0, 6.0])
    tp, routed = np.full(5, 0.5), np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    layer, flop, scaled = a2a.layer_terms(compute, tp, ep, dep, compute, routed)
    assert np.allclose(layer, [0.5, 4.5, 6.5, 6.5, 6.5]) and flop is compute  # max(compute, EP) of the halves
    assert scaled[1] == routed[1]  # M = 1: the layer is the plain sum
    assert np.allclose(scaled, routed * layer / (compute + tp + ep))  # 6.5 / 5.5, 6.5 / 8.5, 6.5 / 10.5 at M = 2..4
