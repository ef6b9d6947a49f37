"""hM75 mutants of session 75's serving lines: the KV hand-off share note (`kv_handoff.handoff_note`, hT75) and
`--tp auto`'s held count beside a prefill pool (`serve_inputs.auto_tp`, hT75)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.serving.disaggregated import DisaggregatedDeployment
from infraplan.serving.kv_handoff import handoff_note, inside_share
from infraplan.serving.llm_iteration import Deployment


def test_an_uneven_share_is_said_as_f_and_one_less_f() -> None:
    """Decode 2 x TP6 beside prefill 4 x TP2 on 8-GPU nodes (vLLM): the TP6 groups take nodes 0 and 1, a TP2 each in
    their room, the other two TP2 node 2 (20 held, apart 16 + 8 = 24). Pairs in one node: (1/4)(1/2) + (1/4)(1/2)
    = 0.25 of them, so 0.250 of a transfer at the scale-up link's time and 0.750 at the NIC's."""
    pair = DisaggregatedDeployment(Deployment(tp=2, pp=1, replicas=4, engine="vllm"),
                                   Deployment(tp=6, pp=1, replicas=2, engine="vllm"))
    assert inside_share(pair, 8) == pytest.approx(0.25)
    note = handoff_note(pair, 8, "GPU")
    assert note is not None and "25 % of prefill / decode worker pairs" in note and "(f = 0.250)" in note
    assert "0.250 x its scale-up-link time + 0.750 x its NIC time" in note


def test_tp_auto_says_what_the_pair_holds(capsys: Any) -> None:
    """gpt3-175b decode 6 GB200s beside prefill 2 x TP32 on NVL72: TP 1 and 2 leave too little KV room, TP 3 meets the
    share; 64 + 2 x TP3 = 70 in one 72-GPU domain leaves room 2, less than a TP3 group, so the domain is held
    whole: 72, said as the pair's (the decode pool alone holds its 6)."""
    out = cli_json(capsys, ["serve", "gpt3-175b", "--system", "gb200-nvl72-superpod", "--stack", "vllm-0.x",
                            "--input-len", "1000", "--output-len", "200", "--rate", "1", "--requests", "50", "--gpus",
                            "70", "--tp", "auto", "--prefill-gpus", "64", "--prefill-tp", "32"])
    dep = out["deployment"]
    assert dep["tp"] == 3 and dep["gpus_held"] == 72
    assert "(TP 3 with the prefill pool's 64 holds 72 of them)" in dep["tp_source"]
