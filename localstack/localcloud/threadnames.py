"""The runtime's threads carry their Python names in the OS too (Linux), so that the CPU each
kind of thread uses can be read from ``/proc/<pid>/task/<tid>/comm`` and ``stat`` (the
end-to-end benchmark's ``--cpu-profile`` splits the runtime's process this way)."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

_PR_SET_NAME = 15
_libc: ctypes.CDLL | None = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:  # pragma: no cover - a libc that cannot be loaded: names stay as they are
        _libc = None


def name_os_thread(name: str | None = None) -> None:
    """Give the calling OS thread ``name`` (default: the Python thread's name), cut to the 15
    bytes Linux keeps; a no-op elsewhere."""
    if _libc is None:
        return
    raw = (name or threading.current_thread().name).encode("ascii", "replace")[:15]
    _libc.prctl(_PR_SET_NAME, ctypes.c_char_p(raw), 0, 0, 0)
