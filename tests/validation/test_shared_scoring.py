"""`infraplan validate` and the error bands share one scoring of the training cases per process
(`validation.runner.case_rows` / `scored_sets`): the report's rows and sets and the bands' residuals are those
objects, and scoring them afresh gives equal results (the sharing is a speed-up only)."""

from __future__ import annotations

from infraplan.validation import sets
from infraplan.validation.bands import EXCLUDED_SETS, current_residuals
from infraplan.validation.runner import case_rows, load_cases, run_case, run_validation, scored_sets


def test_the_report_and_the_error_bands_read_one_scoring() -> None:
    report = run_validation()  # cached per process (tests/conftest.py runs this next to test_validation.py)
    shared = scored_sets()
    assert report.cases == list(case_rows())
    assert report.sets == [found for found, _ in shared]
    scored = [r for found, residuals in shared if found.name not in EXCLUDED_SETS for r in residuals]
    stored = current_residuals()  # the scored sets' residuals with their campaigns, then the dense Hopper set's
    assert [r.model_copy(update={"campaign": ""}) for r in stored[:len(scored)]] == scored
    assert all(r.campaign for r in stored) and len(stored) > len(scored)
    assert [s.name for s, _ in shared if s.name in EXCLUDED_SETS] == list(EXCLUDED_SETS)  # one set left out


def test_scoring_afresh_gives_the_shared_rows_and_sets() -> None:
    cases = load_cases()
    assert [run_case(case) for case in cases[:4]] == list(case_rows())[:4]
    assert sets.training_case_set([run_case(case) for case in cases], cases) == scored_sets()[0]
