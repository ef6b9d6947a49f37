"""hC73: hN72's facility / campus leftovers, each said where it was silent.

- `campus --accelerator SYSTEM` with a system smaller than the 16,384-GPU job counts its runs elsewhere (the part's
  reference system, or its node on the generic Clos): a note says so, as facility's `system_count_note` does.
- A failure rate without planned interruptions (rsc-1, epoch-h100, a user's file) charged none silently, where
  llama3-h100 charges Llama 3's 0.87 a day: the notes say none are charged and name the rate that counts them.
- A cooling file given as `--location` (and the other site files crossed) is named in one line, exit 2.
- A part with no server height had its rack space silently uncounted: the rack fit's note says so.
- The web facility form said "a system: its part" where a system's count is built on its own tiers (hC72).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.facility.facility import size_facility
from infraplan.facility.failure_rate_notes import goodput_planned_note
from infraplan.facility.reliability import job_reliability
from infraplan.planning.campus_runs import training_capacity

COOLING = {"description": "mine", "max_rack_power_w": "120kW", "pue": {"cool": 1.07, "temperate": 1.09, "hot": 1.14},
           "wue_l_per_kwh": {"cool": 0.15, "temperate": 0.2, "hot": 0.4}, "floor_area_m2_per_rack": 3.0,
           "default_build_type": "ai-campus", "source": "mine"}
LOCATION = {"climate": "hot", "electricity_usd_per_mwh": 60, "grid_gco2_per_kwh": 400, "source": "mine"}
BUILD = {"usd_per_w": 12.0, "life_years": 14, "build_months": 24, "source": "mine"}


def _past(notes: list[str]) -> list[str]:
    return [n for n in notes if "job is more than" in n]


def test_campus_runs_past_a_smaller_system_say_where_they_ran() -> None:
    got = training_capacity("a100-80gb", 30_000, "dgx-a100-superpod")
    assert got.available and got.reference_system != "dgx-a100-superpod"
    assert _past(got.notes) == [
        f"the 16,384-GPU job is more than the 4,480 GPUs of dgx-a100-superpod: its runs are counted on "
        f"{got.reference_system}, as `train --system a100-80gb --gpus 16384` runs it, not on dgx-a100-superpod's own "
        "tiers"]
    mtia = training_capacity("mtia-400", 20_000, "mtia-400-rack")
    assert "the 16,384-accelerator job is more than the 72 accelerators of mtia-400-rack" in _past(mtia.notes)[0]


@pytest.mark.parametrize(("part", "system"), [("h100-sxm", "meta-genai-roce-24k"), ("h100-sxm", None)])
def test_no_such_note_where_the_system_holds_the_job_or_none_was_named(part: str, system: str | None) -> None:
    got = training_capacity(part, 40_000, system)
    assert got.available and got.reference_system == "meta-genai-roce-24k" and _past(got.notes) == []


def _reliability(capsys: pytest.CaptureFixture[str], *rate: str) -> dict[str, object]:
    assert main(["reliability", "--system", "h100-sxm", "--gpus", "1024", *rate, "--json"]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


@pytest.mark.parametrize("rate", ["rsc-1", "epoch-h100", "file"])
def test_a_rate_without_planned_interruptions_says_none_are_charged(
        rate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if rate == "file":
        path = tmp_path / "mine.yaml"
        path.write_text("failures_per_1000_node_days: 5\naccelerators_per_node: 8\nsource: mine\n")
        rate = str(path)
    got = _reliability(capsys, "--failure-rate", rate)
    assert got["expected_planned_interruptions"] == 0
    said = [n for n in got["notes"] if n.startswith("planned interruptions")]  # type: ignore[attr-defined]
    assert said == [f"planned interruptions: failure rate {rate} counts none (its source gives no planned-"
                    "interruption rate: maintenance, upgrades, configuration changes), so none are charged; "
                    "llama3-h100 counts 0.87 a day per job, taken from Llama 3 405B pre-training on 16,384 H100: 47 "
                    "planned interruptions in 54 days (arXiv:2407.21783 Sec. 3.3.4) (a failure-rate file sets "
                    "planned_interruptions_per_day)"]


def test_goodput_answers_say_it_too() -> None:
    """campus / train --tokens / plan's goodput note (`goodput_planned_note`): the A100 default rate rsc-1."""
    job = job_reliability("a100-80gb", 16_384, 405e9)
    assert job["failure_rate"] == "rsc-1" and job["planned_interruptions_per_day"] == 0
    assert (goodput_planned_note(job, 16_384) or "").startswith(
        "goodput counts no planned interruptions: failure rate rsc-1 counts none")
    counted = goodput_planned_note(job_reliability("h100-sxm", 16_384, 405e9), 16_384) or ""
    assert counted.startswith("goodput counts planned interruptions at 0.87 per day per job")
    campus = training_capacity("a100-80gb", 30_000)
    assert any("goodput counts no planned interruptions" in n for n in campus.notes)


