"""hU44 (session 42): the items hU43's review left (validation/notes/product_review_tried.md, section "hU44 (session
42)"), one test each; every one fails on the tree before the fix.

1. `reliability` on a GB200 NVL72 system said "per 1,000 node-days" of a rate counted on 8-GPU nodes, where the
   system's node (tray) holds 4: the answer now names the rate's node, the system's server size (its node, read once)
   and the rate per server (the rate stays applied per GPU: no physics moved).
2. The web's `reliability` took `days`, `restart_s` and `repair_s` as numbers only (`"2w"`, `"10min"`: 422) where the
   CLI reads them with their units; its `cli()` line wrote `--repair-s`, which the CLI refuses.
3. `network` titled an MTIA rack "72 GPUs" and a Xeon cluster "64 GPUs".
4. `campus` / `facility --accelerator` listed the CPU presets as known for an unknown name, then refused them.
5. `facility --accelerator X --count N` beyond one zone did not say, in its text, that it builds zones joined at 1:7
   (its JSON `network.model` did; `network` says so from its side).
6. A cost file's WUE, facility $/W, maintenance fraction and embodied carbon had no upper bound: 1e300 printed "inf"
   with exit 0.
7. "--gpus 30000: system X has 24576 accelerators": no thousands separator.
8. A sweep axis mixing text and numbers (`bytes: ["1GiB", 4096]`) stored the text with its JSON quotes, and with one
   point per part crashed with a pyarrow traceback; a quantity is now read to SI, any other mixed axis refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun


def _flat(text: str) -> str:
    """Console text with the table borders and line wraps taken out."""
    return re.sub(r"\s+", " ", re.sub(r"[│┃]", " ", text))


def test_reliability_names_the_rates_node_and_the_systems_server(cli: CliRun) -> None:
    code, out, err = cli(["reliability", "--system", "gb200-nvl72-superpod", "--gpus", "512", "--days", "14",
                          "--json"])
    assert code == 0, err
    got = json.loads(out)
    assert (got["failure_rate_node_gpus"], got["server_gpus"]) == (8, 4)
    assert got["expected_unexpected_interruptions"] == pytest.approx(14 * 512 / 8 * 3.789 / 1000)  # per GPU, as before
    note = next(n for n in got["notes"] if "counted on 8-GPU nodes" in n)
    assert "1.895 per 1,000 days of one of this system's 4-GPU servers" in note and "spans 128 of them" in note
    code, out, _ = cli(["reliability", "--system", "gb200-nvl72-superpod", "--gpus", "512", "--days", "14"])
    assert code == 0 and "per 1,000 8-GPU node-days" in _flat(out)
    same = json.loads(cli(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "1024", "--json"])[1])
    assert same["server_gpus"] == 8 and not any("counted on 8-GPU nodes" in n for n in same["notes"])


def test_the_web_reads_reliability_durations_with_their_units_as_the_cli() -> None:
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    base = {"system": "meta-genai-roce-24k", "gpus": 1024}
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        units = client.post("/api/reliability", json={**base, "days": "2w", "restart_s": "10min", "repair_s": "3d"})
        numbers = client.post("/api/reliability", json={**base, "days": 14, "restart_s": 600, "repair_s": 259200})
        line = client.post("/api/reliability/cli", json={**base, "days": "12h", "repair_s": "1d"}).json()["command"]
        bad = client.post("/api/reliability", json={**base, "days": "soon"})
    assert units.status_code == numbers.status_code == 200, units.text
    assert units.json() == numbers.json() and units.json()["days"] == 14
    assert "--days 0.5" in line and "--repair-time 86400.0" in line and "--repair-s" not in line
    assert bad.status_code == 422 and "cannot read duration 'soon'" in bad.json()["detail"]


@pytest.mark.parametrize(("args", "title"), [(["mtia-400-rack"], "72 accelerators"),
                                             (["xeon-8480", "--gpus", "64"], "64 CPUs"),
                                             (["meta-genai-roce-24k"], "24,576 GPUs")])
def test_network_calls_a_device_by_its_word(cli: CliRun, args: list[str], title: str) -> None:
    code, out, err = cli(["network", *args])
    assert code == 0, err
    text = _flat(out)
    assert title in text and ("GPU" in title or "GPU" not in text.replace("GPU-", ""))


# wse-3: a name of no preset (msvp was, until hH66 gave a video transcoder its own line: test_video_device_named_hH66)
@pytest.mark.parametrize("args", [["campus", "--power", "1GW", "--accelerator", "wse-3"],
                                  ["facility", "--accelerator", "wse-3", "--count", "8"]])
def test_an_unknown_accelerator_lists_only_what_the_command_takes(cli: CliRun, args: list[str]) -> None:
    code, out, err = cli(args)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "unknown accelerator 'wse-3'; known: " in err and "gb200" in err
    assert "xeon-8480" not in err and "epyc-9654" not in err
    code, _, err = cli(["recsys", "dlrm-high", "--accelerator", "wse-3"])  # recsys takes CPUs: they stay listed
    assert code == 2 and "xeon-8480" in err


def test_facility_text_says_it_builds_zones_as_its_json_does(cli: CliRun) -> None:
    code, out, err = cli(["facility", "--accelerator", "h100-sxm", "--count", "24576"])
    assert code == 0, err
    text = _flat(out)
    assert "12 non-blocking zones of up to 2,048" in text and "joined at 1:7" in text and "1,326 switches" in text
    assert "one non-blocking Clos of the 24,576 GPUs instead" in text
    code, out, _ = cli(["facility", "--accelerator", "h100-sxm", "--count", "2048"])  # one zone: nothing to say
    assert code == 0 and "zones" not in out


@pytest.mark.parametrize("line", ["wue_l_per_kwh: 1e300", "maintenance_fraction_of_capex_per_year: 1e300",
                                  "facility_usd_per_w: 1e300", "embodied_kgco2e_per_accelerator: 1e300"])
def test_a_cost_file_beyond_a_physical_bound_is_one_line(cli: CliRun, tmp_path: Path, line: str) -> None:
    costs = tmp_path / "costs.yaml"
    costs.write_text(f"source: a user's figure\n{line}\n")
    code, out, err = cli(["facility", "--system", "meta-genai-roce-24k", "--costs", str(costs), "--json"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and line.split(":")[0] in err and "less than or equal" in err
    costs.write_text("wue_l_per_kwh: 100\nmaintenance_fraction_of_capex_per_year: 1\nfacility_usd_per_w: 1000\n"
                     "embodied_kgco2e_per_accelerator: 1e6\n")  # at the bounds: still priced
    code, out, err = cli(["facility", "--system", "meta-genai-roce-24k", "--costs", str(costs), "--json"])
    assert code == 0, err
    assert json.loads(out)["water_m3_per_year"] > 0


def test_a_job_beyond_its_system_is_counted_with_separators(cli: CliRun) -> None:
    code, out, err = cli(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "30000"])
    assert code == 2 and out == ""
    assert "--gpus 30,000: system meta-genai-roce-24k has 24,576 accelerators" in err


def _sweep(tmp_path: Path, axis: str, function: str = "collective") -> Path:
    fixed = "{op: all-reduce, system: meta-genai-roce-24k, gpus: 1024}" if function == "collective" else \
        "{accelerator: h100-sxm}"
    spec = tmp_path / "s.yaml"
    spec.write_text(f"function: {function}\nbatch_size: 1\nfixed: {fixed}\naxes:\n  - product: {{{axis}}}\n")
    return spec


def test_a_sweep_quantity_mixing_text_and_numbers_is_read_to_si(cli: CliRun, tmp_path: Path) -> None:
    """One point per part: the parts' `in_bytes` were text ('"1GiB"') and int64, and the sweep crashed joining them."""
    out_dir = tmp_path / "out"
    code, out, err = cli(["sweep", str(_sweep(tmp_path, 'bytes: ["1GiB", 4096]')), "--out", str(out_dir), "--json"])
    assert code == 0, err
    code, out, err = cli(["results", str(out_dir), "--sql", "SELECT in_bytes FROM results ORDER BY in_bytes",
                          "--json"])
    assert code == 0, err
    assert json.loads(out)["rows"] == [[4096], [2**30]]


def test_a_sweep_axis_mixing_text_and_numbers_is_refused_in_one_line(cli: CliRun, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, err = cli(["sweep", str(_sweep(tmp_path, 'count: [64, "x"]', "facility")), "--out", str(out_dir)])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "axis 'count' mixes text and numbers" in err
    assert not out_dir.exists()
