"""`--dtype auto` for a training search (hD50, session 45): it considers the precisions with a published
pre-training recipe for the model's class (catalog/training_precisions.yaml), and its answer names the precision
chosen, those left out, and what the fastest plan in any other precision gives; every MFU is against its own
dtype's peak.

hU58's case: a Kimi K2 copy with 768 routed experts (~2T parameters, 32B active) on GB300 was planned in NVFP4
(8 % MFU of the FP4 peak) by `plan`'s training `dtype: auto`, although no MoE pre-training recipe in NVFP4 is
published (Megatron-Bridge's Blackwell MoE rows run MXFP8; its NVFP4 rows are Llama 3 / 3.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.training_precisions import load_training_precisions, published_for
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.training.dtype_choice import auto_dtypes, dtype_choice
from infraplan.training.enums import Dtype
from infraplan.training.results import PlanMetrics, PlanSearchResult
from infraplan.training.search import search_plans

KIMI = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models" / "kimi-k2.json"
GPUS, SEQ, BATCH = 1024, 8192, 2048  # hU58's run: 30T tokens on 1,024 GB300 (the plan's training pool)


@pytest.fixture(scope="module")
def moe_2t(tmp_path_factory: pytest.TempPathFactory) -> str:
    """hU58's what-if: Kimi K2's config.json with 768 routed experts instead of 384 (its checkpoint's
    quantization_config dropped, as hU58's copy did)."""
    config = json.loads(KIMI.read_text())
    config.pop("quantization_config", None)
    config["n_routed_experts"] = 768
    config["source"] = "hD50 test: Kimi K2 with 768 routed experts (hU58's 2T MoE). ILLUSTRATIVE."
    path = tmp_path_factory.mktemp("hD50") / "moe-2t.json"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.fixture(scope="module")
def auto(moe_2t: str) -> PlanSearchResult:
    return search_plans(moe_2t, "gb300", GPUS, SEQ, BATCH, dtype="auto", top=1, compare_dtypes=True)


def _best(model: str, dtype: str) -> PlanMetrics:
    best = search_plans(model, "gb300", GPUS, SEQ, BATCH, dtype=dtype, top=1).best
    assert best is not None
    return best


def test_the_data_names_a_class_list_and_a_source_for_every_precision() -> None:
    entries = load_training_precisions()
    assert set(entries) == set(Dtype.labels())
    assert all(e.model_classes and ("arXiv" in e.source or "performance summary" in e.source)
               for e in entries.values())
    assert published_for("nvfp4", "dense") and not published_for("nvfp4", "moe")  # the decision, as data
    assert all(published_for(d, "moe") for d in ("bf16", "fp8", "mxfp8"))


def test_auto_on_the_2t_moe_leaves_nvfp4_out_and_picks_the_fastest_published_precision(
        moe_2t: str, auto: PlanSearchResult) -> None:
    choice, best = auto.dtype_choice, auto.best
    assert choice is not None and best is not None
    assert choice.model_class == "moe"
    assert choice.considered == ["bf16", "fp8", "mxfp8"] and choice.left_out == ["nvfp4"]
    assert best.config.dtype == choice.chosen != "nvfp4"
    # the fastest of the considered precisions, each searched alone
    assert best.step_time_s == min(_best(moe_2t, d).step_time_s for d in choice.considered)


def test_the_answer_states_what_the_best_other_precision_gives(moe_2t: str, auto: PlanSearchResult) -> None:
    choice, best = auto.dtype_choice, auto.best
    assert choice is not None and best is not None and choice.alternative is not None
    others = {d: _best(moe_2t, d) for d in ("bf16", "fp8", "mxfp8", "nvfp4") if d != choice.chosen}
    fastest = min(others, key=lambda d: others[d].step_time_s)
    assert choice.alternative == fastest  # the fastest plan in any other precision, left-out ones included
    assert choice.alternative_step_time_s == pytest.approx(others[fastest].step_time_s, rel=1e-12)
    assert choice.alternative_tokens_per_s == pytest.approx(others[fastest].tokens_per_s, rel=1e-12)
    assert choice.alternative_mfu == pytest.approx(others[fastest].mfu, rel=1e-12)
    text = choice.summary
    assert text.startswith(f"dtype auto: {choice.chosen}, ") and "left out: nvfp4" in text
    assert f"best in {fastest}" in text and f"of the {choice.chosen} peak" in text


def test_each_mfu_is_against_its_own_dtypes_peak(moe_2t: str, auto: PlanSearchResult) -> None:
    """The same model FLOP/s reads as a third of the MFU against GB300's 15 PF FP4 peak as against its 5 PF fp8
    one: an nvfp4 plan faster than an mxfp8 one can show the lower MFU, so the answer says whose peak."""
    accelerator = Cluster.resolve("gb300").accelerator
    nvfp4 = _best(moe_2t, "nvfp4")
    for plan in (auto.best, nvfp4):
        assert plan is not None
        assert plan.mfu * accelerator.peak(plan.config.dtype) == pytest.approx(plan.model_tflops_per_gpu * 1e12,
                                                                               rel=1e-9)
    assert accelerator.peak("nvfp4") == pytest.approx(3 * accelerator.peak("mxfp8"))
    assert "own dtype" in (PlanMetrics.model_fields["mfu"].description or "")


def test_a_dense_model_considers_nvfp4_and_an_asked_dtype_says_nothing() -> None:
    found = search_plans("llama3-70b", "gb200-nvl72-superpod", 64, 8192, 256, dtype="auto", top=1,
                         compare_dtypes=False)
    assert found.dtype_choice is not None and found.best is not None
    assert found.dtype_choice.left_out == [] and "nvfp4" in found.dtype_choice.considered
    assert found.dtype_choice.alternative is None  # not compared where not asked (`compare_dtypes`: one search each)
    alone = {d: search_plans("llama3-70b", "gb200-nvl72-superpod", 64, 8192, 256, dtype=d, top=1)
             for d in found.dtype_choice.considered}
    assert all(r.dtype_choice is None for r in alone.values())  # a dtype asked: no choice made
    assert found.best.step_time_s == min(r.best.step_time_s for r in alone.values() if r.best is not None)


def test_a_class_nothing_is_published_for_searches_everything() -> None:
    moe = TransformerShape.model_construct(num_experts=8)  # only its class is read
    assert moe.is_moe
    assert auto_dtypes(moe, ["nvfp4"]) == (["nvfp4"], [])  # nothing published among them: all searched
    assert auto_dtypes(moe, ["bf16", "nvfp4"]) == (["bf16"], ["nvfp4"])


def test_search_prints_the_choice_and_plan_names_it(moe_2t: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", moe_2t, "--system", "gb300", "--gpus", str(GPUS), "--seq-len", str(SEQ),
                 "--global-batch", str(BATCH), "--top", "1"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # (the console wraps at its width)
    assert "dtype auto: " in out and "left out: nvfp4" in out
    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "hu58", "phases": [{"name": "2028", "year": 2028}],
        "services": [{"name": "moe-2t", "kind": "training", "model": moe_2t, "tokens": "30T", "gpus": GPUS}],
        "pools": [{"name": "gb300", "device": "gb300", "site": "s", "price_usd_per_device": 52000}],
        "sites": [{"name": "s", "power": "300MW", "location": "ohio"}]}))
    (row,) = plan.services
    assert " nvfp4," not in row.detail.split(";")[0]  # the plan is not in FP4 by default
    assert "dtype auto: " in row.detail and "nvfp4 (left out)" in row.detail and "peak" in row.detail


def test_without_compare_no_other_precision_is_searched(auto: PlanSearchResult) -> None:
    """A library search's auto (`compare_dtypes` False: the speed tests' one grid per call) states the choice but
    runs no search of another precision."""
    def refuse(dtype: str) -> PlanSearchResult:
        raise AssertionError(f"searched {dtype}")
    assert auto.best is not None
    moe = TransformerShape.model_construct(num_experts=8)
    choice = dtype_choice(moe, ["bf16", "fp8", "mxfp8"], ["nvfp4"], auto.best, refuse, compare=False)
    assert choice.alternative is None and choice.chosen == auto.best.config.dtype
    assert "left out: nvfp4" in choice.summary
