"""`plan` and `fleet-mix` say in text which service / pool pairs were not sized and why (hV53, session 53 planner
walk). Both put them in `--json` (`excluded`) only: gigawatt-2027's MTIA 400 pool, the example's "GB300 NVL72 vs
MTIA 400" for LLM serving, served nothing ("mtia-400 (Meta): no shipped serving stack runs there; give --stack")
and the summary gave no reason. Now one "not sized:" line per pool and reason (plan: with the phases).
Checked failing on HEAD 78a4202: no "not sized" line in either text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.cli import main

ROOT = Path(__file__).parents[2]


def test_plan_names_the_pools_it_did_not_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = yaml.safe_load((ROOT / "examples" / "plan-minimal.yaml").read_text())
    spec["phases"] = [{"name": "2025", "year": 2025}, {"name": "2026", "year": 2026}]
    spec["pools"] += [{"name": "later", "device": "h100-sxm", "site": "ohio", "from_year": 2026},
                      {"name": "chat-only", "device": "h100-sxm", "site": "ohio", "serves": ["llm"]}]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["plan", str(path)]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("not sized")]
    assert said == ["not sized: ranking on later (2025): delivered from 2026",
                    "not sized: ranking on chat-only (2025, 2026): the pool serves only llm"]


def test_fleet_mix_names_the_pools_it_did_not_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {"name": "f", "services": [{"name": "a", "kind": "recsys", "model": "dlrm-low", "qps": "1M",
                                       "latency_slo": "10ms"},
                                      {"name": "b", "kind": "recsys", "model": "dlrm-low", "qps": "2M",
                                       "latency_slo": "10ms"}],
            "pools": [{"name": "h100", "device": "h100-sxm"}, {"name": "msvp", "device": "msvp"}]}
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["fleet-mix", str(path)]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("not sized")]
    assert said == ["not sized: a, b on msvp: msvp is a video transcoder"]
