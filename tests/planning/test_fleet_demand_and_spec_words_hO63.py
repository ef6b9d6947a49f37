"""hO63, from hI63's walk of fleet-mix and plan:

- a service's demand is bounded (`limits.MAX_RECSYS_QPS`, `MAX_VIDEO_STREAMS`): `qps: 1e300` reached the MILP, whose
  refusal said the service was 100 % short though the CPU pool had no limit (its coefficients, ~1e-296, fell below
  HiGHS's small-value cut), and named msvp, a video pool, as used up for a ranking shortage;
- the elastic relaxation names, of the pools used up, only those that could serve a short service, and keeps each
  coefficient above HiGHS's cut (each pair's devices in shares of its pool's limit);
- a sizing model's refusal names the spec's key, not the CLI's option ("ladder 9", was "--ladder 9":
  `fields_read.spec_words`, one rule for pool_capacity, fleet_mix_llm and scenario_sizing).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml

from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.planning import scenario_sizing
from infraplan.planning.fields_read import spec_words
from infraplan.planning.fleet_milp import why_infeasible
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario_spec import ServiceSpec

RANKING = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}
INGEST = {"name": "ingest", "kind": "video", "input": "1080p30", "daily_hours": 1000}
POOLS = [{"name": "xeon", "device": "xeon-8480"}, {"name": "msvp", "device": "msvp", "available": 100}]


def _fleet(tmp_path: Path, services: list[dict[str, Any]]) -> str:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"name": "f", "objective": "power", "services": services, "pools": POOLS}),
                    encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("service", "words"), [
    ({**RANKING, "qps": "1e300"}, "service 'ranking': a peak of 1e+300 QPS (qps) is above the 1e+15 QPS"),
    ({**INGEST, "daily_hours": "1e300"}, "service 'ingest': a peak of 4.17e+298 streams"),
])
def test_an_absurd_demand_is_one_line_before_any_sizing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        service: dict[str, Any], words: str) -> None:
    capsys.readouterr()
    assert main(["fleet-mix", _fleet(tmp_path, [service])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and words in err and "infraplan.limits.MAX_" in err, err


def test_a_scenario_demand_is_bounded_after_its_growth() -> None:
    svc = ServiceSpec.model_validate({**RANKING, "qps": "1e14", "growth": {"2027": 20.0}})
    assert scenario_sizing.demand(svc, "2026", 0.0) == pytest.approx(1e14)
    with pytest.raises(InputError, match=r"'ranking': a peak of 2e\+15 QPS \(qps x growth x headroom\)"):
        scenario_sizing.demand(svc, "2027", 0.0)


def _spec(services: list[tuple[str, str]], pools: list[str]) -> Any:
    return SimpleNamespace(services=[SimpleNamespace(name=n, kind=k) for n, k in services],
                           pools=[SimpleNamespace(name=n) for n in pools])


def test_only_pools_that_could_serve_a_short_service_are_named_used_up() -> None:
    """Ranking short on a 10-socket CPU pool; video met exactly by all 50 MSVPs: msvp is full but serves no ranking."""
    spec = _spec([("ranking", "recsys"), ("ingest", "video")], ["xeon", "msvp"])
    pairs = [(0, 0, {"capacity": 10.0}), (1, 1, {"capacity": 2.0})]
    line = why_infeasible(spec, pairs, np.array([1000.0, 100.0]), [10, 50])
    assert "ranking short by 900 of 1000 QPS (90 %)" in line and "ingest" not in line
    assert "pools used up: xeon (10 of 10)" in line and "msvp" not in line


def test_a_huge_demand_still_uses_the_big_pool_in_the_relaxation() -> None:
    """1e15 QPS against 10 M sockets of 30 kQPS (3e11): coefficients of 3e-11 a socket were dropped by HiGHS and the
    answer read "short by 1e+15 of 1e+15", no pool used; in shares of the pool's limit the sockets serve 3e11."""
    spec = _spec([("ranking", "recsys")], ["xeon"])
    line = why_infeasible(spec, [(0, 0, {"capacity": 3e4})], np.array([1e15]), [10_000_000])
    assert "short by 999,700,000,000,000 of 1e+15 QPS" in line and "xeon (10,000,000 of 10,000,000)" in line


def test_a_video_refusal_names_the_spec_key_not_the_cli_option() -> None:
    spec = FleetSpec.model_validate({"name": "f", "services": [{**INGEST, "ladder": 9}], "pools": POOLS})
    with pytest.raises(InputError) as caught:
        plan_fleet(spec)
    line = str(caught.value)
    assert "msvp: ladder 9: a 1080p input has 6 rungs" in line and "--ladder" not in line, line


def test_spec_words_renames_only_the_keys_the_spec_has() -> None:
    svc = ServiceSpec.model_validate(RANKING)
    assert spec_words("--latency-slo 1 ms: no --batch meets it (recsys --latency-slo)", svc) == (
        "latency_slo 1 ms: no --batch meets it (recsys latency_slo)")
    assert spec_words("--ladder 9 and --kv-dtype", svc) == "ladder 9 and kv_dtype"  # both ServiceSpec keys
