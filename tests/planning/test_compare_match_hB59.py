"""hC58's leftovers (hB59): `compare` matches LLM services by what they are, a KV-only precision difference is
re-planned like-for-like, and fleet-mix says where its pools for one LLM ran different precisions.

Before: `compare_precision` paired services by name only, so one workload named "chat" on one side and "assistant"
on the other got no precision line, and two "chat" services of different models were compared (and re-planned) as
one; a KV-only difference (one side's `kv_dtype`) was never re-planned, and with the same pools on both sides not
even said (the supply check ignored `kv_dtype`); fleet-mix's result had no word where an MTIA pool ran bf16 beside
a GB200 one at fp8. The searches are stubbed as in tests/planning/test_compare_precision_hC58.py (serve-plan's
answer: the first asked format the part and stack run), here honouring the service's `kv_dtype`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.planning.test_compare_precision_hC58 import _answer, _chat, _scenario

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.planning import fleet_mix_llm, scenario_sizing
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.llm_precision import pools_kv_gaps
from infraplan.planning.scenario import plan_scenario, plan_summary
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.serving.deployment import kv_gaps
from infraplan.serving.kv_default import default_kv_dtype

KV_GPUS = {("fp8", "bf16"): 16}  # the stub: fp8 weights with a bf16 KV cache take 16 devices (fp8 KV: 8)


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """serve-plan stubbed; each call's (system, kv_dtype asked) recorded."""
    calls: list[tuple[str, str | None]] = []

    def search(model: str, system: str, rate: float, workload: str, ttft: Any, tpot: Any,
               dtypes: tuple[str, ...], stack: str | None, options: Any, *_: Any) -> Any:
        calls.append((system, options[0]))
        answer = _answer(system, dtypes, stack)
        # the service's kv_dtype, as serve-plan --kv-dtype takes it, else the weight format's default
        answer.deployment.kv_dtype = options[0] or default_kv_dtype(load_model(model), answer.deployment.dtype)[0]
        n = KV_GPUS.get((answer.deployment.dtype, answer.deployment.kv_dtype), answer.gpus)
        answer.gpus = answer.deployment.replicas = n
        return answer

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", search)
    return calls


def _spec(raw: dict[str, Any], **service: Any) -> ScenarioSpec:
    raw["services"][0].update(service)
    return ScenarioSpec.model_validate(raw)


def test_services_named_differently_but_the_same_are_matched_and_compared(stub: Any) -> None:
    mtia = _spec(_scenario("mtia", "mtia-400-rack", "vllm-0.x"))
    gb200 = _spec(_scenario("gb200", "gb200-nvl72", "vllm-0.x"), name="assistant")
    c = compare_scenarios([mtia, gb200])
    head = c.precision_notes[0]
    assert head.startswith("precision: chat (mtia) / assistant (gb200), matched as one service by what it is "
                           "(llama3-70b, workload chat, 50 requests/s in its last phase, TTFT/TPOT SLOs ")
    assert "since mtia cannot run fp8" in head  # before: no line at all (the names differ)
    assert c.like_for_like_dtypes == {"chat (mtia) / assistant (gb200)": ["bf16"]}
    again = plan_scenario(_spec(_scenario("gb200", "gb200-nvl72", "vllm-0.x", ["bf16"]), name="assistant"))
    assert c.like_for_like is not None and c.like_for_like[1] == plan_summary(again)
    assert c.precision_notes[1].startswith("like-for-like: chat (mtia) / assistant (gb200) at bf16: mtia: mtia bf16 "
                                           "weights and activations, bf16 KV (vllm-0.x); gb200: gb200 bf16")


def test_a_side_that_asked_fewer_formats_is_said_so(stub: Any) -> None:
    """No pool short of a format, one side asked bf16 only: the line said "since : like-for-like" (hC58's code)."""
    h100 = _spec(_scenario("a", "h100-sxm", "vllm-0.x"))
    fewer = _spec(_scenario("b", "h100-sxm", "vllm-0.x", ["bf16"]), name="assistant")
    line = compare_scenarios([h100, fewer]).precision_notes[0]
    assert line.endswith("since the sides ask different dtypes (a: [bf16, fp8]; b: [bf16]): like-for-like below, "
                         "every side at bf16 (the `dtypes` every side runs)")


def test_one_name_two_models_are_not_paired(stub: Any) -> None:
    mtia = _spec(_scenario("mtia", "mtia-400-rack", "vllm-0.x"))
    gb200 = _spec(_scenario("gb200", "gb200-nvl72", "vllm-0.x"), model="llama3-8b")
    c = compare_scenarios([mtia, gb200])
    assert c.like_for_like is None and c.like_for_like_dtypes == {}  # before: re-planned as one service
    assert len(c.precision_notes) == 1
    line = c.precision_notes[0]
    assert line.startswith("precision: chat is not one service across the scenarios (different model: mtia: "
                           "llama3-70b, workload chat, 50 requests/s")
    assert "gb200: llama3-8b, workload chat" in line and line.endswith("its precisions are not compared")
    traffic = _spec(_scenario("gb200", "gb200-nvl72", "vllm-0.x"), rate=80, ttft_slo=5)
    assert "(different traffic and SLOs: " in compare_scenarios([mtia, traffic]).precision_notes[0]


