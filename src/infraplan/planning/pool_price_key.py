"""A pool's price key in the scenario (`plan`, `compare`) and fleet-mix files: `price_usd_per_device`.

A pool's price was written `capex_usd` until 2026-12-04 (hC48, session 45), the name a plan's results give the money
it spends (`capex_usd` per pool, per phase and in total, hL47): one name, two meanings, a price per device in and
money spent out. The input is now `price_usd_per_device` (the price of one device, its server share included: the
cost model's server price per accelerator, cluster/cost.py). The old key is still read, as the new one, for users'
files, with one warning per file read naming its pools; both keys on one pool are refused (one line, exit 2).

The rename is done in the schema (a `mode="before"` validator; the mechanism, `catalog.file_checks.key_renamed`, is
every renamed key's), so the specs stay frozen and keep refusing unknown keys: the file-level validator
(`ScenarioSpec`, `FleetSpec`) renames every pool's old key and warns once; a pool validated alone (`PoolSpec(...)`)
renames and warns on its own. The web answers with the same line in its result (`old_price_key_warning`: a plan's
and a compare's `warnings`, a fleet-mix's `warnings`), where the CLI prints it on stderr.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.file_checks import key_renamed, renamed, warn_renamed

PRICE_KEY = "price_usd_per_device"
OLD_PRICE_KEY = "capex_usd"
PRICE_DESCRIPTION = ("price of one device, its share of the server included (the cost model's server price per "
                     f"accelerator, cluster/cost.py; at most $1e12, the CLI's --server-price bound); `{OLD_PRICE_KEY}` "
                     "until 2026-12-04 (still read, with a warning)")


class OldPriceKeyWarning(UserWarning):
    """A pool priced with the old key `capex_usd` (read as `price_usd_per_device`)."""


def _line(pools: list[str]) -> str:
    named = ", ".join(repr(p) for p in pools)
    return (f"pool{'s' if len(pools) > 1 else ''} {named}: `{OLD_PRICE_KEY}` is read as `{PRICE_KEY}` (a pool's "
            f"price per device; a plan's `{OLD_PRICE_KEY}` is the money it spends): rename the key")


def old_price_key_warning(data: Any) -> str | None:
    """The warning line reading a scenario's or fleet spec's `data` prints (the CLI: `infraplan: warning: ...` on
    stderr), or None where no pool has the old key only: the web puts it in its answer (the warning itself reaches
    only a server's log)."""
    pools = data.get("pools") if isinstance(data, dict) else None
    old = [str(p.get("name", "?")) for p in pools if _old_only(p)] if isinstance(pools, list) else []
    return _line(old) if old else None


def _old_only(pool: Any) -> bool:
    return isinstance(pool, dict) and OLD_PRICE_KEY in pool and PRICE_KEY not in pool


def pool_price_renamed(data: Any) -> Any:
    """A pool's data with `capex_usd` read as `price_usd_per_device` (a warning); both keys: ValueError (the spec's
    one line): `catalog.file_checks.key_renamed`, as a cost file's old cost-of-capital key."""
    if not isinstance(data, dict) or OLD_PRICE_KEY not in data:
        return data
    return key_renamed(data, PRICE_KEY, OLD_PRICE_KEY, "the price of one device", _line([str(data.get("name", "?"))]),
                       OldPriceKeyWarning)


def pools_price_renamed(data: Any) -> Any:
    """A scenario's or fleet spec's data with every pool's old key renamed and one warning naming those pools (a
    pool with both keys is left for its own validator to refuse)."""
    pools = data.get("pools") if isinstance(data, dict) else None
    if not isinstance(pools, list) or not any(_old_only(p) for p in pools):
        return data
    warn_renamed(_line([str(p.get("name", "?")) for p in pools if _old_only(p)]), OldPriceKeyWarning)
    return {**data, "pools": [renamed(p, PRICE_KEY, OLD_PRICE_KEY) if _old_only(p) else p for p in pools]}
