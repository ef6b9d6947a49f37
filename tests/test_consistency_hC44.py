"""The same question asked two ways gets one answer (hC44, session 43): pairs of commands no other test compared.

* `fleet-mix`'s capacity per device of a recsys or video pool is what `recsys` / `video` answer for that device, to
  the bit, with the same batch, latency and bound; before, the row printed served / devices (capacity x n / n), one
  ulp off `recsys` for dlrm-medium on xeon-8480 at 20 ms and on MTIA v2 at 3 ms. A one-pool video fleet sized for
  power buys the devices `video --daily-hours` counts;
* `reliability` of the job `train --tokens` runs (its system, GPUs, model and wall-clock days) gives the run's
  goodput, job MTTF, Young/Daly interval, checkpoint size and write time, and its expected interruptions;
* `campus`'s `facility` block is `facility --accelerator A --count N` for the N accelerators the campus fits, field
  for field, one building or several, with its cooling, location and build type;
* each point of `search --gpus LO:HI:xF` is `search --gpus N`'s best plan, field for field;
* `train --recompute auto` is `train` with the recompute (and block layers) it chose;
* a `search --no-mfu-guard` row flagged beyond the best published MFU gives `train`'s reason for its
  `train_command`, then only how the search ranked it;
* `serve-plan`'s `serve_command` and a fleet-mix LLM row's `serve_plan` line carry the rate and SLOs that read back
  to the floats searched (they were written with `:g`, 6 significant digits: another run);
* a fleet-mix file is the one-phase `plan` of its services (same servers bought, same rows under `power`);
* `network A --gpus N` is `facility --accelerator A --count N`'s network within one zone.
"""

from __future__ import annotations

import math
import shlex
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.cli.conftest import cli_json

from infraplan.cli import main


def _fleet(tmp_path: Path, service: dict[str, Any], device: str) -> dict[str, Any]:
    spec = {"name": "pair", "objective": "power", "services": [{"name": "s", **service}],
            "pools": [{"name": "p", "device": device, "capex_usd": 10000}]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(spec))
    return {"path": str(path)}


