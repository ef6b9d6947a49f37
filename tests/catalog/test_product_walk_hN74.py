"""hN (session 74): a planner's walk of network / facility / recsys / video; what it fixed.

1. A system file that `extends` a catalog system and changes its fabric's `kind` kept the base's stated
   `load_balancing` and its source: `extends: meta-genai-ib-24k` with `network: {kind: roce}` was priced with
   InfiniBand's adaptive routing (its source citing Quantum-2 switches and "NCCL_IB_ADAPTIVE_ROUTING ... 0 on RoCE"),
   so the kind's default (ECMP on RoCE, `Network.balancing`) never applied (hV73's leftover). A file stating another
   `load_balancing` without a source took the base's source, which says the opposite. Now the kind's default, and
   a stated balancing needs its own source (`catalog.loader.own_balancing`).
2. `collective --json`'s `time_basis` on an ECMP fabric said "the time train and serve take (`priced_time_s`: the
   time train and serve price (`priced_time_s`: ...))", the headline's words twice.
3. A recsys model or profile file that `extends` another kind's preset (a system's, an accelerator's, a stack's)
   was told "`infraplan catalog recsys h100-sxm` prints the preset's", a command that fails; now it is named. A
   video device file `extends: msvp` was read as an accelerator's what-if ("extends names no accelerator preset:
   'msvp'"); now the video device's own line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.inference_loader import is_video_device, load_recsys_model
from infraplan.catalog.loader import load_system
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility.reliability import reliability_report
from infraplan.network.collective_schedules import estimate_collective
from infraplan.recsys.estimate import estimate_recsys
from infraplan.video.transcode import estimate_video


def _file(folder: Path, name: str, text: str) -> str:
    """The user's file `name` holding `text`, written in `folder`; its path."""
    (folder / name).write_text(text)
    return str(folder / name)


def test_an_ib_system_restated_as_roce_takes_ecmp(tmp_path: Path) -> None:
    ref = _file(tmp_path, "roceish.yaml", "extends: meta-genai-ib-24k\nnetwork: {kind: roce}\n")
    network = load_system(ref).network
    assert network.kind == "roce"
    assert network.balancing == "ecmp"
    assert network.load_balancing is None and network.load_balancing_source == ""


def test_ecmp_collisions_priced_on_the_restated_fabric(tmp_path: Path) -> None:
    """4,096 GPUs, send-recv of 64 MiB: 1.434 ms on the adaptive line (the base), 4.35 ms with one hashed flow a
    pair colliding on the leaf uplinks (the flow model: 4.29 ms)."""
    ib = Cluster.resolve("meta-genai-ib-24k")
    roce = Cluster.resolve(_file(tmp_path, "roceish.yaml", "extends: meta-genai-ib-24k\nnetwork: {kind: roce}\n"))
    adaptive = estimate_collective("send-recv", ib, 4096, 64 * 2**20)
    hashed = estimate_collective("send-recv", roce, 4096, 64 * 2**20)
    assert adaptive.time_s == pytest.approx(1.434e-3, rel=0.01)
    assert hashed.time_s == pytest.approx(4.35e-3, rel=0.02)
    assert hashed.assumptions[1].startswith("ECMP: 1 flow a pair")


def test_a_roce_system_restated_as_infiniband_takes_adaptive(tmp_path: Path) -> None:
    ref = _file(tmp_path, "ibish.yaml", "extends: meta-genai-roce-24k\nnetwork: {kind: infiniband}\n")
    assert load_system(ref).network.balancing == "adaptive"
    assert load_system("meta-genai-roce-24k").network.balancing == "ecmp"


def test_another_balancing_needs_its_own_source(tmp_path: Path) -> None:
    bare = _file(tmp_path, "bare.yaml", "extends: meta-rsc\nnetwork: {load_balancing: ecmp}\n")
    with pytest.raises(InputError, match="load_balancing needs network.load_balancing_source"):
        load_system(bare)
    said = _file(tmp_path, "said.yaml",
                 "extends: meta-rsc\nnetwork: {load_balancing: ecmp, load_balancing_source: our switches' config}\n")
    network = load_system(said).network
    assert (network.balancing, network.load_balancing_source) == ("ecmp", "our switches' config")


