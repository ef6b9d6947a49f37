"""`train`'s table lists the host row's phases moved in by hK59 (the optimizer's, a blocking pipeline's p2p calls)
under their own labels, and its --json breakdown adds up to the step bit for bit (`training.host_row`). Before hK59
neither row existed (the phases had no `optimizer` / `pp_comm`): both tests fail there."""

from __future__ import annotations

import json

ARGS = ["train", "megatron-1.7b", "--system", "h100-sxm", "--gpus", "8", "--tp", "2", "--pp", "2",
        "--seq-len", "2048", "--global-batch", "64", "--stack", "megatron-lm-2021"]


def test_the_table_names_the_p2p_calls_and_the_optimizer(cli) -> None:
    code, out, _ = cli(ARGS)
    assert code == 0
    assert "host: pipeline p2p calls" in out and "host: optimizer" in out


def test_the_json_rows_add_up_to_the_step(cli) -> None:
    code, out, _ = cli([*ARGS, "--json"])
    assert code == 0
    data = json.loads(out)
    assert sum(data["breakdown_s"].values()) == data["step_time_s"]
    assert data["host_exposed_phases_s"]["pp_comm"] > 0.0 and data["host_exposed_phases_s"]["optimizer"] > 0.0
