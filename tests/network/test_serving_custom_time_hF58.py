"""`collective all-reduce` gives the time a serving stack with a custom all-reduce prices, not only its rule (hF58).

A demanding user checking issue 12 item 3 (decode TP8 at small concurrency: one-shot / two-shot all-reduce) asks
`collective all-reduce --bytes 16KiB --gpus 8` on 8 H200 and read 18.1 µs "as train and serve price it" (NCCL's
measured curve), while `serve` on trtllm-0.x / vllm-0.x / sglang-0.x (`custom_all_reduce: true`, every shipped
serving stack) prices that all-reduce (Llama 3 70B's 8,192 x 2 B a decode token) at 3.31 µs: the basis named the
custom kernels' rule without a number. Now `serving_custom_time_s` and the basis give it, the same function and
arguments serving calls (`serving.layer_work.serving_collective_time` ->
`collective_algorithms.custom_all_reduce_time`).
"""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.ops.layer_records import Collective
from infraplan.serving.layer_work import serving_collective_time

DECODE_BYTES = 8192 * 2.0  # one Llama 3 70B decode token's hidden state in bf16, all-reduced at TP 8


def _answer(size: float, gpus: int = 8, system: str = "hgx-h200", op: str = "all-reduce"):  # noqa: ANN202
    return estimate_collective(op, Cluster.resolve(system).for_gpus(gpus), gpus, size)


def test_a_decode_all_reduce_gives_what_serve_prices() -> None:
    r = _answer(DECODE_BYTES)
    fabric = Cluster.resolve("hgx-h200").for_gpus(8).fabric
    served = float(serving_collective_time(fabric, Collective("all_reduce", "tp", DECODE_BYTES, 8, 1, 1.0, True),
                                           custom_all_reduce=True))
    assert r.serving_custom_time_s == pytest.approx(served, rel=1e-12)
    assert r.serving_custom_time_s == pytest.approx(3.31e-6, rel=0.01)  # one-shot, the measured 64 KiB row's floor
    # NCCL's 16.3 µs (its LL ring line, `network.nvlink_latency`, hK60; 18.3 µs measured at 16 KiB, the model's
    # 18.1 before): what train prices
    assert r.priced_time_s > 4.0 * r.serving_custom_time_s
    assert "3.31 µs here" in r.priced_basis


def test_every_shipped_serving_stack_runs_it() -> None:
    """The field is what `serve` prices on the shipped serving stacks: each sets `custom_all_reduce`, but pytorch-mtia
    (hM69), the ASSUMPTION profile of Meta's parts: vLLM's custom all-reduce is CUDA / ROCm IPC code, so its TP
    all-reduce is the collective library's ring on the part's scale-up."""
    serving = [load_stack(n) for n in list_stacks() if load_stack(n).kind == "serving"]
    measured = [s for s in serving if s.serving is not None and s.serving.assumption is None]
    assert measured and all(s.custom_all_reduce for s in measured)
    assert [s.name for s in serving if not s.custom_all_reduce] == ["pytorch-mtia"]


@pytest.mark.parametrize(("size", "gpus", "system", "op"), [
    (16 * 2.0**20, 8, "hgx-h200", "all-reduce"),  # above the 8 MiB buffer: NCCL
    (DECODE_BYTES, 16, "dgx-h100-superpod", "all-reduce"),  # across nodes: no IPC
    (DECODE_BYTES, 8, "hgx-h200", "all-gather"),  # not an all-reduce
])
def test_none_where_serving_runs_nccl(size: float, gpus: int, system: str, op: str) -> None:
    r = _answer(size, gpus, system, op)
    assert r.serving_custom_time_s is None
    assert "serving_custom_time_s" not in r.priced_basis
