"""New hardware from a file alone: `extends` what-if files, paths beside the file, one-line refusals.

A hardware architect writes an accelerator or system YAML (README: "a user adds any of these by writing a file") and
asks what-if questions. Each test failed before the loader read `extends`, resolved paths beside their file, or
refused the zero figures that ended in a ZeroDivisionError traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.loader import is_what_if
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import estimate_training
from infraplan.training.search import search_plans

PLAN = dict(gpus=64, tp=8, pp=2, seq_len=8192, global_batch=128, recompute="selective", dtype="fp8")


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def test_a_file_that_extends_a_preset_and_changes_nothing_answers_exactly_as_the_preset(tmp_path) -> None:
    # a copy under another name lost the preset's measured NCCL tables (0.3 % on this plan, 3.4 % on DeepSeek-V3
    # EP16 on GB200, whose in-rack all-to-all runs at the measured MNNVL rate); `extends` keeps them
    _write(tmp_path, "mine.yaml", "extends: h100-sxm\n")
    system = _write(tmp_path, "cluster.yaml", "extends: dgx-h100-superpod\naccelerator: mine.yaml\n")
    preset = estimate_training("llama3-70b", "dgx-h100-superpod", **PLAN)
    mine = estimate_training("llama3-70b", system, **PLAN)
    assert mine.step_time_s == preset.step_time_s and mine.breakdown_s == preset.breakdown_s
    assert mine.accelerator == "mine" and not is_what_if(load_accelerator(str(tmp_path / "mine.yaml")))


def test_a_what_if_file_sets_only_the_fields_it_names(tmp_path) -> None:
    path = _write(tmp_path, "hbm.yaml", "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5.025TB/s\n"
                                       "efficiency: {memory_bandwidth_fraction: 0.9}\n")
    acc, preset = load_accelerator(path), load_accelerator("h100-sxm")
    assert acc.memory_bandwidth_bytes_per_s == pytest.approx(1.5 * preset.memory_bandwidth_bytes_per_s)
    assert acc.efficiency.memory_bandwidth_fraction == 0.9
    assert acc.efficiency.decode_attention == preset.efficiency.decode_attention  # the other efficiencies kept
    assert acc.peak_flops_per_s == preset.peak_flops_per_s and acc.catalog_name == "h100-sxm"
    assert "memory_bandwidth_bytes_per_s" in acc.source and is_what_if(acc)


def test_a_system_file_finds_its_accelerator_file_beside_itself_from_any_folder(tmp_path, monkeypatch) -> None:
    (tmp_path / "hw").mkdir()
    _write(tmp_path / "hw", "acc.yaml", "extends: gb200\n")
    system = _write(tmp_path / "hw", "rack.yaml", "extends: gb200-nvl72-superpod\naccelerator: acc.yaml\n")
    monkeypatch.chdir(tmp_path)  # was "no such file: acc.yaml" unless run from the system file's folder
    assert load_system(system).accelerator == str(tmp_path / "hw" / "acc.yaml")
    assert Cluster.resolve(system).accelerator.catalog_name == "gb200"


def test_an_accelerator_file_given_as_the_system_gets_its_presets_node(tmp_path) -> None:
    # was "invalid system ...: accelerator: Field required" (an accelerator preset name was accepted, a file not)
    path = _write(tmp_path, "gb.yaml", "extends: gb200\nmemory_bytes: 288GB\n")
    cluster = Cluster.resolve(path).for_gpus(144)
    assert cluster.generic and cluster.system.node.scale_up_domain == 72  # gb200-nvl72's node
    assert cluster.accelerator.memory_bytes == 288e9


def test_a_what_if_accelerators_scale_out_sets_its_generic_nodes_nics(tmp_path) -> None:
    # the generic node took the reference system's NICs whatever the file said: 2x scale-out moved nothing
    path = _write(tmp_path, "so.yaml", "extends: h100-sxm\nscale_out_bandwidth_bytes_per_s: 800Gbps\n")
    base, faster = Cluster.resolve("h100-sxm").for_gpus(128), Cluster.resolve(path).for_gpus(128)
    assert faster.fabric.nic_bytes_per_s == pytest.approx(2.0 * base.fabric.nic_bytes_per_s)
    plan = dict(gpus=128, tp=8, seq_len=8192, global_batch=256, recompute="full", dtype="fp8", zero=3)
    assert (estimate_training("llama3-70b", faster, **plan).breakdown_s.dp_comm_exposed
            < estimate_training("llama3-70b", base, **plan).breakdown_s.dp_comm_exposed)


@pytest.mark.parametrize(("name", "text", "says"), [
    ("zero-hbm.yaml", "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 0\n", "memory_bandwidth_bytes_per_s must be"),
    ("zero-nvlink.yaml", "extends: h100-sxm\nscale_up_bandwidth_bytes_per_s: 0\n", "scale_up_bandwidth"),
    ("no-nics.yaml", "extends: dgx-h100-superpod\nnode: {nics_per_node: 0}\n", "needs node.nics_per_node"),
    ("domain.yaml", "extends: dgx-h100-superpod\nnode: {scale_up_domain: 12}\n", "multiple or a divisor"),
    ("loop.yaml", "extends: loop.yaml\n", "loops back"),
    ("list.yaml", "extends: [h100-sxm]\n", "extends must name"),
    ("typo.yaml", "extends: h100-sxm\nmemory_bandwith_bytes_per_s: 5TB/s\n", "memory_bandwith_bytes_per_s"),
    # NVFP4 / MXFP4 GEMMs are priced at their own keys: doubling `fp4` alone moved nothing (3.199 s both)
    ("fp4.yaml", "extends: gb200\npeak_flops_per_s: {fp4: 20000e12}\n", "set nvfp4 and mxfp4 too"),
])
def test_a_bad_what_if_file_is_one_line_and_exit_2(tmp_path, capsys, name, text, says) -> None:
    path = _write(tmp_path, name, text)
    code = main(["train", "llama3-8b", "--system", path, "--gpus", "16", "--tp", "8", "--seq-len", "2048",
                 "--global-batch", "16"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and says in err and "Traceback" not in err and "Value error" not in err


def test_search_on_what_if_hardware_is_ranked_by_predicted_time(tmp_path) -> None:
    # the published-MFU guard pinned every what-if's best plan at its preset's published MFU (H100 fp8 0.371):
    # +50 % HBM, 2x NVLink or 2x scale-out all gave 1,525 tokens/s/GPU on 256 GPUs
    path = _write(tmp_path, "hbm.yaml", "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5.025TB/s\n")
    args = dict(gpus=64, seq_len=4096, global_batch=128, dtype="fp8", top=1)
    preset = search_plans("llama3-8b", "h100-sxm", **args)
    guarded_off = search_plans("llama3-8b", "h100-sxm", mfu_guard=False, **args)
    what_if = search_plans("llama3-8b", path, **args)
    assert preset.mfu_guard and not what_if.mfu_guard and not guarded_off.mfu_guard
    assert what_if.best.tokens_per_s_per_gpu >= guarded_off.best.tokens_per_s_per_gpu >= \
        preset.best.tokens_per_s_per_gpu


def test_is_what_if_tells_a_changed_part_from_its_preset(tmp_path) -> None:
    assert not is_what_if(load_accelerator("h100-sxm"))
    assert is_what_if(Cluster.resolve("dgx-h100-superpod").scaled(scale_up=2.0).accelerator)
    with pytest.raises(InputError, match="extends names no accelerator preset.*did you mean accelerator h100-sxm"):
        load_accelerator(_write(tmp_path, "x.yaml", "extends: h100-sx\n"))


def test_a_what_if_part_takes_its_presets_family_band(tmp_path) -> None:
    # was "fewer than 5 hbm training cases: any accelerator, any stack" (31 cases of every family)
    path = _write(tmp_path, "hbm.yaml", "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 5.025TB/s\n")
    preset = estimate_training("llama3-70b", "dgx-h100-superpod", **PLAN)
    mine = estimate_training("llama3-70b", path, **{**PLAN, "gpus": 64})
    assert mine.error_band == preset.error_band and "hopper" in mine.error_band.basis


def test_extended_merges_the_file_over_its_presets_validated_fields(tmp_path) -> None:
    from infraplan.catalog.loader import extended

    ref = _write(tmp_path, "w.yaml", "")
    data = {"name": "w", "extends": "h100-sxm", "tdp_w": 900.0, "efficiency": {"memory_bandwidth_fraction": 0.5}}
    merged = extended("accelerators", dict(data), ref, load_accelerator)
    preset = load_accelerator("h100-sxm").model_dump(exclude={"name"})
    assert merged["tdp_w"] == 900.0 and merged["extends"] == "h100-sxm"
    assert merged["memory_bandwidth_bytes_per_s"] == preset["memory_bandwidth_bytes_per_s"]
    # a mapping merges key by key: the preset's other efficiencies stay
    assert merged["efficiency"] == {**preset["efficiency"], "memory_bandwidth_fraction": 0.5}
    assert merged["source"].startswith("what-if over h100-sxm (this file sets efficiency, tdp_w): ")
    assert merged["display_name"] == f"w (what-if over {preset['display_name']})"
    given = extended("accelerators", {**data, "source": "mine", "display_name": "W"}, ref, load_accelerator)
    assert (given["source"], given["display_name"]) == ("mine", "W")
    # a what-if of a what-if keys its tables by the first preset
    _write(tmp_path, "base.yaml", "extends: h100-sxm\ntdp_w: 800W\n")
    assert extended("accelerators", {"name": "w2", "extends": "base.yaml"}, ref, load_accelerator)["extends"] == \
        "h100-sxm"


def test_is_accelerator_file_tells_an_accelerator_file_from_a_system_file(tmp_path) -> None:
    from infraplan.catalog.loader import is_accelerator_file

    assert is_accelerator_file(_write(tmp_path, "a.yaml", "extends: h100-sxm\n"))
    assert is_accelerator_file(_write(tmp_path, "b.yaml", "extends: a.yaml\n"))  # beside it, an accelerator file
    own = load_accelerator("h100-sxm").model_dump(exclude={"name", "extends"})
    assert is_accelerator_file(_write(tmp_path, "c.yaml", yaml.safe_dump(own)))  # its own peaks
    assert not is_accelerator_file(_write(tmp_path, "s.yaml", "extends: dgx-h100-superpod\n"))
    assert not is_accelerator_file(_write(tmp_path, "t.yaml", "extends: s.yaml\n"))  # a system file's what-if
    assert not is_accelerator_file(_write(tmp_path, "x.yaml", "extends: h100-sxmm\n"))  # names no preset
    assert not is_accelerator_file("h100-sxm")  # a preset name, not a file
    assert not is_accelerator_file(str(tmp_path / "missing.yaml"))


def test_an_extends_naming_no_preset_says_which_kinds_were_looked_up(tmp_path) -> None:
    """`--system FILE` reads a system or an accelerator file: a typo there said "names no system preset" though the
    file meant an accelerator; a system file extending an accelerator's name said it names none."""
    typo = _write(tmp_path, "typo.yaml", "extends: h100-sxmm\n")
    with pytest.raises(InputError, match=r"extends names no system or accelerator preset: 'h100-sxmm'; did you "
                                         r"mean accelerator h100-sxm\?"):
        Cluster.resolve(typo)
    with pytest.raises(InputError, match="^accelerator file .*extends names no accelerator preset: 'h100-sxmm'"):
        load_accelerator(typo)
    other = _write(tmp_path, "other.yaml", "extends: h100-sxm\n")
    with pytest.raises(InputError, match="extends names accelerator preset 'h100-sxm', not a system preset"):
        load_system(other)
    assert Cluster.resolve(other).accelerator.name == "other"  # where either kind is taken, it is an accelerator
    system = _write(tmp_path, "sys.yaml", "extends: dgx-h100-superpod\n")
    with pytest.raises(InputError, match=r"extends names system preset 'dgx-h100-superpod', not an accelerator "
                                         r"preset \(an accelerator file"):
        load_accelerator(system)
