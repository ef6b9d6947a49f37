"""The catalog: accelerators, systems and model shapes as data files with their sources."""

from infraplan.catalog.kernel_fits import DTYPE_BYTES, KernelEfficiency
from infraplan.catalog.loader import list_presets, load_accelerator, load_model, load_system, read_entry
from infraplan.catalog.model_config import TransformerShape, shape_from_hf_config
from infraplan.catalog.schemas import Accelerator, Network, NetworkTier, Node, System

__all__ = [
    "DTYPE_BYTES", "Accelerator", "KernelEfficiency", "Network", "NetworkTier", "Node", "System",
    "TransformerShape", "list_presets", "load_accelerator", "load_model", "load_system", "read_entry",
    "shape_from_hf_config",
]
