"""Mutation spot-check (hH2, session 33): the DLRM dot interaction moves its F x F output as well as its input."""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_accelerator
from infraplan.catalog.inference_loader import load_recsys_model, load_recsys_profile
from infraplan.recsys.embedding import resolve_tiers
from infraplan.recsys.estimate import evaluate_batches


def test_dot_interaction_reads_the_features_and_writes_the_f_by_f_products() -> None:
    """DLRM's dot interaction (Naumov et al., arXiv:1906.00091, sec. 2.1) is a batched (F x d) @ (d x F) product:
    per sample it reads F x d features and writes F x F dot products. dlrm-low: F = 40 tables + 1 dense = 41,
    d = 64, fp16: (41 x 64 + 41 x 41) x 2 B = 8,610 B a sample, at least that over the activation bandwidth (the
    fastest on-device tier's streaming rate)."""
    model = load_recsys_model("dlrm-low")
    acc, profile = load_accelerator("h200"), load_recsys_profile("h200")
    batches = np.array([256.0, 1024.0, 4096.0])
    out = evaluate_batches(model, acc, profile, batches)
    tiers = [t for t in resolve_tiers(acc, profile) if t.name != "host"]
    f, d = 41, 64
    assert model.num_tables + 1 == f and model.bottom_mlp[-1] == d
    floor = batches * (f * d + f * f) * 2.0 / tiers[0].stream_bytes_per_s
    assert np.all(out["breakdown_s"]["interaction"] >= floor * (1 - 1e-9))
