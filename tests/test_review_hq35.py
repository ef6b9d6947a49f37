"""hQ (session 35): a demanding user's review of the session's features - rail-only on one scale-up domain, the
web's collective algorithms, what a SHARP answer assumes, a stack file's nccl_collnet said."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from infraplan.catalog.stacks import resolve_stack
from infraplan.cli import main
from infraplan.web.app import create_app

COLLECTIVE = ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--bytes", "1GiB", "--json"]
TRAIN = ["train", "llama3-8b", "--gpus", "64", "--tp", "8", "--seq-len", "8192", "--global-batch", "512",
         "--zero", "0", "--json"]


@pytest.mark.parametrize(("system", "gpus"), [("dgx-h100-superpod", "8"), ("gb200-nvl72", "72"),
                                              ("mtia-400-rack", None)])
def test_rail_only_inside_one_scale_up_domain_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, system, gpus):
    # a rail joins the same NIC of every HB domain (arXiv:2307.12169); one domain has none to join (was: 8 one-port
    # switches with 16 optics for one DGX, 72 for one NVL72 rack, bisection 0)
    graph = tmp_path / "rails.graphml"
    args = ["network", system, "--fabric", "rail-only", "--graphml", str(graph), *(["--gpus", gpus] if gpus else [])]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "one" in err and "--fabric clos" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not graph.exists()
    assert main(["network", "dgx-h100-superpod", "--fabric", "rail-only", "--gpus", "16", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rails_count"] == 8


@pytest.mark.parametrize("algorithm", ["sharp", "nvls"])
def test_the_web_takes_every_algorithm_the_cli_does(capsys, algorithm):
    gpus = 64 if algorithm == "sharp" else 8
    assert main([*COLLECTIVE, "--gpus", str(gpus), "--algorithm", algorithm, "--sharp"]) == 0
    cli = json.loads(capsys.readouterr().out)
    body = {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": gpus, "size": "1GiB",
            "algorithm": algorithm, "sharp": True}
    web = TestClient(create_app()).post("/api/collective", json=body)
    assert web.status_code == 200, web.text
    assert web.json()["time_s"] == cli["time_s"] and web.json()["algorithm"] == algorithm


def test_a_sharp_answer_says_what_it_assumes_and_why_sharp_did_not_run(capsys):
    assert main([*COLLECTIVE, "--gpus", "64", "--sharp"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["algorithm"] == "sharp"
    assert any("aggregation tree serves this group alone" in a for a in out["assumptions"])
    assert main([*COLLECTIVE, "--gpus", "8", "--sharp"]) == 0  # inside one DGX: NVLS, the switches reduce nothing
    out = json.loads(capsys.readouterr().out)
    assert out["algorithm"] == "nvls" and any("inside one scale-up domain" in a for a in out["assumptions"])
    assert main([*COLLECTIVE, "--gpus", "64", "--sharp", "--algorithm", "ring"]) == 0
    assert any("--algorithm ring asked for it" in a for a in json.loads(capsys.readouterr().out)["assumptions"])
    assert main([*COLLECTIVE, "--gpus", "64"]) == 0  # no --sharp: nothing said about it
    assert not any("SHARP" in a or "sharp" in a for a in json.loads(capsys.readouterr().out)["assumptions"])


def test_a_stack_files_nccl_collnet_is_said_where_it_runs_and_where_nccl_falls_back(tmp_path, capsys):
    stack = tmp_path / "collnet.yaml"
    profile = resolve_stack(None, "training")
    stack.write_text(json.dumps({**profile.model_dump(mode="json", exclude_defaults=True), "nccl_collnet": True}))
    assert main([*TRAIN, "--system", "dgx-h100-superpod", "--stack", str(stack)]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("(nccl_collnet): the DP gradient all-reduce reduces in the switches" in n for n in notes)
    assert main([*TRAIN, "--system", "meta-genai-roce-24k", "--stack", str(stack)]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("NCCL finds no CollNet and keeps its ring / tree (meta-genai-roce-24k's" in n for n in notes)


@pytest.mark.parametrize("sim", ["analytical", "flow"])
def test_a_rail_only_collective_says_its_fabric(capsys, sim):
    args = ["collective", "all-to-all", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "16MiB",
            "--sim", sim, "--json"]
    assert main([*args, "--fabric", "rail-only"]) == 0
    assert any(a.startswith("rail-only fabric") for a in json.loads(capsys.readouterr().out)["assumptions"])
    assert main(args) == 0  # the system's own Clos: nothing said
    assert not any("rail-only" in a for a in json.loads(capsys.readouterr().out)["assumptions"])
