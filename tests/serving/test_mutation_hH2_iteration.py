"""Mutation spot-check (hH2, session 33): a pipeline of PP stages passes activations over PP - 1 links."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.network.collectives import Fabric, send_recv_time
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

H100 = load_system("dgx-h100-superpod")
H100_ACC = load_accelerator(H100.accelerator)
FABRIC = Fabric.from_system(H100, H100_ACC)


def test_pipeline_body_adds_one_activation_send_per_stage_boundary() -> None:
    """PP stages in a chain have PP - 1 boundaries; each iteration sends M x h bf16 activations across each
    (send/recv over the TP stride). Llama 3 8B (32 layers: the same layers at PP 1, 2, 4), M tokens: the PP4 body
    is the PP1 body plus 3 sends, the PP2 body plus 1."""
    shape = load_model("llama3-8b")
    body = {pp: build_iteration_cost(shape, H100_ACC, FABRIC, Deployment(pp=pp, token_budget=2048)).body_s
            for pp in (1, 2, 4)}
    m = np.arange(len(body[1]), dtype=np.float64)
    send = np.where(m > 0, send_recv_time(FABRIC, m * 4096 * 2.0, 1), 0.0)
    assert body[2][1:] - body[1][1:] == pytest.approx(send[1:], rel=1e-9)
    assert body[4][1:] - body[1][1:] == pytest.approx(3.0 * send[1:], rel=1e-9)
