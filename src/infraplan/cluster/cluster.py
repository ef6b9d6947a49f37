"""The Cluster: a system resolved once at the edge, with everything derived from it.

`Cluster.resolve(ref)` takes a system preset or file, a loaded System, an accelerator preset (then the generic
system of generic.py: the reference node and a non-blocking Clos, 8 accelerators by default) or a Cluster. The
accelerator, the collective Fabric (`network.collectives.Fabric.from_system`, derived here and only here), the
power layout (power.ServerLayout) and the explicit topology (`network.topology.build_topology`, built lazily)
all follow from the one System, so a what-if (`scaled`) changes them all together: collective times, facility
network power and the price of an accelerator-hour.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from infraplan.catalog import list_presets, load_accelerator, load_system
from infraplan.catalog.loader import check_preset, is_accelerator_file, looks_like_path
from infraplan.catalog.schemas import Accelerator, System
from infraplan.catalog.server_price import with_server_price
from infraplan.catalog.versioned_cache import versioned_cache
from infraplan.cluster.generic import GENERIC_ACCELERATORS_PER_NODE, generic_system
from infraplan.cluster.host_share import (
    NODE_SHARE_LABEL,
    host_share,
    node_host_share_w,
    node_share_w,
    node_switch_share_w,
    switch_share_line,
    with_stated_host,
)
from infraplan.errors import InputError, close_names, wrong_kind
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.collectives import Fabric
from infraplan.network.placement import job_placement_unit, layout_refusal
from infraplan.network.topology import build_topology

if TYPE_CHECKING:
    from infraplan.cluster.power import ServerLayout


def whole_count(gpus: object, flag: str = "--gpus") -> None:
    """One InputError line where a Python caller's count of accelerators is not a whole number (8.5, nan, inf, "8",
    True: the CLI's int option and the web's integer field refuse them; here 8.5 read "not divisible by TP x PP x
    CP", inf a raw ValueError, True one GPU: hG56); a whole float (8.0) passes."""
    whole = (not isinstance(gpus, bool) and isinstance(gpus, int | float | numbers.Integral)
             and math.isfinite(gpus) and float(gpus).is_integer())
    if not whole:
        raise InputError(f"{flag} must be a whole number of accelerators, got {gpus!r}")


