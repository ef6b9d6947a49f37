"""The flow answer at NCCL's measured message-size efficiency (`sized_time_s`, hF74): one answer with the analytical
model's.

The flow simulation is fluid: every flow moves at its max-min fair share of line rate from its first byte, so it
prices the schedule's link loads (each NIC's own flows, an uplink's pool or hashed paths), not NCCL's shortfall at a
message size. The analytical answer (`priced_collective`) takes that shortfall from measured tables: an all-to-all
across domains the SimAI NCCL all-to-all table (catalog/nccl/simai_ata_ratio.csv: busbw / peak, at 64 MiB a rank 0.66
at 16 nodes against 0.90 at 16 GiB, so 0.733 of the large-message figure), a ring the NIC table per step, a group in
one domain its NVLink column or the accelerator's measured curve; it bounds its alpha-beta line from below by the
line's bandwidth time over that efficiency (`collective_efficiency.sized_time`). Both models share the line
otherwise: on adaptive fabrics the flow all-to-all is 0.98-1.02x the line (hF73, hF74's partial domains), so the
whole gap between `--sim flow` and `--sim analytical` (flow 0.63-1.01x the answer at 64 MiB on the InfiniBand catalog
systems) is that efficiency.

The tables are busbw, a rate measured at the endpoints; so a phase whose slowest flow is held by an endpoint link (a
NIC, or the scale-up link inside a domain) moves at that efficiency of its flow rate: its transfer over the
efficiency. A phase held by a switch tier (ECMP's hashed collisions, an oversubscribed uplink pool) is slower than its
NICs already: it keeps its flow time, bounded below by the even spread's bandwidth time over the efficiency (its
NICs at the measured rate), as the analytical answer on an ECMP fabric takes the slower of the priced time and the
hashed line (hE73) rather than their product. Like `sized_time`, the efficiency bound replaces the phase's latency
instead of adding to it (the measured collective's own latency is inside the table).
"""

from __future__ import annotations

from collections.abc import Sequence

from infraplan.network.flow_explain import PhaseComparison
from infraplan.units import significant_text

ENDPOINT_LINKS = ("nic", "scale-up")  # link classes whose rate the measured tables state (busbw at the endpoints)


def sized_flow_time(phases: Sequence[PhaseComparison], phase_times_s: Sequence[float], efficiency: float) -> float:
    """Seconds of the flow schedule at the message-size `efficiency` (module docstring): each phase the slower of
    its flow time and its transfer over the efficiency where an endpoint link holds it (else the analytical
    bandwidth time over the efficiency), summed over phases."""
    total = 0.0
    for phase, seconds in zip(phases, phase_times_s, strict=True):
        held = phase.flow_bandwidth_s if phase.flow_tier in ENDPOINT_LINKS else phase.analytical_bandwidth_s
        bound = held / efficiency
        total += bound if bound > seconds else seconds
    return total


def sized_basis(sized_s: float, efficiency: float, answer_s: float) -> str:
    """The flow answer's second basis, in numbers: its time at the efficiency and that over the analytical answer."""
    return (f"; at the message-size efficiency {efficiency:.3g} `--sim analytical` reads for it (NCCL's measured "
            f"busbw at this size, on the endpoint links where they hold the flow, `network.flow_sized`) it takes "
            f"{significant_text(sized_s * 1e3, 4)} ms (`sized_time_s`), {sized_s / answer_s:.3f}x the analytical "
            f"answer's {significant_text(answer_s * 1e3, 4)} ms")
