"""Every command that takes a part takes an architect's own accelerator and rack files, and says what it borrows
(hA50, session 45): train, search, serve and serve-plan name the default curves (`catalog.figures.defaults_note`),
recsys, facility, campus and fleet-mix run on the files; a rack file given to `--accelerator` reads as its part
(recsys since hF64, facility and campus since hU67: until then one line, exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.catalog.test_part_from_files_hA50 import RACK, XPU, write
from tests.cli.conftest import CliRun, cli_json, json_strings

from infraplan.catalog import entry_schemas as es
from infraplan.recsys import estimate as recsys_estimate

DEFAULTS = "ASSUMED from defaults"


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    """(accelerator file, rack system file naming it)."""
    xpu = write(tmp_path, "xpu-1.yaml", {**XPU, "intended_use": {"work": "inference", "models": "generative-ai"}})
    return xpu, write(tmp_path, "rack.yaml", RACK)


def test_train_and_search_on_the_rack_name_the_defaults(files: tuple[str, str], capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    _, rack = files
    plan = ["--system", rack, "--gpus", "64", "--seq-len", "4096", "--global-batch", "64"]
    train = cli_json(capsys, ["train", "llama3-8b", *plan, "--tp", "1", "--pp", "1", "--dtype", "fp8"])
    (note,) = [n for n in train["notes"] if DEFAULTS in n]
    assert "H100's measured" in note and "fp8 at the bf16 fraction 0.7" in note and "TN only" in note
    search = cli_json(capsys, ["search", "llama3-8b", *plan])
    assert sum(DEFAULTS in n for n in json_strings(search)) == 1


def test_serve_and_serve_plan_name_the_defaults(files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, rack = files
    load = ["--stack", "vllm-0.x", "--input-len", "512", "--output-len", "64"]
    serve = cli_json(capsys, ["serve", "llama3-8b", "--system", rack, "--gpus", "1", "--rate", "2", "--requests", "20",
                              *load])
    (note,) = [n for n in serve["warnings"] if DEFAULTS in n]
    assert "weight_read_fraction unset: rooflines at memory_bandwidth_fraction 0.85" in note
    plan = cli_json(capsys, ["serve-plan", "llama3-8b", "--system", rack, "--rate", "2", "--requests", "200",
                             "--dtypes", "fp8", "--max-batch", "64", "--no-disaggregation", "--ttft-slo", "2s",
                             "--tpot-slo", "100ms", *load])
    assert plan["feasible"] and sum(DEFAULTS in n for n in plan["notes"]) == 1


def test_recsys_facility_campus_and_fleet_mix_take_the_files(files: tuple[str, str], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    xpu, rack = files
    recsys = cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", xpu])
    assert recsys["qps"] > 0 and DEFAULTS not in recsys["figures_note"]  # its own profile's defaults, named there
    default = yaml.safe_load((Path(recsys_estimate.__file__).parents[1] / "catalog" / "recsys" / "devices" /
                              "default.yaml").read_text())
    (tier,) = default["tiers"]
    profile = recsys["assumptions"]["profile"]  # the default profile's figures, as its file states them
    assert profile.startswith("ASSUMPTION: no recsys profile of xpu-1")
    assert f"{tier['usable_fraction']:.0%} usable" in profile
    assert f"at {tier['random_access_efficiency']:g} of" in profile
    assert "profile" not in cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", "h100-sxm"])["assumptions"]
    facility = cli_json(capsys, ["facility", "--system", rack])  # its tiers' radix: RACK's 64
    # power per rack from board power: 64 parts at 900 W and 16 nodes' 1,200 W of host
    assert facility["accelerators_per_rack"] == 64 and facility["rack_power_w"] == pytest.approx(64 * 900 + 16 * 1200)
    campus = cli_json(capsys, ["campus", "--power", "20MW", "--accelerator", xpu])
    assert campus["accelerators"] > 0
    spec = write(tmp_path, "fleet.yaml", {
        "services": [{"name": "r", "kind": "recsys", "model": "dlrm-medium", "qps": "1M", "latency_slo": "20ms"}],
        "pools": [{"name": "xpu", "device": "rack.yaml", "price_usd_per_device": 25000},
                  {"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42000}]})
    fleet = cli_json(capsys, ["fleet-mix", spec])
    assert {p["pool"] for p in fleet["pools"]} == {"xpu", "h100"} and fleet["totals"]["power_w"] > 0


def test_recsys_reads_a_rack_file_given_as_the_accelerator_as_its_part(files: tuple[str, str],
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Since hF64 `recsys --accelerator` takes a system (a preset such as mtia-400-rack, or a file), as fleet-mix and
    plan read a pool's device: the rack's part answers as the part file does (it was refused as a system file)."""
    xpu, rack = files
    by_rack = cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", rack])
    by_part = cli_json(capsys, ["recsys", "dlrm-medium", "--accelerator", xpu])
    assert by_rack["qps"] == by_part["qps"] > 0


