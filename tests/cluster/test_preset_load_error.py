"""A shipped system preset that fails to load reports its own error, not "unknown system 'x'; did you mean x"
(hR40, session 40: seen while a preset was mid-edit)."""

from __future__ import annotations

import pytest

import infraplan.cluster.cluster as cluster_module
from infraplan.cluster import Cluster
from infraplan.errors import InputError


def test_a_presets_own_load_error_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ref: str) -> None:
        raise InputError(f"system {ref}: network.tiers.0.switch_radix: must be > 0")

    monkeypatch.setattr(cluster_module, "load_system", broken)
    with pytest.raises(InputError, match="switch_radix") as raised:
        Cluster._from_name("dgx-b300")
    assert "unknown" not in str(raised.value)


def test_an_unknown_name_still_gets_the_did_you_mean() -> None:
    with pytest.raises(InputError, match=r"unknown system or accelerator 'dgx-b3000'; did you mean"):
        Cluster._from_name("dgx-b3000")
