"""The cluster layer: a system resolved once (Cluster), its power chain (power.py) and THE cost model (cost.py)."""

from infraplan.cluster.cluster import Cluster

__all__ = ["Cluster"]
