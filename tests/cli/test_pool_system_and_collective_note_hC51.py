"""hC51 (session 47), the planning and answer halves of note_s46's catalog gaps. Each failed before its fix.

5. A fleet-mix pool refused the `system:` key a plan's pool takes ("Extra inputs are not permitted"): now read as
   plan reads it (`fields_read.check_pool_system`: the device names the system's accelerator), the pool sized and
   priced as the system, exactly as a pool whose `device` names the system.
6. The borrowed collective curves' note (`catalog.figures.borrowed_tables_note`, and a part of no preset's
   `defaults_note`) was on answers pricing no collective (one GPU, a TP1 replica): now only where one is priced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.conftest import CliRun, cli_json

from infraplan.errors import InputError
from infraplan.planning.fields_read import check_pool_system
from infraplan.planning.fleet_spec import FleetSpec, PoolSpec
from infraplan.serving.release_tables import prices_collectives

ROOT = Path(__file__).resolve().parents[2]
BORROWED = "mi300x: no measured collective table of its own"


def _fleet(pool: dict[str, Any]) -> dict[str, Any]:
    spec = yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text())
    spec["services"] = [s for s in spec["services"] if s["kind"] == "recsys"][:2]
    spec["pools"] = [{"name": "h100", "available": 2000, "price_usd_per_device": 42000, **pool},
                     {"name": "xeon", "device": "xeon-8480", "price_usd_per_device": 14000}]
    return dict(spec)


# 5.
def test_a_fleet_pool_with_a_system_answers_as_the_system(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = PoolSpec.model_validate({"name": "p", "device": "h100-sxm", "system": "dgx-h100-superpod"})
    assert both.device == both.system == "dgx-h100-superpod"
    answers = []
    for name, pool in (("both", {"device": "h100-sxm", "system": "dgx-h100-superpod"}),
                       ("system", {"device": "dgx-h100-superpod"})):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(_fleet(pool)))
        answers.append(cli_json(capsys, ["fleet-mix", str(path)]))
    assert answers[0] == answers[1]  # the same pool written two ways: one answer
    assert answers[0]["pools"][0]["device"] == "dgx-h100-superpod"


def test_a_fleet_pool_whose_device_is_not_the_systems_gets_plans_line(tmp_path: Path, cli: CliRun) -> None:
    with pytest.raises(InputError) as plan_line:
        check_pool_system("h100", "h200", "dgx-h100-superpod")  # plan's rule (scenario_checks.check_presets)
    assert str(plan_line.value) == ("pool 'h100': device h200 but system dgx-h100-superpod is built of h100-sxm; "
                                    "name one accelerator")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_fleet({"device": "h200", "system": "dgx-h100-superpod"})))
    code, out, err = cli(["fleet-mix", str(path), "--json"])
    assert code == 2 and out == "" and str(plan_line.value) in err and len(err.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="built of h100-sxm"):
        FleetSpec.model_validate(_fleet({"device": "h200", "system": "dgx-h100-superpod"}))
    check_pool_system("p", "dgx-h100-superpod", "dgx-h100-superpod")  # a system named twice is one accelerator


# 6.
def _collective_notes(capsys: pytest.CaptureFixture[str], args: list[str], where: str) -> list[str]:
    return [line for line in cli_json(capsys, args)[where] if BORROWED in line]


def test_train_names_borrowed_curves_only_where_it_prices_a_collective(capsys: pytest.CaptureFixture[str]) -> None:
    job = ["train", "llama3-8b", "--seq-len", "2048", "--global-batch", "8"]
    assert _collective_notes(capsys, [*job, "--system", "mi300x", "--gpus", "1"], "notes") == []
    assert len(_collective_notes(capsys, [*job, "--system", "mi300x-cluster", "--gpus", "8"], "notes")) == 1


def test_serve_names_borrowed_curves_only_where_it_prices_a_collective(capsys: pytest.CaptureFixture[str]) -> None:
    job = ["serve", "llama3-8b", "--system", "mi300x-cluster", "--gpus", "8", "--workload", "chat", "--rate", "2"]
    assert _collective_notes(capsys, [*job, "--tp", "1"], "warnings") == []  # eight TP1 replicas
    assert len(_collective_notes(capsys, [*job, "--tp", "2"], "warnings")) == 1


def test_a_deployment_prices_a_collective_where_a_pool_has_tp_or_ep_above_one() -> None:
    assert not prices_collectives({"tp": 1, "pp": 4, "ep": 1, "prefill": None})  # pipeline stages: point to point
    assert prices_collectives({"tp": 2, "ep": 1}) and prices_collectives({"tp": 1, "ep": 8})
    assert prices_collectives({"tp": 1, "ep": 1, "prefill": {"tp": 4, "ep": 1}})  # the prefill pool's TP