RECSYS_MODELS = ["dlrm-low", "dlrm-medium", "dlrm-high", "mlperf-dlrm-dcnv2"]
RECSYS_DEVICES = ["mtia-v1", "mtia-v2", "h100-sxm", "h200", "a100-80gb", "xeon-8480", "epyc-9654"]
DRAWS = settings(max_examples=12, deadline=None, derandomize=True, database=None,  # the same draws in every run
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@DRAWS
@given(model=st.sampled_from(RECSYS_MODELS), slo_ms=st.sampled_from([3, 5, 10, 15, 20, 50]),
       device=st.sampled_from(RECSYS_DEVICES))
@example(model="dlrm-medium", slo_ms=20, device="xeon-8480")  # one ulp apart before (served / devices)
@example(model="dlrm-medium", slo_ms=3, device="mtia-v2")
def test_fleet_mix_recsys_capacity_is_recsys_answer(model: str, slo_ms: int, device: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    slo = f"{slo_ms}ms"
    alone = cli_json(capsys, ["recsys", model, "--accelerator", device, "--latency-slo", slo])
    with tempfile.TemporaryDirectory() as folder:
        fleet = _fleet(Path(folder), {"kind": "recsys", "model": model, "qps": "1M", "latency_slo": slo}, device)
        if not alone["meets_slo"]:  # not even batch 1 meets it: refused, with recsys's latency at batch 1
            assert main(["fleet-mix", fleet["path"], "--json"]) == 2
            assert f"latency {alone['latency_s'] * 1e3:.3g} ms at batch 1" in capsys.readouterr().err
            return
        mixed = cli_json(capsys, ["fleet-mix", fleet["path"]])
    (row,) = mixed["assignment"]
    assert row["capacity_per_device"] == alone["qps"]  # bitwise: one model, one answer
    assert (row["batch"], row["latency_s"], row["bound"]) == (alone["batch"], alone["latency_s"], alone["bound"])
    assert row["devices"] == math.ceil(1e6 / alone["qps"])  # power objective, no availability cap: the fewest


VIDEO = [("msvp", "1080p30", "5", "h264", "high"), ("msvp", "2160p60", "1", "vp9", "standard"),
         ("xeon-8480", "1080p30", "5", "h264", "high"), ("epyc-9654", "720p30", "5", "vp9", "standard")]


@pytest.mark.parametrize(("device", "source", "ladder", "codec", "quality"), VIDEO)
def test_fleet_mix_video_pool_is_video_fleet(device: str, source: str, ladder: str, codec: str, quality: str,
                                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = {"input": source, "ladder": int(ladder), "codec": codec, "quality": quality}
    fleet = _fleet(tmp_path, {"kind": "video", **job, "daily_hours": 5000, "peak_to_average": 1.5}, device)
    (row,) = cli_json(capsys, ["fleet-mix", fleet["path"]])["assignment"]
    alone = cli_json(capsys, ["video", "--device", device, "--input", source, "--ladder", ladder, "--codec", codec,
                              "--quality", quality, "--daily-hours", "5000", "--peak-to-average", "1.5"])
    assert row["capacity_per_device"] == alone["streams_per_device"]
    assert (row["encoder"], row["bound"]) == (alone["encoder"], alone["bound"])
    assert row["devices"] == alone["fleet"]["devices"]
    assert row["served"] >= alone["fleet"]["concurrent_streams"]


RUNS = {  # train line (without --tokens), tokens, the model it names
    "llama3-405b-meta": ("llama3-405b --system meta-genai-roce-24k --gpus 16384 --tp 8 --pp 16 --vpp 7 --seq-len 8192 "
                         "--global-batch 2048 --zero 3 --stack meta-llama3", "15.6T"),
    "deepseek-v3-nvl72": ("deepseek-v3 --system gb200-nvl72-superpod --gpus 512 --tp 1 --pp 8 --ep 64 --order "
                          "tp-cp-dp-pp --seq-len 4096 --global-batch 4096 --dtype fp8 --recompute auto", "1T"),
    "accelerator-preset": ("llama3-70b --system h100-sxm --gpus 1024 --tp 8 --pp 4 --seq-len 8192 --global-batch 512",
                           "1T"),
    "mixtral-mi300x": ("mixtral-8x7b --system mi300x-cluster --gpus 64 --tp 2 --pp 1 --ep 8 --seq-len 4096 "
                       "--global-batch 256", "300G"),
}


@pytest.mark.parametrize("case", sorted(RUNS))
def test_reliability_of_the_run_is_train_tokens(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    line, tokens = RUNS[case]
    run = cli_json(capsys, f"train {line} --tokens {tokens}")
    model, system, gpus = line.split()[0], run["system"] if case != "accelerator-preset" else "h100-sxm", \
        run["config"]["gpus"]
    days = run["time_to_train_s"] / 86400.0
    alone = cli_json(capsys, ["reliability", "--system", system, "--gpus", str(gpus), "--model", model,
                              "--days", repr(days)])
    for key in ("goodput", "job_mttf_s", "checkpoint_interval_s", "checkpoint_bytes", "checkpoint_write_s", "restart_s",
                "failure_rate"):
        assert run[key] == alone[key], key
    assert run["expected_interruptions"] == pytest.approx(alone["expected_interruptions"], rel=1e-12)


CAMPUSES = [("gb200", "50MW", []), ("h100-sxm", "30MW", ["--cooling", "liquid"]),
            ("b200", "20MW", ["--location", "ohio"]), ("mi300x", "10MW", ["--build-type", "low-cost"]),
            ("gb200", "300MW", [])]  # 300 MW: six buildings


@pytest.mark.parametrize(("accelerator", "power", "options"), CAMPUSES)
def test_campus_facility_is_facility_of_its_accelerators(accelerator: str, power: str, options: list[str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    campus = cli_json(capsys, ["campus", "--power", power, "--accelerator", accelerator, *options])
    alone = cli_json(capsys, ["facility", "--accelerator", accelerator, "--count", str(campus["accelerators"]),
                              *options])
    assert campus["facility"] == alone
    for key in ("capex_usd", "opex_usd_per_year", "energy_mwh_per_year", "co2_t_per_year", "total_co2_t_per_year"):
        assert campus[key] == alone[key], key
    assert campus["network"] == alone["network"] and campus["racks"] == alone["racks"]


SCALING = ["llama3-8b --system dgx-h100-superpod --seq-len 4096 --global-batch 256 --gpus 16:64:x2",
           "mixtral-8x7b --system dgx-h100-superpod --seq-len 4096 --global-batch 256 --dtype fp8 --gpus 32,64"]


@pytest.mark.parametrize("line", SCALING)
def test_each_scaling_point_is_the_search_at_its_size(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = shlex.split(line)
    curve = cli_json(capsys, ["search", *args])["scaling"]
    assert len(curve) >= 2
    fixed = args[:args.index("--gpus")]
    for point in curve:
        (best,) = cli_json(capsys, ["search", *fixed, "--gpus", str(point["gpus"]), "--top", "1"])["top"]
        assert point["best"] == best, point["gpus"]


AUTO = ["llama3-70b --system dgx-h100-superpod --gpus 64 --tp 4 --pp 2 --seq-len 8192 --global-batch 128",  # block
        "qwen3-30b-a3b --system dgx-h100-superpod --gpus 16 --tp 1 --pp 1 --cp 2 --ep 8 --seq-len 32768 "
        "--global-batch 16",
        "llama3-70b --system dgx-h100-superpod --gpus 64 --tp 8 --pp 4 --vpp 4 --seq-len 8192 --global-batch 128"]


@pytest.mark.parametrize("line", AUTO)
def test_recompute_auto_is_train_with_its_choice(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    auto = cli_json(capsys, f"train {line} --recompute auto")
    config = auto["config"]
    chosen = ["--recompute", config["recompute"]]
    if config["recompute_layers"]:
        chosen += ["--recompute-layers", str(config["recompute_layers"])]
    explicit = cli_json(capsys, ["train", *shlex.split(line), *chosen])
    auto.pop("notes"), explicit.pop("notes")  # auto's says what it chose
    assert auto == explicit


def test_an_unguarded_search_row_beyond_the_published_mfu_says_what_train_says(
        capsys: pytest.CaptureFixture[str]) -> None:
    found = cli_json(capsys, "search llama3-70b --system h100-sxm --gpus 48 --seq-len 4096 --global-batch 96 "
                             "--no-mfu-guard --top 2")
    assert found["top"] and all(row["beyond_published_mfu"] for row in found["top"])
    for row in found["top"]:
        trained = cli_json(capsys, shlex.split(row["train_command"])[1:])
        assert trained["beyond_published_mfu"] is True
        assert row["beyond_published_mfu_reason"] == f"{trained['beyond_published_mfu_reason']}; ranked by predicted " \
                                                     "time (no MFU guard)"
        shared = set(row) & set(trained) - {"train_command", "beyond_published_mfu_reason"}
        assert {key for key in shared if row[key] != trained[key]} == set()


def test_serve_command_reruns_serve_plans_rate_and_slos_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    """The line wrote the rate and SLOs with `:g` (6 significant digits): 7.123456789 requests/s reran at 7.12346,
    other arrivals, other percentiles (units.number_text writes what reads back to the same float)."""
    plan = cli_json(capsys, "serve-plan llama3-8b --system dgx-h100-superpod --rate 7.123456789 --requests 200 "
                            "--max-gpus 2 --workload chat --ttft-slo 0.3333333333 --tpot-slo 0.0212345678")
    argv = shlex.split(plan["serve_command"])
    assert [argv[argv.index(f) + 1] for f in ("--rate", "--ttft-slo", "--tpot-slo")] == [
        "7.123456789", "0.3333333333", "0.0212345678"]
    served = cli_json(capsys, argv[1:])
    assert served["rate_per_s"] == 7.123456789 and served["slo"] == {"ttft_s": 0.3333333333, "tpot_s": 0.0212345678}
    for key in ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s"):
        assert served[key] == plan["serve"][key], key


def test_a_fleet_llm_rows_serve_plan_line_keeps_its_slos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service = {"kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 3.3333333,
               "ttft_slo": 0.41234567, "tpot_slo": 0.02345678}
    fleet = _fleet(tmp_path, service, "h100-sxm")
    (row,) = cli_json(capsys, ["fleet-mix", fleet["path"]])["assignment"]
    argv = shlex.split(row["serve_plan"])
    assert [argv[argv.index(f) + 1] for f in ("--rate", "--ttft-slo", "--tpot-slo")] == [
        "3.3333333", "0.41234567", "0.02345678"]  # before: 0.412346 and 0.0234568, another search's SLOs
    plan = cli_json(capsys, argv[1:])
    assert (plan["gpus"], plan["deployment"]["tp"], plan["deployment"]["dtype"]) == (
        row["devices"], row["tp"], row["dtype"])
    assert (plan["serve"]["ttft_s"]["p99"], plan["serve"]["tpot_s"]["p99"]) == (row["ttft_p99_s"], row["tpot_p99_s"])


MIX_SERVICES = [{"name": "retrieval", "kind": "recsys", "model": "dlrm-low", "qps": "4G", "latency_slo": "10ms"},
                {"name": "late", "kind": "recsys", "model": "dlrm-high", "qps": "40M", "latency_slo": "20ms"},
                {"name": "video", "kind": "video", "input": "1080p30", "ladder": 5, "daily_hours": 50000,
                 "peak_to_average": 1.5}]
MIX_POOLS = [{"name": "mtia", "device": "mtia-v2", "available": 3000, "capex_usd": 9000},
             {"name": "h100", "device": "h100-sxm", "available": 2000, "capex_usd": 42000},
             {"name": "msvp", "device": "msvp", "available": 20000, "capex_usd": 1500}]


@pytest.mark.parametrize("objective", ["power", "tco"])
def test_a_fleet_mix_is_the_one_phase_plan_of_its_services(objective: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`plan` is the phased fleet-mix: one phase at one site (the fleet's electricity price and PUE) buys the same
    servers, at the same power and capex. Under `power` the rows are the same too; under `tco` the split of a
    service over servers already bought is a tie (the same cost), which the two MILPs break apart (retrieval on
    656 MTIA + 2 H100 in fleet-mix, 652 + 3 in plan: both buy 656 MTIA and 136 H100)."""
    fleet, scenario = tmp_path / "fleet.yaml", tmp_path / "scenario.yaml"
    fleet.write_text(yaml.safe_dump({"name": "mix", "objective": objective, "electricity_usd_per_kwh": 0.08,
                                     "pue": 1.1, "services": MIX_SERVICES, "pools": MIX_POOLS}))
    scenario.write_text(yaml.safe_dump({
        "name": "mix", "policy": {"objective": objective}, "phases": [{"name": "2025", "year": 2025}],
        "services": MIX_SERVICES, "pools": [{**p, "site": "s"} for p in MIX_POOLS],
        "sites": [{"name": "s", "power": "1GW", "location": "us-average"}]}))  # us-average: $80/MWh, PUE 1.1
    mixed = cli_json(capsys, ["fleet-mix", str(fleet)])
    planned = cli_json(capsys, ["plan", str(scenario)])
    bought = {p["pool"]: (p["devices_bought"], p["power_w"], p["capex_usd"]) for p in mixed["pools"]}
    assert bought == {p["pool"]: (p["devices"], p["it_power_w"], p["capex_usd"]) for p in planned["pools"]}
    if objective == "power":
        rows = {(r["service"], r["pool"], r["devices"]) for r in mixed["assignment"]}
        assert rows == {(r["service"], r["pool"], r["devices"]) for r in planned["services"]}


@pytest.mark.parametrize(("accelerator", "count"), [("h100-sxm", 256), ("h100-sxm", 2048), ("gb200", 576),
                                                     ("b200", 512)])
def test_network_of_an_accelerator_is_facilitys_within_one_zone(accelerator: str, count: int,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`network A --gpus N` and `facility --accelerator A --count N` price one fabric up to one zone (2,048 NIC
    links; beyond it facility builds zones joined at 1:7, on purpose: tests/planning/test_two_ways_hX3_run.py)."""
    net = cli_json(capsys, ["network", accelerator, "--gpus", str(count)])
    fac = cli_json(capsys, ["facility", "--accelerator", accelerator, "--count", str(count)])
    assert fac["network"]["switches"] == net["switches_total"]
    assert fac["capex_usd"]["network"] == net["capex_usd"]
    assert fac["power_breakdown_w"]["network"] == net["power_w"]
