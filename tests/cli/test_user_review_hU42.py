"""hU42 (session 41): hostile inputs to this session's features (validation/notes/product_review_tried.md, section
"hU42 (session 41)").

A user's failure-rate file took any positive rate: `failures_per_1000_node_days: 1e300` printed two numpy overflow
warnings and a goodput of 0 from `reliability`, and made `plan`'s spare-node quantile NaN: a traceback (scipy's
Poisson ppf is NaN beyond ~1e10 expected nodes in repair). The rate and the planned interruptions per day now have
stated bounds (`infraplan.limits`), and a quantile scipy cannot evaluate is one line, exit 2.

A scenario's `policy.failure_rate` without `spare_probability` sized nothing and was checked by nothing:
`failure_rate: nope` planned with exit 0. It is now refused in one line naming spare_probability.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.conftest import CliRun

from infraplan.errors import InputError
from infraplan.planning.spares import poisson_quantile

PLAN = Path(__file__).resolve().parents[2] / "examples" / "plan-minimal.yaml"


def _rate_file(tmp_path: Path, per_1000: str, planned: str = "0") -> Path:
    path = tmp_path / "rate.yaml"
    path.write_text(f"failures_per_1000_node_days: {per_1000}\naccelerators_per_node: 8\n"
                    f"planned_interruptions_per_day: {planned}\ncounts: node_failures\nsource: a user's figure\n")
    return path


@pytest.mark.parametrize(("per_1000", "planned", "field"), [("1e300", "0", "failures_per_1000_node_days"),
                                                            ("5", "1e300", "planned_interruptions_per_day")])
def test_reliability_refuses_a_failure_rate_beyond_its_bound(cli: CliRun, tmp_path: Path, per_1000: str,
                                                             planned: str, field: str) -> None:
    rate = _rate_file(tmp_path, per_1000, planned)
    code, out, err = cli(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "1024", "--failure-rate",
                          str(rate), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and field in err and "overflow" not in err


def test_plan_spares_refuse_a_failure_rate_beyond_its_bound(cli: CliRun, tmp_path: Path) -> None:
    rate = _rate_file(tmp_path, "1e300")
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(PLAN.read_text().replace(
        "name: plan-minimal", f"name: t\npolicy: {{failure_rate: {rate}, spare_probability: 0.99}}"))
    code, out, err = cli(["plan", str(scenario), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "failures_per_1000_node_days" in err and "Traceback" not in err


def test_a_rate_at_its_bound_is_still_answered(cli: CliRun, tmp_path: Path) -> None:
    rate = _rate_file(tmp_path, "1e6", "86400")
    code, out, err = cli(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "1024", "--failure-rate",
                          str(rate), "--json"])
    assert code == 0, err
    assert '"job_mttf_s": 0.675' in out  # 24 x 3600 / (1e6 / 1000 x 128 nodes) s


def test_spare_quantile_beyond_scipy_is_one_input_error() -> None:
    assert poisson_quantile(10.0, 0.99) == 18
    with pytest.raises(InputError, match="nodes expected in repair"):
        poisson_quantile(1e12, 0.5)


@pytest.mark.parametrize("rate", ["nope", "rsc-1-jobs"])
def test_plan_refuses_a_failure_rate_that_sizes_nothing(cli: CliRun, tmp_path: Path, rate: str) -> None:
    """A policy's `failure_rate` without `spare_probability` was read by nothing: an unknown name planned, exit 0."""
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(PLAN.read_text().replace("name: plan-minimal", f"name: t\npolicy: {{failure_rate: {rate}}}"))
    code, out, err = cli(["plan", str(scenario), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "spare_probability" in err


def test_an_empty_failure_rate_is_refused_not_taken_as_the_default() -> None:
    """`failure_rate: ''` with spare_probability had fallen back to the accelerator's rate without a word (hU42's
    note): an empty name is refused by the policy's schema."""
    import pydantic

    from infraplan.planning.scenario_spec import PolicySpec

    with pytest.raises(pydantic.ValidationError, match="failure_rate"):
        PolicySpec(failure_rate="", spare_probability=0.99)
    assert PolicySpec(failure_rate="rsc-1", spare_probability=0.99).failure_rate == "rsc-1"
