"""A serving stack per pool in `plan` and `fleet-mix` (hV43): a pool's `stack` is the serving stack of the LLM
deployments on it, before the service's `stack`, which comes before the part's vendor default
(`fleet_mix_llm.asked_stack`, then `stack_placement.serving_stack_for`). Before, a service's `stack` applied to every
pool it could run on, so an MTIA pool (no shipped stack ran there by default: hV42, until hM69) could not be priced on
vLLM while the GPU pools kept TensorRT-LLM. Each LLM row says which stack its pool's deployment ran and why; a pool
stack that names nothing, that no LLM deployment reads, or whose kernels are another vendor's is one line, exit 2, at
load."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.planning import scenario_sizing
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_mix_llm import llm_option
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_sizing import size
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec, ServiceSpec

CHAT = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5}
SITE = {"name": "ohio", "power": "10MW", "location": "ohio"}
PHASE = {"name": "2026", "year": 2026}
MTIA = {"name": "mtia", "device": "mtia-400-rack", "site": "ohio", "price_usd_per_device": 30000}
H100 = {"name": "h100", "device": "h100-sxm", "site": "ohio"}


def scenario(pools: list[dict[str, Any]], services: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": "s", "phases": [PHASE], "services": services or [CHAT], "pools": pools, "sites": [SITE]}


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The stack each `size_llm` search is asked for (a one-replica answer; the stack's choice is the point)."""
    asked: list[str | None] = []
    dep = SimpleNamespace(replicas=1, tp=1, pp=1, dtype="bf16", kv_dtype="bf16", max_batch=64, disaggregated=False,
                          attention_dp=1,
                          prefill=None, decode=None, prefill_replicas=0, decode_replicas=0)

    def search(*args: Any, **_: Any) -> Any:
        asked.append(args[7])
        return SimpleNamespace(feasible=True, gpus=1, deployment=dep, serve=None, slo=None, why=None,
                               meets_slo_full_run=True)  # a real answer has it (hG57 reads it)

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)
    return asked


@pytest.mark.parametrize(("device", "pool_stack", "service_stack", "ran", "why"), [
    ("h100-sxm", None, None, "trtllm-0.x",
     "neither pool 'p' nor service 'chat' names a `stack`: the default on NVIDIA parts"),
    ("h100-sxm", None, "sglang-0.x", "sglang-0.x", "the `stack` of service 'chat' (pool 'p' names none)"),
    ("h100-sxm", "vllm-0.x", "sglang-0.x", "vllm-0.x", "the `stack` of pool 'p' (service 'chat' names sglang-0.x)"),
    ("h100-sxm", "vllm-0.x", None, "vllm-0.x", "the `stack` of pool 'p'"),
    ("mi300x", None, None, "vllm-0.x", "neither pool 'p' nor service 'chat' names a `stack`: the default on AMD "
     "parts; no stack named: priced on vllm-0.x, the stack AMD parts run by default"),
])
def test_the_pool_stack_comes_before_the_services_which_comes_before_the_vendors(
        monkeypatch: pytest.MonkeyPatch, device: str, pool_stack: str | None, service_stack: str | None, ran: str,
        why: str) -> None:
    asked = _asked(monkeypatch)
    pool = PoolSpec(name="p", device=device, site="ohio", stack=pool_stack)
    sized = scenario_sizing.size_llm(ServiceSpec(**{**CHAT, "stack": service_stack}), pool, 5.0)
    assert not isinstance(sized, str)
    assert asked == [pool_stack or service_stack]  # None: serve-plan's search takes the part's vendor default
    assert sized.serving_stack == ran and sized.serving_stack_basis is not None
    assert sized.serving_stack_basis.startswith(why), sized.serving_stack_basis


