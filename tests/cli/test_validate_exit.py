"""`infraplan validate` exits 1 when a validation gate fails, 0 when every gate passes (issue 11 item 8)."""

from __future__ import annotations

import json

import pytest

import infraplan.validation.runner as runner
from infraplan.cli import main
from infraplan.cli.commands import validate as validate_command
from infraplan.validation.results import Gate, TrainingSummary, ValidationReport, ValidationSection


def _report(training_passes: bool, facility_passes: bool = True) -> ValidationReport:
    """A small report in the shape `run_validation` returns, with the gates set as asked."""
    summary = TrainingSummary(gated_cases=0, mean_abs_error=0.01, max_abs_error=0.01, all_cases=0,
                              mean_abs_error_all=0.01, max_abs_error_all=0.01, gate=Gate(mean=0.1, max=0.2),
                              passes_gate=training_passes)
    facility = ValidationSection(cases=[], summary={"passes_gate": facility_passes})
    return ValidationReport(cases=[], summary=summary, sections={"facility": facility})


@pytest.mark.parametrize(("training", "facility", "code"), [(True, True, 0), (False, True, 1), (True, False, 1)])
def test_exit_code_follows_the_gates(monkeypatch, capsys, training, facility, code):
    monkeypatch.setattr(validate_command, "run_validation", lambda: _report(training, facility))
    assert main(["validate", "--json"]) == code
    out, err = capsys.readouterr()
    assert json.loads(out)["summary"]["passes_gate"] is training  # the report is printed in full either way
    assert ("gate failed" in err) is (code == 1)


def test_markdown_output_also_fails_the_gate(monkeypatch, capsys):
    monkeypatch.setattr(validate_command, "run_validation", lambda: _report(False))
    assert main(["validate", "--markdown"]) == 1
    assert "| case |" in capsys.readouterr().out


@pytest.mark.slow
def test_real_validation_fails_when_the_tolerance_is_zero(monkeypatch, capsys):
    monkeypatch.setattr(runner, "GATE_MAX_ERROR", 0.0)  # no model is exact: every gated case now fails
    assert main(["validate", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["summary"]["passes_gate"] is False
