"""hM54: two leftovers of plan retirement (planning/retirement.py), each test failing before the change.

1. A `refresh_with` pool whose devices have all retired by its successor's year, where the successor cannot serve
   a service: the plan named a site's power cap in the first phase ("binding: site ohio at its power cap of 10 MW
   in 2025"); now the sizing skips the retired line (`out_of_service`) and the one line names the refresh and why
   the successor cannot serve.
2. `available` with `refresh_with`: the successor copied the cap, so the pool and its successor together held up to
   twice it (48 available: 16 H100 + 48 B200 in service in 2030); refused, one line, exit 2 (the docstring says why
   one MILP row over both is not enough).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import infraplan.catalog
from infraplan.cli.main import main as cli_main


def _spec(pool: dict[str, Any], services: list[dict[str, Any]], years: list[int]) -> dict[str, Any]:
    return {"name": "hm54", "phases": [{"name": str(y), "year": y} for y in years], "services": services,
            "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}], "policy": {"objective": "power"}}


def _plan(raw: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    capsys.readouterr()
    rc = cli_main(["plan", str(file)])
    return rc, capsys.readouterr().err.strip()


def test_a_refresh_whose_successor_cannot_serve_names_the_refresh(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    chat = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 10,
            "growth": {"2028": 1.5}}
    # a successor no shipped serving stack runs on: a part of a vendor none names (mtia-400 was one until hM69's
    # pytorch-mtia profile, the default on Meta parts, which now serves this chat)
    part = yaml.safe_load((Path(infraplan.catalog.__file__).parent / "accelerators" / "mi300x.yaml").read_text())
    successor = tmp_path / "acme-x1.yaml"
    successor.write_text(yaml.safe_dump({**part, "vendor": "Acme"}), encoding="utf-8")
    raw = _spec({"from_year": 2025, "lifetime_years": 3, "refresh_with": str(successor)}, [chat], [2025, 2028])
    rc, err = _plan(raw, tmp_path, capsys)
    assert rc == 2 and "\n" not in err, err
    assert "no pool can serve 'chat' in 2028" in err and "power cap" not in err, err
    assert f"h100: refreshed by {successor} from 2028: it buys no more h100-sxm" in err, err
    assert "h100-refresh: acme-x1 (Acme)" in err and "no shipped serving stack" in err, err


def test_available_with_refresh_with_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ranking = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "450M", "latency_slo": "10ms",
               "growth": {"2028": 2, "2030": 3.5}}
    raw = _spec({"lifetime_years": 5, "refresh_with": "b200", "available": 48}, [ranking], [2025, 2028, 2030])
    rc, err = _plan(raw, tmp_path, capsys)
    assert rc == 2 and "\n" not in err, err
    assert "pool 'h100': available with refresh_with" in err and "twice" in err, err