def test_an_mtia_pool_runs_its_stack_while_the_gpu_pool_keeps_the_vendor_default() -> None:
    """The case of examples/mtia-vs-gpu: its MTIA 400 pool was excluded for LLM chat with hV42's refusal line; a
    `stack: vllm-0.x` on that pool alone prices it there (with the line that no measurement of vLLM on MTIA is in
    the catalog), and the H100 pool still runs TensorRT-LLM, NVIDIA's default."""
    spec = ScenarioSpec.model_validate(scenario([{**MTIA, "stack": "vllm-0.x"}, H100]))
    svc, (mtia, h100) = spec.services[0], spec.pools
    on_mtia, on_h100 = size(svc, mtia, 5.0), size(svc, h100, 5.0)
    assert not isinstance(on_mtia, str) and not isinstance(on_h100, str)
    assert (on_mtia.serving_stack, on_h100.serving_stack) == ("vllm-0.x", "trtllm-0.x")
    assert on_mtia.serving_stack_basis is not None and "priced with its profile as if it ran there" in \
        on_mtia.serving_stack_basis
    # no stack named: excluded before hM69 ("no shipped serving stack runs there"); now the Meta parts' default,
    # pytorch-mtia, an ASSUMPTION profile its basis says is one
    without = size(svc, mtia.model_copy(update={"stack": None}), 5.0)
    assert not isinstance(without, str) and without.serving_stack == "pytorch-mtia"
    assert without.serving_stack_basis is not None and "the default on Meta parts" in without.serving_stack_basis
    assert "is an ASSUMPTION" in without.serving_stack_basis
    plan = plan_scenario(spec)
    assert not any("mtia" in e and "chat" in e for e in plan.excluded), plan.excluded
    rows = [r for r in plan.services if r.service == "chat"]
    assert rows and all(r.serving_stack == {"mtia": "vllm-0.x", "h100": "trtllm-0.x"}[r.pool] for r in rows)


def test_the_same_stack_named_by_the_pool_or_by_the_service_is_one_answer() -> None:
    by_pool = ScenarioSpec.model_validate(scenario([{**H100, "stack": "vllm-0.x"}]))
    by_service = ScenarioSpec.model_validate(scenario([H100], [{**CHAT, "stack": "vllm-0.x"}]))
    a, b = (size(s.services[0], s.pools[0], 5.0) for s in (by_pool, by_service))
    assert not isinstance(a, str) and not isinstance(b, str)
    assert (a.unit_devices, a.detail, a.serving_stack) == (b.unit_devices, b.detail, b.serving_stack) == (
        b.unit_devices, b.detail, "vllm-0.x")
    default = size(by_service.services[0].model_copy(update={"stack": None}), by_service.pools[0], 5.0)
    assert not isinstance(default, str) and default.serving_stack == "trtllm-0.x"


