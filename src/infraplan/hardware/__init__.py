"""Accelerator performance: GEMM, attention and memory-bound kernels from shapes and catalog data."""

from infraplan.hardware.kernels import KernelRates, attention_time, gemm_time, memory_bound_time

__all__ = ["KernelRates", "attention_time", "gemm_time", "memory_bound_time"]
