"""hC58's like-for-like re-plan under hostile input (hN58 review): a side whose re-plan fails is said in one line,
its like-for-like numbers null, and `compare` still answers (text: '-' cells; exit 0); a side whose service asked
formats the other did not ask shares only the formats both asked. The searches are stubbed as in
tests/planning/test_compare_precision_hC58.py (serve-plan's answer: the first asked format the part and stack run)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from tests.planning.test_compare_precision_hC58 import _answer, _scenario

from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.planning import fleet_mix_llm, scenario_sizing
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.llm_precision import activation_words, mixed_precision_notes
from infraplan.planning.scenario_spec import ScenarioSpec


@pytest.fixture
def gb200_bf16_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def search(model: str, system: str, rate: float, workload: str, ttft: Any, tpot: Any,
               dtypes: tuple[str, ...], stack: str | None, *_: Any) -> Any:
        if system == "gb200-nvl72" and tuple(dtypes) == ("bf16",):
            raise InputError("no bf16 deployment meets the SLO")
        return _answer(system, dtypes, stack)

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", search)


def test_a_failed_re_plan_is_said_and_null(gb200_bf16_fails: None, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    specs = [ScenarioSpec.model_validate(_scenario(n, d, "vllm-0.x"))
             for n, d in (("mtia", "mtia-400-rack"), ("gb200", "gb200-nvl72"))]
    c = compare_scenarios(specs)
    assert c.like_for_like is not None and c.like_for_like[1] is None and c.like_for_like[0] is not None
    assert ("like-for-like: gb200 re-planned at chat dtypes [bf16] fails: no pool can serve 'chat' in 2026 (short by "
            "50 requests/s): gb200: no bf16 deployment meets the SLO") in c.precision_notes
    assert not any("facility power (peak)" in n for n in c.precision_notes)  # no ratio against a missing side
    files = []
    for spec in specs:
        path = tmp_path / f"{spec.name}.yaml"
        path.write_text(yaml.safe_dump(_scenario(spec.name, spec.pools[0].device or "", "vllm-0.x")),
                        encoding="utf-8")
        files.append(str(path))
    capsys.readouterr()
    assert main(["compare", *files]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "like-for-like: chat at bf16 on every side" in out.out


def test_formats_only_one_side_asked_are_not_common(gb200_bf16_fails: None) -> None:
    """MTIA asks bf16 and fp8 (runs bf16), GB200 asks fp8 only (runs fp8): no format both asked runs on both."""
    mtia = ScenarioSpec.model_validate(_scenario("mtia", "mtia-400-rack", "vllm-0.x", ["bf16", "fp8"]))
    gb200 = ScenarioSpec.model_validate(_scenario("gb200", "gb200-nvl72", "vllm-0.x", ["fp8"]))
    c = compare_scenarios([mtia, gb200])
    assert c.like_for_like is None and len(c.precision_notes) == 1
    assert c.precision_notes[0].endswith("not compared like-for-like")


def test_the_words_of_mxfp8_and_mxfp4() -> None:
    """`ops.precision` "Serving formats": mxfp8 is W8A8; mxfp4 runs mxfp8 activations where the part has fp4 tensor
    cores and is weight-only W4A16 where not (`serving.deployment.mxfp4_weight_only`)."""
    h100, b200 = Cluster.resolve("h100-sxm").accelerator, Cluster.resolve("b200").accelerator
    assert activation_words("mxfp8", b200) == "mxfp8 weights and activations (W8A8)"
    assert activation_words("mxfp4", b200) == "mxfp4 weights, mxfp8 activations"
    assert activation_words("mxfp4", h100) == "mxfp4 weights, bf16 activations (weight-only W4A16)"


def test_pools_at_one_weight_format_and_two_kv_formats_are_said() -> None:
    """A precision is the (weight, KV) pair: two pools at fp8 weights, one with an fp8 and one with a bf16 KV cache,
    were sized at different precisions."""
    svc = SimpleNamespace(name="chat", dtypes=["fp8"], stack="vllm-0.x")
    pools = [SimpleNamespace(name=n, system=s, device=None, stack=None) for n, s in (("a", "h100-sxm"), ("b", "b200"))]
    got = [SimpleNamespace(weight_dtype="fp8", kv_dtype=kv, precision=f"fp8 W8A8, {kv} KV") for kv in ("fp8", "bf16")]
    lines = mixed_precision_notes([(svc, p, g) for p, g in zip(pools, got, strict=True)])
    assert len(lines) == 1 and lines[0].startswith("chat: its pools were sized at different precisions (a fp8 W8A8, "
                                                   "fp8 KV; b fp8 W8A8, bf16 KV)")