@dataclass(frozen=True, eq=False)
class Cluster:
    """A system and its accelerator, with the fabric, power layout and topology derived from them."""

    system: System
    accelerator: Accelerator
    generic: bool = False  # built from an accelerator preset (generic node and Clos), not a catalog system
    placement_unit: int = 0  # one job's consecutive ranks known to share a domain (`placed`); 0: groups aligned
    outgrown: System | None = None  # a generic count past this catalog system's size (`for_count`, `ServerLayout`)

    def __post_init__(self) -> None:  # a system file without its node's host power takes the part's (hN72)
        object.__setattr__(self, "system", with_stated_host(self.system, self.accelerator))
        object.__setattr__(self, "accelerator", with_server_price(self.system, self.accelerator))  # its own (hC76)

    @classmethod
    def resolve(cls, ref: str | System | Cluster, purpose: str | None = None) -> Cluster:
        """A system preset/file, a System, an accelerator preset (generic node of 8) or a Cluster. `purpose`: what
        needs an accelerator (LLM training, LLM serving, ...): a CPU is refused (`require_accelerator`) and an
        unknown name lists the systems and the accelerator presets it takes, without the CPU ones."""
        if purpose is not None:
            return cls._for_purpose(ref, purpose)
        if isinstance(ref, Cluster):
            return ref
        if isinstance(ref, System):
            return cls(ref, load_accelerator(ref.accelerator))
        if not isinstance(ref, str):  # `Cluster.resolve(5)` was a TypeError from the loader (hK66)
            raise wrong_kind("system", "a system or accelerator preset name or file path (text), a System or a "
                             "Cluster", ref)
        return _resolve_named(ref) if cls is Cluster else cls._from_name(ref)

    @classmethod
    def _for_purpose(cls, ref: str | System | Cluster, purpose: str) -> Cluster:
        try:
            cluster = cls.resolve(ref)
        except UnknownSystemError:  # listed again without the CPU presets `purpose` refuses (hU45)
            raise UnknownSystemError(unknown_system_text(str(ref), non_cpu_accelerators())) from None
        cluster.require_accelerator(purpose)
        return cluster

    @classmethod
    def _from_name(cls, ref: str) -> Cluster:
        """A system preset/file or an accelerator preset (generic node of 8), resolved afresh."""
        try:
            system = load_system(ref)
        except InputError:
            if ref in list_presets("accelerators") or is_accelerator_file(ref):  # generic node and Clos
                return cls.for_accelerator(ref)
            if looks_like_path(ref) or ref in list_presets("systems"):  # a file's, or a preset's own error
                raise
            raise UnknownSystemError(unknown_system_text(ref, list_presets("accelerators"))) from None
        return cls(system, load_accelerator(system.accelerator))

    @classmethod
    def for_accelerator(cls, accelerator: str | Accelerator, count: int = GENERIC_ACCELERATORS_PER_NODE,
                        purpose: str | None = None) -> Cluster:
        """`count` accelerators of a preset on the generic node and non-blocking Clos (generic.py). `purpose`: what
        needs an accelerator (a campus, facility sizing): a CPU preset is refused (`require_accelerator`) and an
        unknown name lists the presets it takes, accelerators and systems (whose part it reads: `part_of`), without
        the CPU ones (`non_cpu_parts`)."""
        if purpose is not None and isinstance(accelerator, str) and not looks_like_path(accelerator) \
                and accelerator not in list_presets("systems"):
            from infraplan.catalog.inference_loader import video_device_line  # lazy: `train` never loads video

            if video := video_device_line(accelerator, "an accelerator"):  # facility / campus --accelerator msvp
                raise InputError(video)
            check_preset("accelerators", accelerator, offered=non_cpu_parts)
        acc = part_of(accelerator) if isinstance(accelerator, str) else accelerator  # a system's part too (hU67)
        own = node_system(accelerator) if isinstance(accelerator, str) else None  # on its own node (hP69)
        cluster = cls(generic_system(acc, count, own), acc, generic=True)
        if purpose is not None:
            cluster.require_accelerator(purpose)
        return cluster

    @classmethod
    def for_count(cls, ref: str, count: int, purpose: str | None = None) -> Cluster:
        """`count` accelerators of `ref` as `facility --accelerator REF --count N` and `plan`'s pools read them: a
        system preset or file that holds them on its own fabric (its tiers built for `count`, as `network SYSTEM
        --gpus N` builds them: dgx-a100-superpod at 96 GPUs, 12 switches both ways, hC72), else the part on its node
        and the generic Clos (`for_accelerator`: an accelerator, or more than the system holds, which is then
        `outgrown`: a campus of copies of it where it is larger than a generic zone, facility/campus_fabric.py)."""
        try:
            system = node_system(ref)
        except InputError:  # an unknown name: `for_accelerator`'s line, which lists the presets it takes
            system = None
        if system is None:
            return cls.for_accelerator(ref, count, purpose)
        if count > system.total_accelerators:  # past its size: the system's own fabric is a whole zone (hP74),
            past = cls.for_accelerator(ref, count, purpose)  # else its node on a Clos of its own kind (hP75)
            return cls(generic_system(past.accelerator, count, system, outgrown=True), past.accelerator, True,
                       outgrown=cls.resolve(ref).system)
        return cls.resolve(ref, purpose=purpose)

    def for_gpus(self, gpus: int) -> Cluster:
        """This cluster, or, when it was built from an accelerator preset (generic node and Clos) and `gpus` is
        more than it holds, the generic cluster of `gpus` accelerators: `--system h800 --gpus 2048` means 2,048
        H800 on the generic fabric. A catalog system keeps its size (asking for more is the caller's error)."""
        whole_count(gpus)
        if self.generic and gpus > self.total_accelerators:  # on this cluster's node (a system file's own: hP69)
            return Cluster(generic_system(self.accelerator, gpus, self.system), self.accelerator, generic=True)
        return self

    def require_accelerator(self, purpose: str) -> None:
        """One InputError line when this cluster is built of CPUs: `purpose` needs an accelerator. The CPU presets
        model recsys and video inference; their AMX matmul fraction is an assumption no training run measures."""
        if self.accelerator.kind == "cpu":
            raise InputError(f"{self.accelerator.name} is a CPU; {purpose} needs an accelerator (the CPU presets "
                             "model recsys and video inference)")

    def check_gpus(self, gpus: int, flag: str = "--gpus") -> None:
        """One InputError line unless 1 <= `gpus` <= the accelerators this cluster holds; beyond a catalog
        system's size it names the accelerator preset (or a user's part file), which takes any count (`for_gpus`)."""
        whole_count(gpus, flag)
        if gpus < 1:
            raise InputError(f"{flag} must be a positive number of accelerators, got {gpus}")
        if gpus > self.total_accelerators:
            name = self.accelerator.name  # a user's part file is no preset: `--system` takes its file (hU, session 52)
            any_count = (f"the accelerator preset {name}" if name in list_presets("accelerators") else
                         f"its accelerator's file, {name}, as --system")
            raise InputError(f"{flag} {gpus:,}: system {self.name} has {self.total_accelerators:,} accelerators "
                             f"({any_count} takes any count)")

    @property
    def name(self) -> str:
        return self.system.name

    @property
    def total_accelerators(self) -> int:
        return self.system.total_accelerators

    @cached_property
    def fabric(self) -> Fabric:
        """The scalars collective costs need."""
        fabric = Fabric.from_system(self.system, self.accelerator)
        return replace(fabric, placement_unit=self.placement_unit) if self.placement_unit else fabric

    def placed(self, gpus: int) -> Cluster:
        """This cluster for a job of `gpus` GPUs: its fabric prices each group where that job's ranks put it
        (`network.placement.job_placement_unit`, `network.fabric.group_domain`); itself for a job inside one
        domain. One twin per unit is kept, so the pricing caches keyed by the cluster find it again."""
        base, kept = self._base, self._laid_unit
        unit = (kept if gpus > kept else 0) if kept else job_placement_unit(base.system.node, gpus)
        if unit == 0:
            return base
        twin = base._placed_twins.get(unit)
        if twin is None:
            twin = base._placed_twins.setdefault(unit, Cluster(base.system, base.accelerator, base.generic, unit,
                                                                  base.outgrown))
            twin.__dict__["_base"] = base
        return twin

    def laid_as(self, unit: int) -> Cluster:
        """This cluster whose `placed(gpus)` puts a job of more than `unit` GPUs `unit` a domain, whatever its count
        (a shrunk restart keeping its full job's placement, its Slurm --segment: planning.shrunk_plan, hZ2 77); one
        twin per unit, its placed twins the base's."""
        base = self._base
        if not unit:
            return base
        twin = base._laid_twins.get(unit)
        if twin is None:
            twin = base._laid_twins.setdefault(unit, Cluster(base.system, base.accelerator, base.generic, 0,
                                                             base.outgrown))
            twin.__dict__["_base"], twin.__dict__["_laid_unit"] = base, unit
        return twin

    def check_layout(self, gpus: int) -> None:
        """One InputError line where the job's placement (`network.placement.domains_needed`) needs more scale-up
        domains than this system has (a generic cluster is sized by the job). Only a Slurm --segment placement can:
        any other holds ceil(gpus / domain) at most, within the system once `check_gpus` passed (so an estimate on
        every other system pays one attribute test here: the estimate's hot path)."""
        node = self.system.node
        domain = node.scale_up_domain
        if self.generic or domain <= 1 or node.placement != "slurm_segment":
            return
        why = layout_refusal(self.system.node, gpus, -(-self.total_accelerators // domain), self.name,
                             self.accelerator.device_word)
        if why:
            raise InputError(why)

    @cached_property
    def _base(self) -> Cluster:
        return self  # a placed twin's is set to the cluster it was placed from

    @cached_property
    def _laid_unit(self) -> int:
        return 0  # `laid_as`'s twin: the unit every job beyond it is placed at

    @cached_property
    def _laid_twins(self) -> dict[int, Cluster]:
        return {}

    @cached_property
    def _placed_twins(self) -> dict[int, Cluster]:
        return {}

    @cached_property
    def layout(self) -> ServerLayout:
        """The power chain's view of a server and its fabric."""
        from infraplan.cluster.power import ServerLayout  # lazy: `train` never prices power, so its process loads
        # neither the network bill of materials nor the price and facility catalogs (benchmarks/single_estimate.py)

        return ServerLayout(self.accelerator, self.system, self.generic, self.outgrown)

    @cached_property
    def topology(self) -> ClosTopology:
        """The explicit folded Clos of the whole system (built on first use)."""
        return build_topology(self.system)

    def scaled(self, scale_up: float = 1.0, scale_out: float = 1.0) -> Cluster:
        """What-if: the same cluster with scale-up (NVLink) and scale-out (NIC, switch port) bandwidths scaled."""
        if not (scale_up > 0 and scale_out > 0):
            raise InputError(f"bandwidth factors must be positive, got scale-up {scale_up:g}, scale-out {scale_out:g}")
        eff = self.accelerator.efficiency
        nvls = eff.nvls_all_reduce_bus_bytes_per_s  # NVLS moves its data over the same NVLink: it scales with it
        acc = self.accelerator.model_copy(update={
            "scale_up_bandwidth_bytes_per_s": self.accelerator.scale_up_bandwidth_bytes_per_s * scale_up,
            "scale_out_bandwidth_bytes_per_s": self.accelerator.scale_out_bandwidth_bytes_per_s * scale_out,
            "efficiency": eff if nvls is None else eff.model_copy(
                update={"nvls_all_reduce_bus_bytes_per_s": nvls * scale_up})})
        node = self.system.node.model_copy(update={
            "nic_bandwidth_bytes_per_s": self.system.node.nic_bandwidth_bytes_per_s * scale_out})
        tiers = [t if t.port_bandwidth_bytes_per_s is None else
                 t.model_copy(update={"port_bandwidth_bytes_per_s": t.port_bandwidth_bytes_per_s * scale_out})
                 for t in self.system.network.tiers]
        network = self.system.network.model_copy(update={"tiers": tiers})
        system = self.system.model_copy(update={"node": node, "network": network})
        return Cluster(system, acc, self.generic)


class UnknownSystemError(InputError):
    """A --system naming neither a system nor an accelerator preset (nor a file)."""


def unknown_system_text(ref: str, accelerators: list[str]) -> str:
    """The line for an unknown --system: the did-you-mean over both kinds a --system takes ('h100' suggested
    hgx-h200, not h100-sxm), or every system and the `accelerators` the caller takes."""
    from infraplan.catalog.inference_loader import video_device_line  # lazy: `train` never loads video

    if video := video_device_line(ref, "a system or accelerator"):
        return video
    names = [*list_presets("systems"), *accelerators]
    close = close_names(ref, names)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(names)}"
    return f"unknown system or accelerator {ref!r}; {hint}"


