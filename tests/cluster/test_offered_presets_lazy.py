"""A purpose's preset list ("known: ...", without CPUs) is built only when the name is unknown: building it loads every
accelerator preset (~43 ms, hR42), which a known name must not pay."""
from __future__ import annotations

import pytest

from infraplan.cluster import cluster as cluster_module
from infraplan.cluster.cluster import Cluster
from infraplan.errors import InputError


def test_a_known_accelerator_does_not_build_the_list_and_an_unknown_one_does(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []

    def counted() -> list[str]:
        built.append(1)
        return ["h100-sxm", "mi300x"]

    monkeypatch.setattr(cluster_module, "non_cpu_accelerators", counted)
    assert Cluster.for_accelerator("h100-sxm", purpose="a campus").accelerator.name == "h100-sxm"
    assert built == []
    with pytest.raises(InputError, match="unknown accelerator 'h100-sxx'; did you mean h100-sxm"):
        Cluster.for_accelerator("h100-sxx", purpose="a campus")
    assert built == [1]