def test_a_kv_only_difference_is_re_planned_at_the_first_sides_kv(stub: list[tuple[str, str | None]]) -> None:
    """Both sides H100 at fp8; one asks kv_dtype bf16. Before: the same pools on both sides, so nothing was said."""
    first = _spec(_scenario("bf16kv", "h100-sxm", "vllm-0.x"), kv_dtype="bf16")
    second = _spec(_scenario("default", "h100-sxm", "vllm-0.x"))
    c = compare_scenarios([first, second])
    assert [(p.services[0].weight_dtype, p.services[0].kv_dtype, p.devices) for p in c.scenarios] == [
        ("fp8", "bf16", 16), ("fp8", "fp8", 8)]
    assert c.precision_notes[0].endswith(
        "since the sides ask different KV caches (bf16kv: kv_dtype bf16; default: each weight format default): "
        "like-for-like "
        "below, every side at bf16, fp8 (the `dtypes` every side runs) with a bf16 KV cache")
    assert c.like_for_like_dtypes == {"chat": ["bf16", "fp8"]} and c.like_for_like_kv_dtypes == {"chat": "bf16"}
    assert c.like_for_like is not None and c.like_for_like[0] == plan_summary(c.scenarios[0])  # it stands
    again = plan_scenario(_spec(_scenario("default", "h100-sxm", "vllm-0.x"), kv_dtype="bf16"))
    assert c.like_for_like[1] == plan_summary(again) and again.devices == 16
    assert c.precision_notes[1] == ("like-for-like: chat at bf16, fp8, KV bf16: bf16kv: bf16kv fp8 weights and "
                                    "activations (W8A8), bf16 KV (vllm-0.x); default: default fp8 weights and "
                                    "activations (W8A8), bf16 KV (vllm-0.x)")


def test_the_like_for_like_kv_is_the_first_that_every_side_runs(stub: Any) -> None:
    """MTIA 400 lists no fp8: a side asking an fp8 KV cache first, against MTIA, is re-planned at MTIA's bf16."""
    gb200 = _spec(_scenario("gb200", "gb200-nvl72", "sglang-0.x", ["mxfp8"]), kv_dtype="fp8")
    mtia = _spec(_scenario("mtia", "mtia-400-rack", "sglang-0.x", ["mxfp8"]))
    c = compare_scenarios([gb200, mtia])
    assert c.like_for_like_kv_dtypes == {"chat": "bf16"}  # fp8 (the first side's) does not run on MTIA
    assert pools_kv_gaps(mtia.services[0], mtia.pools, "fp8") == [
        "mtia cannot run KV fp8: --kv-dtype fp8: mtia-400 has no fp8 support in its catalog file; use --kv-dtype bf16"]
    int8 = _spec(_scenario("gb200", "gb200-nvl72", "sglang-0.x", ["mxfp8"]), kv_dtype="int8")
    c = compare_scenarios([int8, _spec(_scenario("b", "b200", "trtllm-0.x", ["mxfp8"]), kv_dtype="fp8")])
    assert c.like_for_like is not None  # fp8 (the second side's) runs on both; int8 not on SGLang


def test_kv_gaps_are_serves_lines() -> None:
    h100, mtia = (Cluster.resolve(n).accelerator for n in ("h100-sxm", "mtia-400-rack"))
    assert kv_gaps(h100, "fp8", "vllm-0.x", "vllm") == (None, None)
    assert kv_gaps(h100, "int8", "vllm-0.x", "vllm")[0] is not None  # vLLM has no int8 cache
    assert kv_gaps(mtia, "fp8", "vllm-0.x", "vllm")[1] == ("--kv-dtype fp8: mtia-400 has no fp8 support in its "
                                                           "catalog file; use --kv-dtype bf16")


def test_compare_text_and_web_heading_name_the_kv(stub: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for name, kv in (("bf16kv", "bf16"), ("default", None)):
        raw = _scenario(name, "h100-sxm", "vllm-0.x")
        raw["services"][0].update({"kv_dtype": kv} if kv else {})
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
        files.append(str(tmp_path / f"{name}.yaml"))
    capsys.readouterr()
    assert main(["compare", *files]) == 0
    assert "like-for-like: chat at bf16, fp8, KV bf16 on every side (delta vs the first)" in " ".join(
        capsys.readouterr().out.split())
    page = (Path(__file__).parents[2] / "src/infraplan/web/static/compare.html").read_text(encoding="utf-8")
    assert 'c.like_for_like_kv_dtypes' in page and '", KV " + kv[s]' in page


def test_fleet_mix_says_its_pools_ran_different_precisions(stub: Any, capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    raw = {"name": "f", "services": [_chat("vllm-0.x")], "pools": [
        {"name": "mtia", "device": "mtia-400-rack", "price_usd_per_device": 30000},
        {"name": "gb200", "device": "gb200-nvl72", "price_usd_per_device": 30000}]}
    r = plan_fleet(FleetSpec.model_validate(raw))
    assert r.precision_notes == [
        "chat: its pools were sized at different precisions (mtia bf16 weights and activations, bf16 KV; gb200 fp8 "
        "weights and activations (W8A8), fp8 KV), since mtia cannot run fp8: mtia-400 has no fp8 support in its "
        "catalog file; the MILP chose between them each at its own (for one precision on every pool, give the "
        "service dtypes [bf16], which every pool runs)"]
    raw["services"][0]["dtypes"] = ["bf16"]  # that choice: no line
    assert plan_fleet(FleetSpec.model_validate(raw)).precision_notes == []
    raw["services"][0]["dtypes"] = ["bf16", "fp8"]
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    capsys.readouterr()
    assert main(["fleet-mix", str(tmp_path / "f.yaml")]) == 0
    assert "precision: chat: its pools were sized at different precisions" in " ".join(
        capsys.readouterr().out.split())
    page = (Path(__file__).parents[2] / "src/infraplan/web/static/fleet-mix.html").read_text(encoding="utf-8")
    assert '(r.precision_notes || []).map(n => "precision: " + n)' in page
