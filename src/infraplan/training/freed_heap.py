"""The search's grid temporaries kept in the process heap (glibc malloc tuning): a search allocates and frees a few
dozen ~1-8 MB float64 grids per block, which glibc would otherwise return to the kernel and fault in again
(`keep_freed_heap`: mallopt(3) M_MMAP_THRESHOLD / M_TRIM_THRESHOLD).
"""

from __future__ import annotations

import ctypes

# glibc malloc: keep up to this many freed bytes in the heap, and serve blocks below 32 MiB from it (see
# `keep_freed_heap`)
KEEP_FREED_HEAP_BYTES = 256 << 20
_HEAP_MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's largest mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX)
_HEAP_KEPT: list[bool] = []  # set once per process


def keep_freed_heap() -> None:
    """Let the search's grid temporaries come back from the heap instead of fresh zeroed pages (glibc only; once).

    A search allocates and frees a few dozen (ZeRO, pairs, rows) float64 grids of ~1-8 MB per block. glibc serves
    such blocks by mmap until one is freed, then from the heap, but trims the heap top back to the kernel once
    more than twice the largest freed block is free (mallopt(3), M_MMAP_THRESHOLD / M_TRIM_THRESHOLD dynamic
    adjustment), so every search faulted its ~30 MB of temporaries in again: ~5,700 page faults and a quarter of
    GPT-3's search time (CPU seconds, 4,096 H100: 37 ms -> 26 ms with the heap kept; peak RSS unchanged, 90 MB).
    Fixing both thresholds keeps up to KEEP_FREED_HEAP_BYTES of freed memory for the next grid (process-wide: a
    process that searched holds its peak heap). Elsewhere (no glibc) nothing changes.
    """
    if _HEAP_KEPT:
        return
    _HEAP_KEPT.append(True)
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        gnu = bool(libc.gnu_get_libc_version)  # glibc's own symbol: another libc's mallopt takes other codes
    except (OSError, AttributeError, TypeError):  # no C library by that name (Windows), or not glibc's
        return
    if gnu:
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc malloc.h
        mallopt(m_mmap_threshold, _HEAP_MMAP_THRESHOLD_BYTES)
        mallopt(m_trim_threshold, KEEP_FREED_HEAP_BYTES)