@versioned_cache(maxsize=256)
def _resolve_named(ref: str) -> Cluster:
    """One Cluster per preset name or file path, so its Fabric, layout and topology are derived once a process
    per version of the files it read (a system file, its accelerator file, an `extends` base: `versioned_cache`;
    keyed on the path, a what-if file rewritten in one process gave the first version's cluster).

    The loaders cache the System and Accelerator the same way (`catalog.loader`), so this returns
    what a fresh resolve would; the Cluster is frozen, so sharing it is safe.
    """
    return Cluster._from_name(ref)


def part_ref(ref: str) -> str:
    """The part a name stands for, read the same by every command that takes one (recsys, facility and campus
    `--accelerator`, a fleet-mix or `plan` pool's device, `Cluster.for_accelerator`): `ref` itself where it is an
    accelerator preset or file, else the accelerator its system names (`mtia-400-rack`: mtia-400; hF64, hU67).
    Else a video device's line (hH66) or the part's own error. A system read so keeps its own node
    (`node_system`, `part_of`: hP69)."""
    system = node_system(ref)
    return ref if system is None else system.accelerator


def node_system(ref: str) -> System | None:
    """The system `ref` names where a command reads it as its part (`part_ref`), whose node then prices the part
    (host power, NICs, scale-up domain and its switches: `Cluster.for_accelerator`, `part_of`), as `facility
    --system` and `serve --system` price it: a DGX H100 file of 8 kW of host is 1,000 W a GPU on every command, not
    575 W (the part's reference node) under `recsys`, `facility --accelerator` and `campus` (hC69, hP69). None where
    `ref` is an accelerator preset or file; a video device's line (hH66) or the part's own error where neither."""
    try:
        load_accelerator(ref)
    except InputError as not_part:
        try:
            return read_system(ref)  # (not `Cluster.resolve`: an accelerator file it refused loops back)
        except InputError:
            from infraplan.catalog.inference_loader import video_device_line  # lazy: `train` never loads video

            raise (InputError(line) if (line := video_device_line(ref, "an accelerator")) else not_part) from None
    return None


