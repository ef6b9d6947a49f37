"""hF (session 60): `compare --json` carries every warning the run raised, as `plan --json` and the web do (hJ59's
`results.with_warnings`). Before, the comparison had neither a `warnings` nor a `notes` field, so only a pool's old
price key reached its JSON (in that scenario's plan, `with_read_warnings`): an accelerator file's line, a model or
stack file's, stayed on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

from infraplan.cli.main import main

PLAN = {"name": "base", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a", "price_usd_per_device": 30_000}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "tco"}}
PART = "extends: h100-sxm\ntypical_power_w: 500\n"  # a figure no command reads: one warning line


def _compare(paths: list[Path], capsys: pytest.CaptureFixture[str]) -> tuple[dict, list[str]]:
    capsys.readouterr()
    assert main(["compare", *map(str, paths), "--json"]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), [line.removeprefix("infraplan: warning: ") for line in err.splitlines()]


def test_an_accelerator_files_line_is_in_the_comparisons_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("part.yaml").write_text(PART)
    what_if = {**PLAN, "name": "what-if", "pools": [{**PLAN["pools"][0], "device": "part.yaml"}]}
    paths = [Path("base.yaml"), Path("what-if.yaml")]
    for path, spec in zip(paths, (PLAN, what_if), strict=True):
        path.write_text(yaml.safe_dump(spec))
    answer, printed = _compare(paths, capsys)
    assert len(printed) == 1 and "typical_power_w 500 W" in printed[0]
    assert answer["warnings"] == printed  # the run's line, once, as stderr said it
    clean, printed = _compare([paths[0], paths[0]], capsys)
    assert printed == [] and clean["warnings"] == []


def test_the_web_answers_the_same_lines(client: TestClient, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    old = {**PLAN, "name": "old", "pools": [{("capex_usd" if k == "price_usd_per_device" else k): v
                                             for k, v in PLAN["pools"][0].items()}]}
    paths = [tmp_path / "base.yaml", tmp_path / "old.yaml"]
    for path, spec in zip(paths, (PLAN, old), strict=True):
        path.write_text(yaml.safe_dump(spec))
    answer, printed = _compare(paths, capsys)
    assert len(printed) == 1 and "capex_usd" in printed[0] and answer["warnings"] == printed
    web = web_answer(client, "compare", {"scenarios": [{"spec": PLAN}, {"spec": old}]})
    assert web["warnings"] == answer["warnings"]