@pytest.mark.parametrize(("option", "given", "said"), [
    ("--location", COOLING, "is a cooling type file (max_rack_power_w, pue), not a location file: `--cooling` takes "
                            "it"),
    ("--cooling", LOCATION, "is a location file (climate, electricity_usd_per_mwh), not a cooling type file: "
                            "`--location` takes it"),
    ("--build-type", COOLING, "is a cooling type file (max_rack_power_w, pue), not a build type file"),
    ("--location", BUILD, "is a build type file (usd_per_w, build_months), not a location file: `--build-type` "
                          "takes it"),
])
@pytest.mark.parametrize("command", ["facility", "campus"])
def test_a_site_file_given_as_another_is_named(command: str, option: str, given: dict[str, object], said: str,
                                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(json.dumps(given))
    sized = ["--count", "8"] if command == "facility" else ["--power", "10MW"]
    assert main([command, "--accelerator", "h100-sxm", *sized, option, str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and said in err, err
    assert "Field required" not in err


def test_the_right_site_files_still_read(tmp_path: Path) -> None:
    cool, loc = tmp_path / "cool.yaml", tmp_path / "loc.yaml"
    cool.write_text(json.dumps(COOLING))
    loc.write_text(json.dumps(LOCATION))
    got = size_facility(accelerator="h100-sxm", count=8, cooling=str(cool), location=str(loc))
    assert got.pue == pytest.approx(1.14)


def test_rack_space_not_counted_is_said() -> None:
    """MI300X has no server height (no system file, no catalog entry): 14 servers a liquid rack by power alone."""
    fit = size_facility(accelerator="mi300x", count=256, cooling="liquid").rack_fit
    assert fit is not None and fit.limited_by == "power" and fit.server_height_u is None
    assert fit.note == (f"rack space not counted: no server height is known (a system file's node.server_rack_units, "
                        f"else the part's catalog entry in hardware_costs.yaml), so {fit.servers_per_rack} servers a "
                        f"rack are set by power alone ({fit.rack_power_w / 1e3:,.1f} kW of the 140.0 kW liquid "
                        "cooling allows); whether they fit a 42U rack is not checked")
    known = size_facility(accelerator="h100-sxm", count=256, cooling="air").rack_fit  # 8U: space counted
    assert known is not None and known.server_height_u == 8 and known.note is None


def test_the_web_facility_form_says_a_system_count_is_built_on_its_tiers() -> None:
    page = (resources.files("infraplan.web") / "static" / "facility.html").read_text()
    facility_form = page.split('<form id="fac-form">')[1].split("</form>")[0]
    label = re.search(r"<label>or accelerator[^<]*<select name=\"accelerator\"[^>]*>", facility_form)
    assert label is not None
    assert "a system: its part" not in label.group(0) and "sized as their accelerator" not in label.group(0)
    assert "own tiers" in label.group(0)
