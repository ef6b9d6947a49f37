"""Which limit sets a group's analytical bandwidth: the scale-up link, the NICs, or an oversubscribed tier.

The same limits `network.fabric.group_link` prices a group's bus bandwidth with (the scale-up term of a ring that
crosses domains, `fabric.ring_scale_up_limit`; k NICs per domain; each crossed tier's uplinks shared by the groups
that run at once, `fabric.uplink_occupancy`; an all-to-all's share of bytes that leave a tier's domain and, on a
rail-only fabric, the bytes forwarded over the scale-up domain), read one group shape at a time to name the one that
binds (`collective`'s `bottleneck_tier`, the flow comparison's reason). Split from network/fabric.py (hE60).
"""

from __future__ import annotations

from infraplan.network.fabric import Fabric, ring_scale_up_limit, uplink_occupancy


def bottleneck_tier(fabric: Fabric, n: int, stride: int, all_to_all: bool = False) -> str:
    """Which limit sets the analytical bandwidth: 'scale-up', 'nic', or the oversubscribed tier's name."""
    if n * stride <= fabric.scale_up_domain:
        return "scale-up"
    k_domain = min(max(fabric.scale_up_domain // stride, 1), n)
    name, rate = "nic", fabric.nic_bytes_per_s
    if not all_to_all:
        up = float(ring_scale_up_limit(fabric, k_domain))
        name, rate = ("scale-up", up) if up < k_domain * rate else ("nic", k_domain * rate)
    for i, (size, over, tier) in enumerate(zip(fabric.tier_sizes, fabric.tier_oversubscription, fabric.tier_names,
                                               strict=True)):
        if n * stride <= size or over <= 1.0:
            continue
        k_tier = min(max(size // stride, 1), n)
        shared = over * float(uplink_occupancy(fabric, k_tier, stride, size, i))
        limit = fabric.nic_bytes_per_s / (shared * max((n - k_tier) / max(n - k_domain, 1), 1e-12)) if all_to_all \
            else k_tier * fabric.nic_bytes_per_s / shared
        if limit < rate:
            name, rate = tier, limit
    if all_to_all:
        share_local = k_domain / n
        # rail-only: and the bytes forwarded to the member on the destination's rail (`_group_link`)
        share_up = share_local + ((1.0 - share_local) * (k_domain - 1) / k_domain if fabric.rail_only else 0.0)
        if share_up / fabric.scale_up_bytes_per_s > (1.0 - share_local) / rate:
            return "scale-up"
    return name