def test_plan_prints_which_stack_each_pools_deployment_ran(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario([{**MTIA, "stack": "vllm-0.x"}])), encoding="utf-8")
    assert main(["plan", str(path)]) == 0
    # hC58: the line names the deployment's precision after its stack (MTIA 400 under vLLM: bf16, no fp8 or mxfp8)
    printed = ("chat on mtia: stack vllm-0.x, bf16 weights and activations, bf16 KV (the `stack` of pool 'mtia'; "
               "stack vllm-0.x (vLLM 0.x) runs")
    assert printed in capsys.readouterr().out
    assert main(["plan", str(path), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["services"]
    assert row["serving_stack"] == "vllm-0.x" and row["serving_stack_basis"].startswith("the `stack` of pool 'mtia'")


def test_a_fleet_mix_pool_runs_its_stack_and_its_row_names_serve_plans_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    pools = [{"name": "v2", "device": "mtia-v2", "stack": "vllm-0.x"}]
    spec = FleetSpec.model_validate({"services": [CHAT], "pools": pools})
    r = plan_fleet(spec)
    (row,) = r.assignment
    assert not r.excluded and row["serving_stack"] == "vllm-0.x"
    assert row["serving_stack_basis"].startswith("the `stack` of pool 'v2'; stack vllm-0.x (vLLM 0.x) runs on")
    args = shlex.split(row["serve_plan"])
    assert args[args.index("--stack") + 1] == "vllm-0.x"  # the printed serve-plan line runs the same stack
    capsys.readouterr()
    assert main([*args[1:], "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["gpus"] == row["devices"] and cli["stack"] == "vllm-0.x"
    # without the pool's stack: refused before hM69; now priced on the Meta parts' default, pytorch-mtia
    assert llm_option(spec.services[0], "mtia-v2", "asic", "v2")["detail"]["serving_stack"] == "pytorch-mtia"
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"services": [CHAT], "pools": pools}), encoding="utf-8")
    assert main(["fleet-mix", str(path)]) == 0
    # hC58: the stack line names the precision too (MTIA v2 runs bf16 only)
    assert "  stack vllm-0.x, bf16 weights and activations, bf16 KV: the `stack` of pool 'v2'" in \
        capsys.readouterr().out


PLAN_REFUSALS = [
    ([{**H100, "stack": "nosuch"}], None, "pools.0: unknown serving stack 'nosuch'"),
    ([{**H100, "stack": "nemo-26.04"}], None, "pools.0: stack nemo-26.04 is a training stack"),
    ([{**MTIA, "stack": "trtllm-0.x"}], None, "runs on NVIDIA parts only"),
    ([{**H100, "stack": "vllm-0.x", "serves": ["recsys"]}], None, "the pool serves only recsys: drop it"),
    ([{**H100, "device": "xeon-8480", "stack": "vllm-0.x"}], None, "xeon-8480 (cpu) does not run LLM serving"),
    ([{**H100, "stack": "vllm-0.x"}], [{"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": 1000,
                                        "latency_slo": "10ms"}],
     "pool 'h100' names a serving stack (vllm-0.x), which only llm services read; there is none: drop it"),
    ([{**H100, "stack": "no/such-stack.yaml"}], None, "pool 'h100': "),  # a file: read at the run, one line
]


@pytest.mark.parametrize(("pools", "services", "line"), PLAN_REFUSALS)
def test_a_pool_stack_that_cannot_serve_is_one_line_at_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], pools: list[dict[str, Any]],
        services: list[dict[str, Any]] | None, line: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario(pools, services)), encoding="utf-8")
    capsys.readouterr()
    assert main(["plan", str(path)]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1 and line in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(("pool", "services", "line"), [
    ({"name": "v2", "device": "mtia-v2", "stack": "trtllm-0.x"}, [CHAT], "runs on NVIDIA parts only"),
    ({"name": "x", "device": "msvp", "stack": "vllm-0.x"}, [CHAT], "msvp (video-asic) does not run LLM serving"),
    ({"name": "h", "device": "h100-sxm", "stack": "vllm-0.x"},
     [{"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": 1000, "latency_slo": "10ms"}],
     "which only llm services read"),
    ({"name": "h", "device": "h100-sxm", "stack": "no/such-stack.yaml"}, [CHAT], "pool 'h': "),
])
def test_a_fleet_pool_stack_that_cannot_serve_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], pool: dict[str, Any], services: list[dict[str, Any]],
        line: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"services": services, "pools": [pool]}), encoding="utf-8")
    capsys.readouterr()
    assert main(["fleet-mix", str(path)]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1 and line in err, err


def test_the_check_at_load_reads_no_file() -> None:
    """A stack, device or system given as a path is left to the run (`check_pool_stacks`): the web validates an
    upload before refusing its paths (web/scenarios.no_server_files), so validation must not open them."""
    pool = PoolSpec(name="p", device="h100-sxm", site="ohio", stack="/nonexistent/stack.yaml")
    assert pool.stack == "/nonexistent/stack.yaml"
    assert PoolSpec(name="p", device="/nonexistent/acc.yaml", site="ohio", stack="vllm-0.x").stack == "vllm-0.x"
    with pytest.raises(InputError, match="pool 'p': "):
        from infraplan.planning.fields_read import check_pool_stacks
        check_pool_stacks([pool])


def test_the_web_takes_a_pool_stack_and_refuses_a_path_in_it() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        spec = scenario([{**H100, "stack": "../vllm.yaml"}])
        response = client.post("/api/plan", json={"scenario": {"spec": spec}})
        assert response.status_code == 400
        assert "pools.h100.stack '../vllm.yaml' must be a preset name" in response.json()["detail"]
        bad = client.post("/api/plan", json={"scenario": {"spec": scenario([{**MTIA, "stack": "trtllm-0.x"}])}})
        assert bad.status_code == 400 and "runs on NVIDIA parts only" in bad.json()["detail"]  # at once, no job
        fleet = {"services": [CHAT], "pools": [{"name": "v2", "device": "mtia-v2", "stack": "/etc/passwd"}]}
        response = client.post("/api/fleet-mix", json={"fleet": {"spec": fleet}})
        assert response.status_code == 400 and "pools.v2.stack '/etc/passwd' must be a preset name" in \
            response.json()["detail"]
