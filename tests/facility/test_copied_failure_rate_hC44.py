"""A user's copy of a shipped failure rate answers as the shipped rate (hC44's finding, session 43).

The component mix that turns Llama 3's job interruptions into node failures (321 of 419 causes are server parts,
catalog/facility/reliability.yaml) was looked up by the rate's name only, so a YAML copy of `llama3-h100` gave no
GPUs out of service (null) where the preset gives them; spares refused it. The mix is now matched by the figures too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.catalog.reliability_loader import load_reliability
from infraplan.facility.outage import node_out_of_service_share


def _copy(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"copy-of-{name}.yaml"
    path.write_text(yaml.safe_dump(load_reliability().failure_rates[name].model_dump(mode="json", exclude_none=True)))
    return path


def test_a_copied_job_interruption_rate_takes_the_shipped_mix(tmp_path: Path) -> None:
    rate = load_reliability().failure_rates["llama3-h100"]
    share, _ = node_out_of_service_share("llama3-h100", rate)
    assert node_out_of_service_share(str(_copy(tmp_path, "llama3-h100")), rate)[0] == share
    assert share == pytest.approx(321 / 419)


def test_reliability_of_a_copy_is_the_presets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = "reliability --system dgx-h100-superpod --gpus 16384 --failure-rate"
    shipped = cli_json(capsys, f"{args} llama3-h100")
    copied = cli_json(capsys, f"{args} {_copy(tmp_path, 'llama3-h100')}")
    for key in ("expected_gpus_out_of_service", "goodput_of_gpus_held"):
        assert shipped[key] is not None and copied[key] == shipped[key]


def test_a_changed_copy_is_still_refused_for_spares(tmp_path: Path) -> None:
    rate = load_reliability().failure_rates["llama3-h100"].model_copy(update={"failures_per_1000_node_days": 5.0})
    with pytest.raises(ValueError, match="no component mix"):
        node_out_of_service_share("mine.yaml", rate)
