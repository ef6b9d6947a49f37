"""`plan`'s LLM detail writes its rates as the CLI writes numbers (hU, session 51): `{rate:.4g}` put gigawatt-2027's
2027 chat at "4800 requests/s (1200 each)" and any rate from 10,000 requests/s on in e-notation ("at 2.4e+04
requests/s (6000 each)"), in the services table and the JSON `detail` alike; now `significant_text` (thousands
separated, never e-notation), one rule for the colocated, the disaggregated and the finer-unit lines."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tests.planning.conftest import stub_colocated_answer

from infraplan.planning import scenario_sizing
from infraplan.planning.scenario_spec import PoolSpec, ServiceSpec


def test_plans_llm_detail_writes_large_rates_without_e_notation(monkeypatch: pytest.MonkeyPatch) -> None:
    dep = stub_colocated_answer(monkeypatch)  # 4 replicas of TP4 PP2 (serve-plan stubbed)
    svc = ServiceSpec(name="chat", kind="llm", model="llama3-8b", workload="chat", rate=24000.0)
    pool = PoolSpec(name="p", device="h100-sxm", site="s")
    sized = scenario_sizing.size_llm(svc, pool, 24000.0)
    assert not isinstance(sized, str)
    assert " at 24,000 requests/s (6,000 each), " in sized.detail, sized.detail  # "2.4e+04 ... (6000 each)"
    layout = SimpleNamespace(tp=4, pp=2, attention_dp=1)  # 2 prefill + 2 decode of 8 devices: 2 groups of 1 + 1
    dep.disaggregated, dep.prefill_replicas, dep.decode_replicas, dep.prefill, dep.decode = True, 2, 2, layout, layout
    sized = scenario_sizing.size_llm(svc, pool, 24000.0)
    assert not isinstance(sized, str)
    assert " at 24,000 requests/s (12,000 each), " in sized.detail, sized.detail
    assert "e+" not in sized.detail
