"""Give a large build's freed memory back to the system as it goes (glibc only; elsewhere nothing to do)."""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["building", "give_back"]

M_TRIM_THRESHOLD = -1
"""glibc's mallopt parameter: free heap above this much at the top is returned at once."""
M_MMAP_THRESHOLD = -3
"""glibc's mallopt parameter: allocations from this size get their own mapping, unmapped when freed."""
BUILD_MMAP_THRESHOLD = 2 * 1024 * 1024
"""Kept fixed while building: a build's large arrays go back when freed (smaller: slower, no less memory)."""
SERVE_MMAP_THRESHOLD = 32 * 1024 * 1024
"""glibc's own ceiling on 64-bit, where it would rise to anyway: a question's arrays reuse the heap."""
SERVE_TRIM_THRESHOLD = 2 * SERVE_MMAP_THRESHOLD
"""What glibc's own rule makes it beside that: setting one threshold stops glibc moving the other,
and at its default (128 KB) every question would give back its arrays' heap and fault it in again."""


def _libc() -> Any | None:
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018 (present: glibc)
    except (OSError, AttributeError, TypeError):  # TypeError: no CDLL(None) on Windows
        return None
    return libc


def give_back() -> None:
    """Return the heap's free pages to the system (glibc keeps them for later use otherwise)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@contextlib.contextmanager
def building() -> Iterator[None]:
    """Hold a build: its large temporaries are unmapped when freed, and free heap is returned at the end.

    glibc raises its mapping threshold each time a mapped block is freed, so a build's later
    large temporaries come from the heap and stay resident beside the ones in use
    (docs/performance.md: the first build's peak at 100,000 passages).
    """
    libc = _libc()
    set_threshold: Callable[[int, int], int] = libc.mallopt if libc is not None else (lambda _p, _v: 0)
    set_threshold(M_MMAP_THRESHOLD, BUILD_MMAP_THRESHOLD)
    try:
        yield
    finally:
        set_threshold(M_MMAP_THRESHOLD, SERVE_MMAP_THRESHOLD)
        set_threshold(M_TRIM_THRESHOLD, SERVE_TRIM_THRESHOLD)
        give_back()
