"""hW (session 76): `serve --tp auto` with `--prefill-gpus` alone takes a TP dividing both pools.

`--prefill-gpus` without `--prefill-tp` / `--prefill-pp` / `--prefill-attention-dp` gives the prefill pool the decode
pool's layout, so each pool must hold whole replicas. `auto_tp` took its candidates from the whole count: llama3-70b
bf16 on 16 H100 with 6 prefill GPUs chose TP 4 (the smallest leaving >= 25 % of memory to the KV cache, dividing 16)
and the run was then refused: "--prefill-gpus 6 is not a multiple of the replica's 4 GPUs ...", a replica size the
user never gave, though TP 2 divides the 6 and the 10. Now the candidates divide both pools (`shared_prefill_gpus`),
and the note says so; where neither pool is a whole number of pipelines the refusal stands.
"""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.serving.serving_api import estimate_serving

H100 = "dgx-h100-superpod"


def _serve(gpus: int, prefill_gpus: int, pp: int = 1):
    return estimate_serving("llama3-70b", H100, gpus, tp="auto", pp=pp, dtype="bf16", prefill_gpus=prefill_gpus,
                            rate=2.0, workload="chat", requests=200, seed=0)


@pytest.mark.parametrize(("prefill", "tp", "counts"), [(6, 2, "6 and 10"), (2, 2, "2 and 14"), (4, 4, "4 and 12")])
def test_auto_takes_a_tp_dividing_both_pools(prefill: int, tp: int, counts: str) -> None:
    res = _serve(16, prefill)
    dep = res.deployment
    assert dep.tp == tp and dep.prefill.tp == tp and dep.decode.tp == tp
    assert dep.prefill.gpus == prefill and dep.decode.gpus == 16 - prefill
    assert f"(dividing the prefill and decode pools' {counts} GPUs per pipeline stage" in dep.tp_source
    if tp == 2:  # TP 4 would leave 48 %, but strands the prefill pool: the largest dividing both is taken
        assert "TP 1 leaves 0 %, TP 2 11 %: none does, the largest taken" in dep.tp_source


def test_a_colocated_or_own_layout_run_reads_as_before() -> None:
    assert "(dividing the 16 GPUs per pipeline stage" in _serve(16, 0).deployment.tp_source
    own = estimate_serving("llama3-70b", H100, 16, tp="auto", dtype="bf16", prefill_gpus=6,
                           prefill={"tp": 2}, rate=2.0, workload="chat", requests=200, seed=0)
    assert own.deployment.decode.tp == 2 and own.deployment.prefill.tp == 2  # 10 decode GPUs: TP 4 does not divide


def test_a_pipeline_neither_pool_divides_is_still_refused() -> None:
    with pytest.raises(InputError, match="--prefill-gpus 6 is not a multiple of the replica's 4"):
        _serve(16, 6, pp=4)