def read_system(ref: str) -> System:
    """A system preset or file as every command reads it: `load_system`, its node's unstated host power the part's
    host share (`with_stated_host`, hN72; `catalog systems FILE` prints this)."""
    system = load_system(ref)
    return with_stated_host(system, load_accelerator(system.accelerator))


def part_of(ref: str) -> Accelerator:
    """The accelerator `part_ref(ref)` names: a preset's or file's, or a system's part carrying that system's host
    and scale-up switch share per device where its node's differs from the part's own (`host_share`: a user's DGX
    H100 of 8 kW of host, 1,000 W where the part's reference node gives 575 W, hP69; a user's 72-GPU rack of 1.5 kW
    trays of 4 and 3 kW of switch trays, 375 + 41.7 W, hN73; every catalog system's node is its part's)."""
    system = node_system(ref)
    if system is None:
        return load_accelerator(ref)
    part = with_server_price(system, load_accelerator(system.accelerator))  # its file's server price (hC76)
    node = system.node
    share = host_share(part)
    if math.isclose(share.host_w, node_host_share_w(node), rel_tol=1e-9) and \
            math.isclose(share.switch_w, node_switch_share_w(node), rel_tol=1e-9, abs_tol=1e-9):
        return part
    switches = switch_share_line(node)  # its own switches, not the part's reference system's (hN73)
    return part.model_copy(update={
        "host_power_w": node_share_w(node),
        "host_source": f"{NODE_SHARE_LABEL} {system.name}: {node.host_power_w:.5g} W of host for "
                       f"{node.accelerators_per_node} accelerators" + (f", plus {switches}" if switches else "")})


def non_cpu_accelerators() -> list[str]:
    """The accelerator presets a purpose that needs an accelerator takes (`Cluster.require_accelerator` refuses the
    CPUs), for the "known: ..." of an unknown name (read only on that error path: it loads every preset)."""
    return [name for name in list_presets("accelerators") if load_accelerator(name).kind != "cpu"]


def non_cpu_parts() -> list[str]:
    """`non_cpu_accelerators` and the system presets of a non-CPU part: the names `Cluster.for_accelerator` with a
    purpose takes (a system stands for its part since hU67), for its "known: ..." (read only on that error path)."""
    systems = [name for name in list_presets("systems")
               if load_accelerator(load_system(name).accelerator).kind != "cpu"]
    return [*non_cpu_accelerators(), *systems]
