"""A what-if accelerator file (`extends: PRESET`) in the planning commands: parity with its preset, one price rule.

The same question asked two ways gets one answer: an `extends` file that changes nothing answers every command as
its preset does (only its name differs), a what-if's campus runs the training model as `train` does on the same
hardware, and every command prices a what-if by one rule (`catalog.hardware_costs.accelerator_price`). Each test
failed before: the campus said "no catalog system", a copy had no price, and the recsys profile and failure rate
were looked up by the copy's own name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.hardware_costs import accelerator_embodied_kg, accelerator_price
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility import size_facility
from infraplan.planning.campus import REFERENCE_JOB_MAX_GPUS, plan_campus, reference_run_throughput
from infraplan.training import estimate_training

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CAMPUS_PLAN = dict(tp=8, pp=16, vpp=7, seq_len=8192, global_batch=2048, micro_batch=1, recompute="none", zero=3,
                   dtype="bf16", stack="meta-llama3")  # the paper's stack and rank order (planning/campus.py, hL46)


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def _same(preset: dict, copy: dict, names: dict[str, str]) -> None:
    """Equal, once the copy's own name and path read as the preset's and its one-line price note is set aside."""
    text = json.dumps(copy)
    for mine, theirs in names.items():
        text = text.replace(mine, theirs)
    copied = json.loads(text)
    for d in (preset, copied):
        for key in ("price_note", "wall_time_s"):
            d.pop(key, None)
        if isinstance(d.get("facility"), dict):
            d["facility"].pop("price_note", None)
    assert copied == preset


@pytest.mark.parametrize("args", [
    ["facility", "--accelerator", "{acc}", "--count", "4096"],
    ["reliability", "--system", "{acc}", "--gpus", "16384"],
    ["recsys", "dlrm-high", "--accelerator", "{acc}"],
    ["network", "{acc}", "--gpus", "4096"],
    ["train", "llama3-8b", "--system", "{acc}", "--gpus", "64", "--tp", "2", "--seq-len", "4096",
     "--global-batch", "256", "--tokens", "1e11"],
], ids=lambda a: a[0])
def test_an_unchanged_copy_answers_each_command_as_its_preset(args: list[str], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # recsys read the default profile for the copy's own name (266,970 -> 234,093 QPS for dlrm-high) and every money
    # field was null ("no server price for h100-same"); now only the name and the inherited-price line differ
    path = _write(tmp_path, "h100-same.yaml", "extends: h100-sxm\n")
    preset = _json([a.replace("{acc}", "h100-sxm") for a in args], capsys)
    copy = _json([a.replace("{acc}", path) for a in args], capsys)
    _same(preset, copy, {path: "h100-sxm", "h100-same": "h100-sxm"})


def test_plan_compare_and_fleet_mix_of_an_unchanged_copy_are_the_presets(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # plan refused the copy's pool ("the catalog has no price for h100-same"); fleet-mix priced it at nothing
    path = _write(tmp_path, "h100-same.yaml", "extends: h100-sxm\n")
    plan = (EXAMPLES / "plan-minimal.yaml").read_text()
    mine = _write(tmp_path, "plan.yaml", plan.replace("device: h100-sxm", f"device: {path}"))
    names = {path: "h100-sxm", "h100-same": "h100-sxm"}
    _same(_json(["plan", str(EXAMPLES / "plan-minimal.yaml")], capsys), _json(["plan", mine], capsys), names)
    fleet = (EXAMPLES / "fleet-mix.yaml").read_text().replace("device: h100-sxm, available: 2000, "
                                                              "price_usd_per_device: 42000",
                                                              "device: DEV, available: 2000")  # the catalog's price
    base, copy = (_write(tmp_path, f"fleet-{n}.yaml", fleet.replace("DEV", d)) for n, d in (("a", "h100-sxm"),
                                                                                              ("b", path)))
    preset_mix, copy_mix = _json(["fleet-mix", base], capsys), _json(["fleet-mix", copy], capsys)
    assert copy_mix["price_note"].startswith("pool 'h100': price of h100-sxm inherited by the what-if h100-same")
    _same(preset_mix, copy_mix, names)
    compared = _json(["compare", str(EXAMPLES / "plan-minimal.yaml"), mine], capsys)
    assert all(v == 0.0 for v in compared["deltas"][1].values())  # every headline equal


def test_the_campus_of_a_what_if_runs_its_presets_reference_system_as_train_does(tmp_path: Path) -> None:
    # was "no catalog system of h100-same to run the training model on"
    same = _write(tmp_path, "h100-same.yaml", "extends: h100-sxm\n")
    faster = _write(tmp_path, "h100-hbm.yaml", "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5.025TB/s\n")
    preset, copy = plan_campus(100e6, "h100-sxm"), plan_campus(100e6, same)
    assert copy.training_capacity.available
    assert copy.training_capacity.runs_per_year == preset.training_capacity.runs_per_year
    # the same hardware asked through `train`: the reference system (24,576 H100 on RoCE) with this accelerator
    system = _write(tmp_path, "roce.yaml", "extends: meta-genai-roce-24k\naccelerator: h100-hbm.yaml\n")
    train = estimate_training("llama3-405b", system, REFERENCE_JOB_MAX_GPUS, **CAMPUS_PLAN)
    campus = reference_run_throughput(faster)
    assert campus is not None and campus["tokens_per_s_per_gpu"] == train.tokens_per_s_per_gpu
    assert campus["tokens_per_s_per_gpu"] > reference_run_throughput("h100-sxm")["tokens_per_s_per_gpu"]  # type: ignore[index]
    # a reference system smaller than the job: that system's node on a generic Clos, as `train --system FILE`
    b200 = _write(tmp_path, "b200-hbm.yaml", "extends: b200\nmemory_bandwidth_bytes_per_s: 12TB/s\n")
    train = estimate_training("llama3-405b", Cluster.resolve(b200).for_gpus(REFERENCE_JOB_MAX_GPUS),
                              REFERENCE_JOB_MAX_GPUS, **CAMPUS_PLAN)
    assert reference_run_throughput(b200)["tokens_per_s_per_gpu"] == train.tokens_per_s_per_gpu  # type: ignore[index]


def test_a_what_if_inherits_its_presets_price_with_a_note_or_states_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inherited = _write(tmp_path, "h100-hbm.yaml", "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5.025TB/s\n")
    own = _write(tmp_path, "h100-own.yaml", "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5.025TB/s\n"
                 "price_usd: 50000\nprice_source: 'ASSUMPTION: a test figure'\n")
    price = accelerator_price(load_accelerator(inherited))
    assert price is not None and price.server_usd_per_accelerator == 42000 and "inherited" in (price.note or "")
    stated = accelerator_price(load_accelerator(own))
    assert stated is not None and stated.server_usd_per_accelerator == 50000 and stated.note is None
    assert accelerator_embodied_kg(load_accelerator(own)) == accelerator_embodied_kg(load_accelerator(inherited))
    # one rule in every command: facility and campus capex, fleet-mix's $ per device-hour, plan's pool capex
    facility = _json(["facility", "--accelerator", own, "--count", "1024"], capsys)
    assert facility["capex_usd"]["servers"] == 1024 * 50000 and facility["price_note"] is None
    campus = _json(["campus", "--power", "20MW", "--accelerator", own], capsys)
    assert campus["capex_usd"]["servers"] == campus["accelerators"] * 50000
    campus = _json(["campus", "--power", "20MW", "--accelerator", inherited], capsys)
    assert campus["capex_usd"]["servers"] == campus["accelerators"] * 42000
    assert "inherited" in campus["facility"]["price_note"]
    fleet = (EXAMPLES / "fleet-mix.yaml").read_text().replace("device: h100-sxm, available: 2000, "
                                                              "price_usd_per_device: 42000",
                                                              f"device: {own}, available: 2000")
    mix = _json(["fleet-mix", _write(tmp_path, "fleet.yaml", fleet), "--objective", "tco"], capsys)
    rows = [r for r in mix["assignment"] if r["pool"] == "h100"]
    n = next(p["devices_bought"] for p in mix["pools"] if p["pool"] == "h100")  # its whole servers (hW, hF2)
    assert rows and rows[0]["usd_per_device_hour"] == pytest.approx(  # facility --count n (for_gpus(216) builds 224)
        size_facility(accelerator=own, count=n).usd_per_gpu_hour)
    plan = (EXAMPLES / "plan-minimal.yaml").read_text()
    plans = [_json(["plan", _write(tmp_path, f"p{i}.yaml", plan.replace("device: h100-sxm", f"device: {d}"))], capsys)
             for i, d in enumerate((inherited, own))]
    devices = plans[0]["devices"]
    assert plans[1]["devices"] == devices and plans[0]["price_note"] and plans[1]["price_note"] is None
    assert plans[1]["capex_usd"] - plans[0]["capex_usd"] == pytest.approx(devices * 8000)


def test_a_price_without_its_source_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "h100-cheap.yaml", "extends: h100-sxm\nprice_usd: 1000\n")
    with pytest.raises(InputError, match="price_usd needs price_source"):
        load_accelerator(path)


def test_a_what_if_copy_of_a100_keeps_its_failure_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the failure-rate table is keyed by name: a copy of a100-80gb took the "*" row (llama3-h100), not rsc-1
    path = _write(tmp_path, "a100-same.yaml", "extends: a100-80gb\n")
    preset = _json(["reliability", "--system", "a100-80gb", "--gpus", "4096"], capsys)
    copy = _json(["reliability", "--system", path, "--gpus", "4096"], capsys)
    assert preset["failure_rate"] == copy["failure_rate"] == "rsc-1" and preset["job_mttf_s"] == copy["job_mttf_s"]


def test_a_fleet_site_and_a_plans_training_and_llm_rows_on_a_copy_are_the_presets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `campus --fleet` with a copy's site ended in "unknown system or accelerator 'h100-same'" (its H100-equivalents
    # were resolved by the copy's name, which loads nothing)
    path = _write(tmp_path, "h100-same.yaml", "extends: h100-sxm\n")
    names = {path: "h100-sxm", "h100-same": "h100-sxm"}
    fleet = ("name: f\nsource: a test\nsites:\n  - {name: other, accelerator: DEV, count: 4096}\n"
             "  - {name: campus, accelerator: DEV, power: 20MW}\n")
    preset, copy = (_json(["campus", "--fleet", _write(tmp_path, f"f{i}.yaml", fleet.replace("DEV", d))], capsys)
                    for i, d in enumerate(("h100-sxm", path)))
    _same(preset, copy, names)
    scenario = ("name: t\nphases: [{name: '2025', year: 2025}]\nservices:\n"
                "  - {name: run, kind: training, model: llama3-8b, tokens: 1T, gpus: 64, seq_len: 4096, "
                "global_batch: 256}\n  - {name: chat, kind: llm, model: llama3-8b, workload: chat, rate: 20}\n"
                "pools:\n  - {name: gpu, device: DEV, site: s}\nsites:\n  - {name: s, power: 10MW, location: ohio}\n")
    preset, copy = (_json(["plan", _write(tmp_path, f"s{i}.yaml", scenario.replace("DEV", d))], capsys)
                    for i, d in enumerate(("h100-sxm", path)))
    _same(preset, copy, names)
