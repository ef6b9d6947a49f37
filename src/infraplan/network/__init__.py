"""Networks: fabric description, placement-aware collective cost models."""

from infraplan.network.collectives import (
    Fabric,
    all_gather_time,
    all_reduce_time,
    all_to_all_time,
    group_link,
    reduce_scatter_time,
    send_recv_time,
)

__all__ = [
    "Fabric", "all_gather_time", "all_reduce_time", "all_to_all_time", "group_link",
    "reduce_scatter_time", "send_recv_time",
]
