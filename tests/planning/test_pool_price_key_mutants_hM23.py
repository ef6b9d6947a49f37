"""Mutation wave hM23 (session 45) on `planning.pool_price_key`: a file mixing the old and the new key gets one
warning, naming the pools that used the old key and only those (hC48: "one warning per file read naming its
pools")."""

from __future__ import annotations

import warnings

from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_price_key import OldPriceKeyWarning

SERVICES = [{"name": "rank", "kind": "recsys", "model": "dlrm-medium", "qps": 1e6, "latency_slo": 0.02}]


def _read(pools: list[dict[str, object]]) -> tuple[FleetSpec, list[str]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        spec = FleetSpec.model_validate({"services": SERVICES, "pools": pools})
    return spec, [str(w.message) for w in seen if issubclass(w.category, OldPriceKeyWarning)]


def test_one_warning_names_the_old_key_pools_only() -> None:
    spec, said = _read([{"name": "old-a", "device": "h100-sxm", "capex_usd": 40000},
                        {"name": "new-b", "device": "h200", "price_usd_per_device": 45000},
                        {"name": "old-c", "device": "mtia-v2", "capex_usd": 9000}])
    assert len(said) == 1
    assert "'old-a'" in said[0] and "'old-c'" in said[0] and "new-b" not in said[0] and said[0].startswith("pools ")
    assert [p.price_usd_per_device for p in spec.pools] == [40000, 45000, 9000]


def test_a_file_of_the_new_key_only_says_nothing() -> None:
    _, said = _read([{"name": "b", "device": "h200", "price_usd_per_device": 45000}])
    assert said == []
