"""`collective all-reduce`'s `serving_custom_time_s` follows the engines' world sizes (hI58).

vLLM's / SGLang's custom all-reduce runs at 2, 4, 6, 8 ranks only (vllm 0.12.0 distributed/device_communicators/
custom_all_reduce.py:52, :105-113; the stacks' `custom_all_reduce_world_sizes`); TensorRT-LLM's lists none. At 16
ranks on GB200 NVL72 (or 3 on H200) the field stays TensorRT-LLM's one-shot price and the basis names the stacks
that run NCCL there, so each stack's `serve` price is one of the command's two numbers.
"""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.ops.layer_records import Collective
from infraplan.serving.engines import load_engine
from infraplan.serving.layer_work import serving_collective_time

DECODE_BYTES = 8192 * 2.0  # one Llama 3 70B decode token's hidden state in bf16


def _answer(size: float, gpus: int = 8, system: str = "hgx-h200", op: str = "all-reduce"):  # noqa: ANN202
    return estimate_collective(op, Cluster.resolve(system).for_gpus(gpus), gpus, size)


@pytest.mark.parametrize(("gpus", "system"), [(16, "gb200-nvl72"), (3, "hgx-h200")])
def test_sizes_vllm_and_sglang_do_not_run_say_so_hI58(gpus: int, system: str) -> None:
    """hI58: vLLM's / SGLang's kernel runs at 2, 4, 6, 8 ranks only (`custom_all_reduce_world_sizes`): the field
    stays TensorRT-LLM's price (it lists no sizes), the basis names the stacks that run NCCL's instead, and each
    stack's `serve` price is one of the two numbers the command gives."""
    r = _answer(DECODE_BYTES, gpus, system)
    fabric = Cluster.resolve(system).for_gpus(gpus).fabric
    c = Collective("all_reduce", "tp", DECODE_BYTES, gpus, 1, 1.0, True)
    served = {stack: float(serving_collective_time(fabric, c, load_engine(stack).custom_all_reduce_at(gpus)))
              for stack in ("trtllm-0.x", "vllm-0.x", "sglang-0.x")}
    assert r.serving_custom_time_s == pytest.approx(served["trtllm-0.x"], rel=1e-12)
    assert served["vllm-0.x"] == served["sglang-0.x"] == pytest.approx(r.priced_time_s, rel=1e-12)
    assert r.priced_time_s > 2.0 * r.serving_custom_time_s  # (H200 at 3: NCCL's LL ring 7.8 µs, hK60)
    assert (f"(trtllm-0.x only: sglang-0.x, vllm-0.x run theirs at 2, 4, 6, 8 ranks, NCCL's time above at {gpus})"
            in r.priced_basis)
    assert "only:" not in _answer(DECODE_BYTES).priced_basis  # 8 ranks: every shipped stack runs it
