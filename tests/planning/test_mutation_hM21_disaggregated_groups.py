"""Mutation wave hM21 (session 44): a disaggregated answer split over pools in groups of its prefill:decode ratio
(`planning.scenario_sizing._disaggregated`, hL47).

Hand expectations: 4 prefill + 6 decode replicas have gcd 2, so 2 groups of 2 + 3 (not min(4, 6) = 4 groups);
a replica's devices are TP x PP x attention DP, so decode replicas of TP 2 x attention DP 4 hold 8 devices each;
answers whose replicas do not add up to its devices stay one unit.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infraplan.planning import scenario_sizing
from infraplan.planning.scenario_spec import PoolSpec, ServiceSpec

SVC = ServiceSpec(name="chat", kind="llm", model="llama3-8b", workload="chat", rate=12.0)
POOL = PoolSpec(name="p", device="h100-sxm", site="s")


def _answer(prefill: int, decode: int, prefill_layout: tuple[int, int], decode_layout: tuple[int, int],
            extra_gpus: int = 0) -> SimpleNamespace:
    (ptp, pdp), (dtp, ddp) = prefill_layout, decode_layout
    dep = SimpleNamespace(replicas=prefill + decode, tp=dtp, pp=1, attention_dp=ddp, dtype="fp8", kv_dtype="fp8",
                          max_batch=64,
                          disaggregated=True, prefill_replicas=prefill, decode_replicas=decode,
                          prefill=SimpleNamespace(tp=ptp, pp=1, attention_dp=pdp),
                          decode=SimpleNamespace(tp=dtp, pp=1, attention_dp=ddp))
    gpus = prefill * ptp * pdp + decode * dtp * ddp + extra_gpus
    return SimpleNamespace(feasible=True, gpus=gpus, deployment=dep, serve=None, slo=None, why=None,
                           meets_slo_full_run=True)  # a real answer has it (hG57 reads it)


def _sized(monkeypatch: pytest.MonkeyPatch, answer: SimpleNamespace) -> scenario_sizing.Sized:
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: answer)
    sized = scenario_sizing.size_llm(SVC, POOL, 12.0)
    assert not isinstance(sized, str)
    return sized


def test_groups_are_the_greatest_common_divisor(monkeypatch: pytest.MonkeyPatch) -> None:
    sized = _sized(monkeypatch, _answer(4, 6, (4, 1), (4, 1)))
    assert not sized.whole and sized.capacity == pytest.approx(6.0) and sized.unit_devices == 20
    assert "groups of 2 prefill + 3 decode replicas" in sized.detail and "(6 each)" in sized.detail


def test_attention_dp_replicas_split_in_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """2 prefill replicas of TP 8 and 4 decode replicas of TP 2 x attention DP 4: 16 + 32 = 48 devices, 2 groups
    of 1 + 2 replicas, 24 devices and 6 requests/s each."""
    sized = _sized(monkeypatch, _answer(2, 4, (8, 1), (2, 4)))
    assert not sized.whole and (sized.capacity, sized.unit_devices) == (pytest.approx(6.0), 24)


def test_replicas_that_do_not_add_up_to_the_devices_stay_one_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    sized = _sized(monkeypatch, _answer(2, 4, (4, 1), (4, 1), extra_gpus=2))
    assert sized.whole and (sized.capacity, sized.unit_devices) == (12.0, 26)
    assert sized.whole_why == "its devices do not divide into equal groups of that ratio"


def test_colocated_replicas_of_unequal_devices_stay_one_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    """3 colocated replicas on 10 devices do not share them equally: one unit of the whole rate, never 3 of 3."""
    dep = SimpleNamespace(replicas=3, tp=4, pp=1, attention_dp=1, dtype="fp8", kv_dtype="fp8", max_batch=64,
                          disaggregated=False,
                          prefill_replicas=None, decode_replicas=None, prefill=None, decode=None)
    answer = SimpleNamespace(feasible=True, gpus=10, deployment=dep, serve=None, slo=None, why=None,
                             meets_slo_full_run=True)  # a real answer has it (hG57 reads it)
    sized = _sized(monkeypatch, answer)
    assert sized.whole and (sized.capacity, sized.unit_devices) == (12.0, 10)
