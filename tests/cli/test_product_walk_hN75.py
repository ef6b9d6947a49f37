"""hN (session 75): a planner's walk of network / facility / recsys / video / planning; what it fixed.

A what-if file (`extends: PRESET` and the figures it changes, as README's examples/hardware/ and examples/stacks/
write them) given where a plan scenario, a fleet-mix or sweep spec, a campus fleet, a failure-rate or cost file is
asked for listed that schema's fields ("name, phases, services, pools, sites: Field required; extends: Extra inputs
are not permitted; memory_bandwidth_bytes_per_s: Extra inputs ..."): `another_kinds_file` named a file of another
kind by its keys, and a what-if holds `extends` and a few of its kind's figures. Now it is named by the preset it
extends, with the command that reads it (`catalog.loader_kinds._what_if_line`), where the schema's line was.

A user's video device file that encodes AV1 (msvp's file with `codecs: [h264, vp9, av1]`, its `software_baseline:
xeon-8480` kept) was refused on `video --device FILE --codec av1`: "no software encoder for av1/high; known: ...", the
default comparison's CPU having no AV1 rate, a comparison the user did not ask for. Now the device answers and a note
says why there is no comparison; an asked `--baseline` that cannot run the job is refused naming it. A plan pool of
that file was banded by its path ("fewer than 9 campaigns of /tmp/.../vx2.yaml facility IT power cases"); now by its
name, as msvp is (`catalog.answer_bands.preset_of`).

A `plan` or fleet-mix pool (or a `campus --fleet` site) of a user's accelerator file without an embodied figure said
"no embodied carbon for ax1 in the catalog (hardware_costs.yaml)", where `facility --accelerator FILE` adds how to
state one: all say it now.

`campus --fleet F --server-price P` (or a --costs file's server price) priced every site's accelerators at P without
a word: meta-2024's RSC A100 at $30,000 where the catalog has $25,000, a GB300 site, a part file stating its own
price. A fleet of several parts is refused that one price in one line (`planning.campus._check_one_server_price`);
a fleet of one part takes it as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from infraplan.catalog.answer_bands import preset_of
from infraplan.cluster.cost import CostOverrides
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_fleet
from infraplan.planning.device_money import missing_embodied
from infraplan.video.transcode import estimate_video

ROOT = Path(__file__).parents[2]
PART = "examples/hardware/h100-hbm-plus50.yaml"  # extends: h100-sxm
STACK = "examples/stacks/sglang-deepep-tbo.yaml"  # extends: sglang-0.x
PART_LINE = ("extends accelerator preset 'h100-sxm': it is a what-if of an accelerator file, not {} file: "
             "`--accelerator` takes it (facility, campus, recsys), and `--system` as a generic server of it")
AX1 = """\
display_name: AX1 (a user's new accelerator)
vendor: Acme
kind: gpu
figures: datasheet
source: Acme AX1 product brief (a user's file)
peak_flops_per_s: {fp32: 100e12, bf16: 1500e12, fp16: 1500e12, fp8: 3000e12}
memory_bytes: 256GB
memory_bandwidth_bytes_per_s: 6TB/s
memory_type: HBM3E
tdp_w: 1000W
scale_up_bandwidth_bytes_per_s: 600GB/s
scale_out_bandwidth_bytes_per_s: 400Gbps
efficiency: {matmul_max_fraction: {bf16: 0.6, fp16: 0.6, fp8: 0.55}, attention_max_fraction: 0.4,
             memory_bandwidth_fraction: 0.8, compute_units: 128, kernel_overhead_s: 5.0e-6,
             scale_up_collective_efficiency: 0.75, source: assumed}
"""
STACK_LINE = "extends stack preset 'sglang-0.x': it is a what-if of a stack file, not {} file: `--stack` takes it"


def _one_line(cli: Any, args: list[str]) -> str:
    code, out, err = cli(args)
    assert code == 2 and not out.strip() and err.count("\n") == 1 and "Traceback" not in err, (code, out, err)
    return err.removeprefix("infraplan: error: ").strip()


@pytest.mark.parametrize(("args", "said"), [
    (["plan", PART], PART_LINE.format("a plan scenario")),
    (["fleet-mix", PART], PART_LINE.format("a fleet-mix spec")),
    (["campus", "--fleet", PART], PART_LINE.format("a campus fleet")),
    (["sweep", PART, "--out", "/nonexistent-hN75"], PART_LINE.format("a sweep spec")),
    (["reliability", "--system", "gb200-nvl72", "--gpus", "72", "--failure-rate", PART],
     PART_LINE.format("a failure-rate")),
    (["facility", "--accelerator", "h100-sxm", "--count", "8", "--costs", PART], PART_LINE.format("a cost")),
    (["plan", STACK], STACK_LINE.format("a plan scenario")),
    (["fleet-mix", STACK], STACK_LINE.format("a fleet-mix spec")),
    (["campus", "--fleet", STACK], STACK_LINE.format("a campus fleet")),
])
def test_a_what_if_file_given_as_another_kind_is_named_by_its_preset(cli: Any, args: list[str], said: str) -> None:
    line = _one_line(cli, args)
    assert said in line, line
    assert "Field required" not in line and "Extra inputs" not in line


def test_a_system_what_if_as_a_plan_names_the_system(cli: Any, tmp_path: Path) -> None:
    what_if = tmp_path / "rsc-x.yaml"
    what_if.write_text("extends: meta-rsc\nname: rsc-x\n", encoding="utf-8")
    line = _one_line(cli, ["plan", str(what_if)])
    assert line.startswith("plan scenario file rsc-x.yaml extends system preset 'meta-rsc': it is a what-if of a "
                           "system file, not a plan scenario file: `--system` takes it (train, search, serve"), line


def test_a_file_of_the_kind_asked_keeps_its_line(cli: Any, tmp_path: Path) -> None:
    """Not every `extends` is another kind's what-if: a recsys profile is named like its part (mtia-v2), so a
    profile file extending the mtia-v2 profile keeps the inference files' own line, and a name that is no preset
    leaves the schema's line."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("extends: mtia-v2\n", encoding="utf-8")
    part = tmp_path / "part.yaml"
    part.write_text(f"name: p\nextends: mtia-v2\nrecsys_profile: {profile}\n", encoding="utf-8")
    line = _one_line(cli, ["recsys", "dlrm-high", "--accelerator", str(part)])
    assert "`extends` is read by system, accelerator and stack files only" in line, line
    assert "`infraplan catalog recsys-devices mtia-v2` prints the preset's" in line
    odd = tmp_path / "odd.yaml"
    odd.write_text("extends: no-such-preset\n", encoding="utf-8")
    assert "invalid scenario 'odd.yaml': name, phases, services, pools, sites: Field required" in _one_line(
        cli, ["plan", str(odd)])


def test_the_web_names_an_uploaded_what_if_as_the_cli_does() -> None:
    from infraplan.web.app import create_app

    text = (ROOT / PART).read_text(encoding="utf-8")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        answer = client.post("/api/plan", json={"scenario": {"text": text, "filename": "mine.yaml"}})
    assert answer.status_code == 400
    assert answer.json()["detail"] == ("plan scenario file mine.yaml " + PART_LINE.format("a plan scenario"))


def _av1_device(folder: Path) -> str:
    """msvp's file as a user's next generation: AV1 among its codecs, its software_baseline (xeon-8480) kept."""
    data = yaml.safe_load((ROOT / "src/infraplan/catalog/video/devices/msvp.yaml").read_text(encoding="utf-8"))
    data.update(codecs=["h264", "vp9", "av1"], display_name="VX2 (a user's video ASIC)")
    (folder / "vx2.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(folder / "vx2.yaml")


def test_a_device_encoding_av1_answers_without_its_baselines_comparison(tmp_path: Path) -> None:
    device = _av1_device(tmp_path)
    av1 = estimate_video(device, "2160p60", codec="av1", daily_hours=10_000)
    h264 = estimate_video(device, "2160p60", codec="h264", daily_hours=10_000)
    assert av1.baseline is None and h264.baseline is not None  # the CPU's comparison where it has the encoder
    assert av1.streams_per_device == h264.streams_per_device  # one rate for every codec, as msvp's
    assert av1.fleet is not None and av1.fleet.devices == h264.fleet.devices  # type: ignore[union-attr]
    assert ("no comparison: vx2's software_baseline xeon-8480 cannot run this job (no software encoder for "
            "av1/high; known: h264/high, h264/standard, vp9/high, vp9/standard); --baseline names another device to "
            "compare with") in av1.notes


def test_a_video_device_file_is_banded_by_its_name(tmp_path: Path) -> None:
    assert (preset_of(_av1_device(tmp_path)), preset_of("msvp"), preset_of("xeon-8480")) == ("vx2", "msvp",
                                                                                               "xeon-8480")


@pytest.mark.parametrize(("baseline", "why"), [
    ("xeon-8480", "no software encoder for av1/high"), ("msvp", "msvp does not encode av1; it encodes h264, vp9")])
def test_an_asked_baseline_that_cannot_run_the_job_is_refused_naming_it(tmp_path: Path, baseline: str,
                                                                         why: str) -> None:
    with pytest.raises(InputError) as err:
        estimate_video(_av1_device(tmp_path), "2160p60", codec="av1", baseline=baseline)
    assert str(err.value).startswith(f"--baseline {baseline} cannot run this job: {why}")
    assert str(err.value).endswith("(--baseline none: no comparison)")


def test_a_pool_without_an_embodied_figure_says_how_to_state_one(tmp_path: Path) -> None:
    part = tmp_path / "ax1.yaml"
    part.write_text(AX1, encoding="utf-8")  # a part of no preset (a what-if inherits its preset's figure)
    (tmp_path / "ax2.yaml").write_text(f"extends: {part}\nname: ax2\nembodied_kgco2e_per_accelerator: 400\n"
                                       "embodied_source: the vendor's LCA (user)\n", encoding="utf-8")
    hint = "the accelerator file (with embodied_source) sets embodied_kgco2e_per_accelerator"
    assert missing_embodied("gpu", str(part)) == f"pool 'gpu': no embodied carbon for ax1 in the catalog " \
                                                   f"(hardware_costs.yaml); {hint}"
    reason = size_facility(accelerator=str(part), count=8).embodied_co2_t_reason
    assert reason is not None and reason.endswith(f"; a --costs file or {hint}")
    assert missing_embodied("gpu", str(tmp_path / "ax2.yaml")) is None
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"name: f\nsites:\n  - {{name: a, accelerator: {part}, count: 8}}\n", encoding="utf-8")
    assert plan_fleet(str(fleet)).embodied_co2_reason == f"site 'a': no embodied carbon for ax1 in the catalog; {hint}"


def test_one_server_price_for_a_fleet_of_several_parts_is_refused(cli: Any, tmp_path: Path) -> None:
    line = _one_line(cli, ["campus", "--fleet", "meta-2024", "--server-price", "30000"])
    assert line.startswith("--server-price (or a --costs file's server_usd_per_accelerator) prices one accelerator, "
                           "and fleet 'meta-2024' holds 2 (a100-80gb, h100-sxm): state each part's price in its "
                           "accelerator file"), line
    one = tmp_path / "one.yaml"
    one.write_text("name: one\nsites:\n  - {name: a, accelerator: h100-sxm, count: 1024}\n"
                   "  - {name: b, system: dgx-h100-superpod}\n", encoding="utf-8")
    base, priced = (plan_fleet(str(one), CostOverrides().merged(server_usd_per_accelerator=p))
                    for p in (None, 50_000.0))
    assert base.capex_usd is not None and priced.capex_usd is not None
    assert priced.capex_usd - base.capex_usd == pytest.approx((50_000 - 42_000) * base.accelerators)
