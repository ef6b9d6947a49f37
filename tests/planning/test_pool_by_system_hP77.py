"""A pool may name its `system:` alone (hP77): `{name: g, system: gb200-nvl72}` was refused "pools.0.device: Field
required" by fleet-mix and plan alike, while docs/custom-silicon.md offered "a `device:`, or as in `plan` a
`system:`". One rule for both (`fields_read.pool_device_of_system`): the pool is built of the system's accelerator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infraplan.cli.main import main
from infraplan.planning.fleet_spec import load_fleet_spec
from infraplan.planning.scenario_spec import load_scenario

RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}


def _file(tmp_path: Path, name: str, spec: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


def _fleet(tmp_path: Path, name: str, pool: dict[str, object]) -> Path:
    return _file(tmp_path, name, {"name": "f", "services": [RANKING], "pools": [pool]})


def _plan(tmp_path: Path, name: str, pool: dict[str, object]) -> Path:
    return _file(tmp_path, name, {"name": "p", "phases": [{"name": "2025", "year": 2025}], "services": [RANKING],
                                  "pools": [{**pool, "site": "ohio"}],
                                  "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]})


@pytest.mark.parametrize(("system", "accelerator"), [("gb200-nvl72", "gb200"), ("dgx-h100-superpod", "h100-sxm"),
                                                     ("mtia-v2-rack", "mtia-v2")])
def test_a_pool_by_system_is_built_of_its_accelerator(tmp_path: Path, system: str, accelerator: str) -> None:
    alone = {"name": "g", "system": system}
    both = {"name": "g", "device": accelerator, "system": system}
    assert load_fleet_spec(_fleet(tmp_path, "a.yaml", alone)) == load_fleet_spec(_fleet(tmp_path, "b.yaml", both))
    plan = load_scenario(_plan(tmp_path, "p.yaml", alone)).pools[0]
    assert (plan.device, plan.system) == (accelerator, system)
    assert plan == load_scenario(_plan(tmp_path, "q.yaml", both)).pools[0]


def test_fleet_mix_answers_a_pool_by_system_as_the_same_pool_with_its_device(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = []
    for name, pool in (("a.yaml", {"name": "g", "system": "gb200-nvl72"}),
                       ("b.yaml", {"name": "g", "device": "gb200", "system": "gb200-nvl72"})):
        assert main(["fleet-mix", str(_fleet(tmp_path, name, pool)), "--json"]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    assert answers[0] == answers[1] and answers[0]["pools"][0]["used"] > 0


@pytest.mark.parametrize("command", ["fleet-mix", "plan"])
def test_an_unknown_system_or_a_system_file_alone_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               command: str) -> None:
    write = _fleet if command == "fleet-mix" else _plan
    assert main([command, str(write(tmp_path, "c.yaml", {"name": "g", "system": "nope-rack"}))]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown system or accelerator 'nope-rack'" in err, err
    assert main([command, str(write(tmp_path, "d.yaml", {"name": "g", "system": "rack.yaml"}))]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pools.0.device: Field required" in err, err  # a file names its device