def test_an_unchanged_fabric_keeps_the_bases_balancing(tmp_path: Path) -> None:
    """What the rule leaves alone: the same kind, or the base's own balancing restated."""
    base = load_system("meta-rsc").network
    for text in ("extends: meta-rsc\ndisplay_name: ours\n", "extends: meta-rsc\nnetwork: {kind: infiniband}\n",
                 "extends: meta-rsc\nnetwork: {load_balancing: adaptive}\n"):
        network = load_system(_file(tmp_path, "same.yaml", text)).network
        assert (network.load_balancing, network.load_balancing_source) == (base.load_balancing,
                                                                             base.load_balancing_source)


def test_ecmp_time_basis_says_the_headline_once() -> None:
    result = estimate_collective("all-reduce", Cluster.resolve("meta-genai-roce-24k"), 512, 256 * 2**20)
    assert result.time_basis.startswith("the alpha-beta line with ECMP's expected hash collisions")
    assert result.time_basis.count("`priced_time_s`") == 1
    assert "above the time train and serve price (`priced_time_s`: NCCL's double binary tree" in result.time_basis


@pytest.mark.parametrize(("text", "said"), [
    ("extends: h100-sxm\ntdp_w: 800\n", "extends accelerator preset 'h100-sxm': it is a what-if of an accelerator "
     "file, not a recsys model file: `--accelerator` takes it"),
    ("extends: meta-llama3\n", "extends stack preset 'meta-llama3': it is a what-if of a stack file"),
    ("extends: meta-genai-ib-24k\nnetwork: {kind: roce}\n", "is a system file (node, network), not a recsys model "
     "file: `--system` takes it"),
])
def test_a_recsys_model_extending_another_kind_is_named(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(InputError) as err:
        load_recsys_model(_file(tmp_path, "model.yaml", text))
    assert said in str(err.value)
    assert "infraplan catalog recsys" not in str(err.value)


def test_a_recsys_model_extending_its_own_preset_keeps_its_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"`infraplan catalog recsys dlrm-high` prints the preset's"):
        load_recsys_model(_file(tmp_path, "model.yaml", "extends: dlrm-high\nbatch: 3\n"))


def test_a_video_device_extending_msvp_is_refused_as_a_video_device(tmp_path: Path) -> None:
    """`video --device FILE` with `extends: msvp` read the file as an accelerator's what-if: "extends names no
    accelerator preset: 'msvp'"; now the video device's own line, naming the command that prints the preset."""
    ref = _file(tmp_path, "vd.yaml", "extends: msvp\n")
    assert is_video_device(ref)
    with pytest.raises(InputError, match=r"video device file .*`infraplan catalog video-devices msvp` prints"):
        estimate_video(ref, "1080p30")


def test_a_recsys_profile_extending_a_system_is_named(tmp_path: Path) -> None:
    profile = _file(tmp_path, "profile.yaml", "extends: meta-rsc\n")
    part = _file(tmp_path, "part.yaml", f"name: p\nextends: h100-sxm\nrecsys_profile: {profile}\n")
    with pytest.raises(InputError, match=r"recsys profile file .* extends system preset 'meta-rsc': it is a what-if "
                       r"of a system file, not a recsys profile file: `--system` takes it"):
        estimate_recsys("dlrm-high", part)


def test_one_domain_is_said_in_the_singular() -> None:
    """`reliability --system mtia-400-rack --gpus 72` said "the 72-accelerator job holds 1 domains = 72"."""
    notes = " ".join(reliability_report("mtia-400-rack", 72).notes)
    assert "job holds 1 domain = 72 accelerators" in notes and "1 domains" not in notes
    assert "job holds 8 domains = 576 GPUs" in " ".join(reliability_report("gb200-nvl72-superpod", 576).notes)