@pytest.mark.parametrize("command", [["campus", "--power", "20MW", "--accelerator"],
                                     ["facility", "--count", "64", "--accelerator"]])
def test_a_rack_file_given_as_the_accelerator_is_priced_on_its_own_node(files: tuple[str, str], command: list[str],
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """As recsys reads it (above) and a fleet-mix or plan pool's device: one resolver (`cluster.part_ref`, hU67).
    The rack's node (16 nodes' 1,200 W of host for 64 parts: 300 W a part, racks of its 64-part scale-up domain) is
    what it is priced on, as `facility --system` prices it (hP69; hC69 warned that it was sized on the part's generic
    rule, 0.82 x 900 W = 738 W a part, in racks of 16); the part file itself keeps the generic node."""
    xpu, rack = files
    by_rack, by_part = cli_json(capsys, [*command, rack]), cli_json(capsys, [*command, xpu])
    system = cli_json(capsys, ["facility", "--system", rack])
    per_part = {name: d.get("facility", d)["power_breakdown_w"]["hosts"] / d["accelerators"]
                for name, d in (("rack", by_rack), ("part", by_part), ("system", system))}
    assert per_part == pytest.approx({"rack": 300.0, "part": 738.0, "system": 300.0})
    racks = {name: (d.get("facility", d)["accelerators_per_rack"], d.get("facility", d)["rack_power_w"])
             for name, d in (("rack", by_rack), ("part", by_part), ("system", system))}
    assert racks["rack"] == racks["system"] == (64, pytest.approx(64 * 900 + 16 * 1200))
    assert racks["part"] == (16, pytest.approx(16 * (900 + 738)))
    key = "notes" if command[0] == "campus" else "warnings"
    assert not any("is read as its part" in line for line in by_rack[key])


def test_a_tier_without_a_radix_trains_and_is_refused_where_switches_are_priced(tmp_path: Path, cli: CliRun) -> None:
    """The schema said an unset switch_radix took "the default switch's"; facility refused it. The schema now says
    which commands need it, and the refusal says what to give."""
    write(tmp_path, "xpu-1.yaml", XPU)
    tiers = [{k: v for k, v in t.items() if k != "switch_radix"} for t in RACK["network"]["tiers"]]
    rack = write(tmp_path, "rack.yaml", {**RACK, "network": {**RACK["network"], "tiers": tiers}})
    code, _, err = cli(["train", "llama3-8b", "--system", rack, "--gpus", "64", "--tp", "1", "--pp", "1",
                        "--seq-len", "4096", "--global-batch", "64", "--json"])
    assert code == 0, err
    code, out, err = cli(["facility", "--system", rack])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "has no switch_radix" in err and err.rstrip().endswith("give its ports per switch")
    described = es.entry_schema("systems")["$defs"]["NetworkTier"]["properties"]["switch_radix"]["description"]
    assert "facility" in described and "default switch" not in described
