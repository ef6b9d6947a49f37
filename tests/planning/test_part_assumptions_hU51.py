"""A part written from scratch (an H100 file with its `kind` an ASIC, no `extends`, no catalog system): fleet-mix
reads a pool's device file beside its spec; training notes use the part's word; facility, serve, fleet-mix, train
and campus say when they assume the GPU server's host share and the generic node of 8; campus runs the training
model on the generic cluster `train` runs (hU50's findings, hU51)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json, json_strings

from infraplan.catalog import load_accelerator
from infraplan.cli import main
from infraplan.cluster.generic import GENERIC_ACCELERATORS_PER_NODE, generic_part_notes
from infraplan.cluster.host_share import EPOCH_SERVER_MULTIPLIER
from infraplan.planning.campus import REFERENCE_JOB_MAX_GPUS, plan_campus
from infraplan.planning.fleet_spec import load_fleet_spec
from infraplan.training.estimate import estimate_training

H100_FILE = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "accelerators" / "h100-sxm.yaml"
H100_TDP_W = 700.0  # h100-sxm.yaml's tdp_w


def _asic(folder: Path, host_w: float | None = None) -> Path:
    """The H100 preset copied as a from-scratch ASIC file (`asic.yaml`; `host_w`: its own host figure)."""
    text = H100_FILE.read_text().replace("\nkind: gpu\n", "\nkind: asic\n")
    assert "\nkind: asic\n" in text and "extends" not in text
    if host_w is not None:
        text += f"host_power_w: {host_w}\nhost_source: ASSUMPTION for a test\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "asic.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def asic(tmp_path: Path) -> Path:
    return _asic(tmp_path / "parts")


def test_fleet_mix_reads_a_pool_device_file_beside_its_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "spec"
    _asic(folder)
    spec = folder / "fleet.yaml"
    spec.write_text("services:\n  - {name: r, kind: recsys, model: dlrm-medium, qps: 1M, latency_slo: 20ms}\n"
                    "pools:\n  - {name: a, device: asic.yaml, available: 3000, price_usd_per_device: 9000}\n")
    monkeypatch.chdir(tmp_path)  # not the spec's folder: `asic.yaml` is no file here (was "no such file")
    assert load_fleet_spec(spec).pools[0].device == str(folder / "asic.yaml")
    out = cli_json(capsys, ["fleet-mix", str(spec)])
    assert out["totals"]["power_w"] > 0
    monkeypatch.chdir(folder)  # from the spec's folder the name stays as written
    assert load_fleet_spec("fleet.yaml").pools[0].device == "asic.yaml"


def test_training_notes_use_the_parts_word(asic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "qwen3-30b-a3b", "--gpus", "64", "--tp", "1", "--pp", "1", "--ep", "16", "--seq-len", "4096",
            "--global-batch", "256", "--micro-batch", "1", "--recompute", "auto"]
    notes = cli_json(capsys, [*args, "--system", str(asic)])["notes"]
    gpu = cli_json(capsys, [*args, "--system", "h100-sxm"])["notes"]
    assert any("GiB per GPU" in n for n in gpu) and any("domains of 8 GPUs" in n for n in gpu)  # the same notes
    assert any("GiB per accelerator" in n for n in notes)
    assert any("domains of 8 accelerators" in n for n in notes)
    assert not any(re.search(r"per GPU|\d GPUs|-GPU scale-up", n) for n in notes)


def _notes_of(text: list[str]) -> tuple[list[str], list[str]]:
    host = "of host and scale-up switches is ASSUMED"  # `host_share.assumed_share_note`'s one wording (hK71)
    return [n for n in text if host in n], [n for n in text if "generic node is ASSUMED" in n]


def test_the_note_says_what_is_assumed_only_where_it_is(tmp_path: Path) -> None:
    bare = load_accelerator(str(_asic(tmp_path / "bare")))
    host, node = _notes_of(generic_part_notes(bare, host=True, node=True))
    assert len(host) == 1 and f"{(EPOCH_SERVER_MULTIPLIER - 1) * H100_TDP_W:.4g} W per accelerator" in host[0]
    assert len(node) == 1 and f"{GENERIC_ACCELERATORS_PER_NODE} accelerators per node" in node[0]
    assert "Ethernet" in node[0] and "0.9" in node[0]
    assert _notes_of(generic_part_notes(bare, host=False, node=True)) == ([], node)  # train prices no host
    own = load_accelerator(str(_asic(tmp_path / "own", host_w=120.0)))
    assert _notes_of(generic_part_notes(own, host=True, node=True)) == ([], node)  # its own host figure
    for part in ("h100-sxm", "h800", "mtia-400"):  # a GPU (rules of a GPU server); a part with a catalog system
        assert generic_part_notes(load_accelerator(part), host=True, node=True) == []
    host_tpu, node_tpu = _notes_of(generic_part_notes(load_accelerator("tpu-v5p"), host=True, node=True))
    assert "per TPU" in host_tpu[0] and "8 TPUs per node" in node_tpu[0]


def test_commands_say_it(asic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facility = cli_json(capsys, ["facility", "--accelerator", str(asic), "--count", "64"])
    assert [len(x) for x in _notes_of(facility["figures_notes"])] == [1, 1]
    assert _notes_of(cli_json(capsys, ["facility", "--accelerator", "h100-sxm", "--count", "64"])
                     ["figures_notes"]) == ([], [])
    serve = cli_json(capsys, ["serve", "llama3-8b", "--system", str(asic), "--gpus", "1", "--rate", "2",
                              "--requests", "20", "--input-len", "256", "--output-len", "32"])
    assert [len(x) for x in _notes_of(serve["warnings"])] == [1, 1]
    train = cli_json(capsys, ["train", "llama3-8b", "--system", str(asic), "--gpus", "16", "--tp", "1", "--pp", "1",
                              "--seq-len", "4096", "--global-batch", "64", "--micro-batch", "1"])
    assert [len(x) for x in _notes_of(train["notes"])] == [0, 1]
    code = main(["facility", "--accelerator", str(asic), "--count", "64"])
    assert code == 0 and "generic node is ASSUMED" in capsys.readouterr().out.replace("\n", " ")
    spec = tmp_path / "fleet.yaml"
    spec.write_text("services:\n  - {name: r, kind: recsys, model: dlrm-medium, qps: 1M, latency_slo: 20ms}\n"
                    f"pools:\n  - {{name: a, device: {asic}, price_usd_per_device: 9000}}\n"
                    f"  - {{name: b, device: {asic}, price_usd_per_device: 9000, host_power_w: 100W, available: 0}}\n")
    fleet = cli_json(capsys, ["fleet-mix", str(spec)])
    assert [len(x) for x in _notes_of(fleet["figures_note"].split("; pool"))] == [1, 1]  # pool a only (b unused)


def test_campus_runs_the_training_model_as_train_does(asic: Path) -> None:
    campus = plan_campus(20e6, str(asic))
    cap = campus.training_capacity
    assert cap.available and cap.reference_system == f"asic-generic-{REFERENCE_JOB_MAX_GPUS}"
    train = estimate_training("llama3-405b", str(asic), REFERENCE_JOB_MAX_GPUS, tp=8, pp=16, vpp=7, seq_len=8192,
                              global_batch=2048, micro_batch=1, recompute="none", zero=3, dtype="bf16",
                              stack="meta-llama3")
    assert train.fits and cap.tokens_per_s_per_gpu == pytest.approx(train.tokens_per_s_per_gpu, rel=1e-12)
    assert [len(x) for x in _notes_of(list(json_strings(campus.model_dump())))] == [1, 1]
    assert cap.job_gpus < REFERENCE_JOB_MAX_GPUS  # 20 MW holds fewer: the smaller job's note, in the part's word
    assert any(f"the {cap.job_gpus:,}-accelerator job is timed" in n and "tokens/s per accelerator" in n
               for n in cap.notes)
