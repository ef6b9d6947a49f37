"""hV2 (session 73): `--tp auto` counts the accelerators a TP holds on the scale-up domains (`replica_packing`).

At 1e59382b (hT73) `serve --tp auto` took the smallest TP leaving >= 25 % of the memory to the KV cache even where
that TP strands accelerators: megatron-145.6b fp8 on 12 H100s took TP 3 (4 replicas, 2 a node, holding 16, 4 idle)
though TP 4 (3 replicas on the 12, none idle) leaves more to the KV cache; on 24 it held 32. serve-plan ranks its
options by the GPUs held, so the two answered the same question two ways."""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.engines import load_engine
from infraplan.serving.replica_packing import packed_gpus
from infraplan.serving.serve_inputs import auto_tp
from infraplan.serving.serving_api import estimate_serving

H100 = "dgx-h100-superpod"


def _auto(model: str, system: str, gpus: int, dtype: str) -> tuple[int, str]:
    cluster = Cluster.resolve(system)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return auto_tp(load_model(model), cluster.accelerator, cluster.system, gpus, 1, dtype, dtype, 256, 8192,
                       load_engine("vllm-0.x"))


@pytest.mark.parametrize(("gpus", "tp"), [(12, 4), (24, 4), (6, 3)])
def test_auto_tp_takes_the_tp_holding_fewest(gpus: int, tp: int) -> None:
    """TP 3 is the smallest leaving >= 25 % (33 %); on 12 / 24 GPUs it holds 16 / 32, TP 4 holds the 12 / 24. On 6,
    TP 3 x 2 and TP 6 both hold one node's 8: the smaller stands."""
    chosen, why = _auto("megatron-145.6b", H100, gpus, "fp8")
    assert chosen == tp, why
    assert packed_gpus(gpus, chosen, 8) == {12: 12, 24: 24, 6: 8}[gpus]  # TP 3 held 16 / 32 / 8
    assert "TP 3 33 %" in why and "holding the fewest accelerators" in why, why


def test_dividing_tps_keep_the_smallest_and_the_old_words() -> None:
    """llama3-70b's TPs all divide 8: the rule and the note are as before (no packing phrase, no larger TP tried)."""
    chosen, why = _auto("llama3-70b", H100, 24, "fp8")
    assert chosen == 2
    assert why.endswith("TP 1 leaves 1 %, TP 2 49 %; --tp N sets it") and "fewest" not in why, why


def test_serve_tp_auto_holds_what_it_was_given() -> None:
    """The serve answer: TP 4 x 3 on the 12 GPUs, no gpus_held (TP 3's 4 x 3 held 16)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = estimate_serving("megatron-145.6b", H100, 12, dtype="fp8", stack="vllm-0.x", input_len=1000,
                             output_len=100, rate=1.0, requests=20, seed=0)
    d = r.deployment
    assert (d.tp, d.replicas, d.gpus, d.gpus_held) == (4, 3, 12, None)
