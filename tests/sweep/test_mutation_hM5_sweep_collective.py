"""Mutation wave 5 (hM5): the sweep's `collective` sizes the system for the job as the CLI's `collective` does
(`Cluster.for_gpus`): an accelerator preset (one 8-GPU H800 server in the catalog) grows to the GPUs asked."""

from __future__ import annotations

import json

from infraplan.cli import main
from infraplan.network.results import CollectiveResult
from infraplan.sweep.callables import collective


def test_an_accelerator_preset_is_sized_for_the_gpus_as_the_cli_sizes_it(capsys) -> None:  # type: ignore[no-untyped-def]
    swept = collective("all-reduce", "h800", 4096, "1GiB")
    assert isinstance(swept, CollectiveResult)
    assert main(["collective", "all-reduce", "--system", "h800", "--gpus", "4096", "--bytes", "1GiB", "--json"]) == 0
    assert swept.time_s == json.loads(capsys.readouterr().out)["time_s"]
