"""The model against published measurements: the gate of issue 3 and plan ranking on measured data."""

from __future__ import annotations

import pytest
from tests.user_docs import doc_path

from infraplan.validation import GATE_MAX_ERROR, GATE_MEAN_ERROR, load_cases, plan_ranking, run_validation


@pytest.fixture(scope="module")
def report():
    return run_validation()  # the report `infraplan validate` builds, cached per process (test_fuzz's validate)


def test_the_report_is_computed_once_per_process(report):
    assert run_validation() is report  # the fuzz table's validate and its --json twin share it


def test_every_case_has_source_metric_and_plan_origin():
    for case in load_cases():
        assert case["source"] and case["metric"] and case["published"] > 0
        assert case["plan_source"] in ("published", "assumed", "search")
        if case["plan_source"] == "assumed":
            assert case["assumed"], case["id"]


def test_gate_mean_and_max_error(report):
    gated = [r for r in report.cases if r.gated]
    assert len(gated) >= 16  # the known-gap cases are reported, never the majority
    errors = [abs(r.error) for r in gated]
    assert sum(errors) / len(errors) <= GATE_MEAN_ERROR, report.summary
    worst = max(gated, key=lambda r: abs(r.error))
    assert abs(worst.error) <= GATE_MAX_ERROR, worst


def test_known_gaps_are_explained_and_still_reported(report):
    for row in report.cases:
        if not row.gated:
            assert len(row.known_gap) > 40
            assert row.predicted > 0


def test_search_rows_use_the_published_batch_and_gpus(report):
    cases = {c["id"]: c for c in load_cases()}
    for row in report.cases:
        if row.plan_source == "search":
            case = cases[row.id]
            assert row.plan.gpus == case["gpus"]
            assert row.plan.global_batch == case["plan"]["global_batch"]


def test_plans_rank_like_the_measured_single_node_runs():
    ranking = plan_ranking()
    assert ranking.cases == 1440
    assert ranking.spearman >= 0.8


def test_the_readmes_case_table_is_what_validate_measures(report):
    """The 'Validation today' case table (docs/validation.md since hM64) quotes each training case's predicted value
    and error: they must be what the model gives now (to the printed precision), so the docs cannot drift from
    `infraplan validate`."""
    readme = doc_path("validation")
    quoted = {}
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[5].endswith("%") and cells[6] in ("published", "assumed", "search"):
            quoted[cells[0]] = (cells[4], cells[5], cells[6], cells[2])  # (the stack column: hT, session 62)
    by_id = {row.id: row for row in report.cases}
    assert set(quoted) == set(by_id)
    for case_id, (predicted, error, plan, stack) in quoted.items():
        row = by_id[case_id]
        value = row.predicted * (100 if predicted.endswith("%") else 1)  # MFU rows print a percentage
        assert abs(float(predicted.rstrip(" %")) - value) <= 0.051, case_id
        assert abs(float(error.replace("−", "-").rstrip(" %")) - 100 * row.error) <= 0.051, case_id
        assert plan == row.plan_source, case_id
        assert stack == row.stack, case_id


def test_the_readmes_set_table_is_what_validate_measures(report):
    """README.md's 'Validation sets against a constant baseline' table quotes each set's mean |error|: it must be
    the set's mean now (to the printed 0.1 %)."""
    readme = doc_path("README")
    rows = {}
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and (cells[2][:1].isdigit() or cells[2].startswith("**")):
            rows[cells[0]] = cells[2]
    quoted_prefix = {"training cases (gated)": "training cases (gated)", "vTrain single-node A100": "vTrain",
                     "frontier NeMo": "frontier training", "Hopper serving, closed loop, MoE/MLA": "serving hopper MoE",
                     "Hopper serving, closed loop, disaggregated": "serving hopper disaggregated",
                     "Blackwell serving, closed loop": "serving Blackwell",
                     "Recommendation, MLPerf Inference v5.1 DLRM-v2": "MLPerf Inference v5.1 DLRM",
                     "LLM serving, MLPerf Inference v5.1": "MLPerf Inference v5.1 8-GPU"}
    checked = 0
    for readme_prefix, set_prefix in quoted_prefix.items():
        quoted = next(v for k, v in rows.items() if k.startswith(readme_prefix))
        measured = next(s for s in report.sets if s.name.startswith(set_prefix))
        first = float(quoted.strip("*").split("%")[0].strip().strip("*"))
        assert abs(first - 100 * measured.mean_abs_error) <= 0.051, (readme_prefix, quoted, measured.mean_abs_error)
        checked += 1
    assert checked == len(quoted_prefix)
