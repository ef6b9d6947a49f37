"""A training service on a pool whose `system` holds fewer devices than the job says where it ran (hV53, session 53
planner walk). `plan` runs such a job on the pool's accelerator's generic node and Clos (`Cluster.for_accelerator`,
scenario_sizing._training_point), as `train --system gb300 --gpus N` does, while `train --system gb300-nvl72 --gpus
N` refuses ("system gb300-nvl72 has 72 accelerators"): gigawatt-2027's 1,024- and 393,216-GPU runs on its
gb300-nvl72-superpod pool (576) said nothing of it. Checked failing on HEAD 78a4202 (no such words in the detail)."""

from __future__ import annotations

from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _plan(gpus: int) -> str:
    spec = ScenarioSpec.model_validate({
        "name": "beyond", "phases": [{"name": "2027", "year": 2027}],
        "services": [{"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": gpus}],
        "pools": [{"name": "gb300", "device": "gb300", "system": "gb300-nvl72", "site": "s",
                   "price_usd_per_device": 52000}],
        "sites": [{"name": "s", "power": "10MW", "location": "ohio", "cooling": "liquid"}]})
    (row,) = plan_scenario(spec).services
    return row.detail


def test_a_job_beyond_its_pool_system_says_where_it_ran() -> None:
    assert _plan(128).endswith("; on `--system gb300`'s generic node and Clos: system gb300-nvl72 holds 72")
    assert "generic node" not in _plan(64)  # the system holds it: run there, nothing said
