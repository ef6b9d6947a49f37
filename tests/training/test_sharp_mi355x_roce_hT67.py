"""IB SHARP is not on offer on the MI355X cluster (hT, session 67; a user's walk of `train` / `search`): its file
named one Pollara 400 NIC per GPU, an Ethernet (RoCE v2) AI NIC, but declared `kind: infiniband`, so
`train llama3.1-405b --system mi355x-cluster ... --sharp --zero 0` priced the DP all-reduce in InfiniBand switches
(NCCL CollNet) where that fabric has none. The file now says RoCE: `--sharp` is one line and exit 2, as on the
other Ethernet systems (meta-genai-roce-24k), on `train`, `search` and the web's /api/train."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.network.sharp import sharp_switches
from infraplan.network.topology import build_topology
from infraplan.web.requests import TrainRequest
from infraplan.web.runners import run_train

PLAN = ["llama3.1-8b", "--system", "mi355x-cluster", "--gpus", "64", "--seq-len", "8192", "--global-batch", "64"]


def test_the_mi355x_cluster_fabric_is_the_ethernet_of_its_nics():
    system = load_system("mi355x-cluster")
    assert "Pollara 400" in system.source and system.network.kind == "roce"
    reason = sharp_switches(build_topology(system, 64))
    assert reason is not None and "does no in-network reduction" in reason


@pytest.mark.parametrize("command", [["train", *PLAN, "--zero", "0", "--sharp"],
                                     ["search", *PLAN, "--top", "1", "--sharp"]])
def test_sharp_on_the_mi355x_cluster_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                                             command: list[str]):
    code = main([*command, "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--sharp needs SHARP switches" in lines[0] and "mi355x-cluster" in lines[0]


def test_the_web_refuses_it_in_the_clis_words(capsys: pytest.CaptureFixture[str]):
    main(["train", *PLAN, "--zero", "0", "--sharp", "--json"])
    cli_line = capsys.readouterr()[1].strip().removeprefix("infraplan: error: ")
    with pytest.raises(InputError) as refused:
        run_train(TrainRequest(model="llama3.1-8b", system="mi355x-cluster", gpus=64, seq_len=8192, global_batch=64,
                               zero=0, sharp=True))
    assert str(refused.value) == cli_line
