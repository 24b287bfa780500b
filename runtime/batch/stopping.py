"""A stop asked for by a signal, carried out where it is safe.

A signal handler that raises runs between any two bytecodes of the main thread, also inside
``concurrent.futures`` while it holds its internal locks; the pool's shutdown that the exception then runs waits for
those locks forever (a SIGTERM during ``submit`` hung fer-batch so). So the handler only records the request, and
the engines call ``check`` where no lock is held: between results, and every ``CHECK_S`` while they wait for one.
"""

from __future__ import annotations

import threading

CHECK_S = 0.25

_requested = threading.Event()
_code = [0]


def request(code: int) -> None:
    """Asks the running batch to stop with exit code ``code`` (safe to call from a signal handler)."""
    _code[0] = code
    _requested.set()


def check() -> None:
    """Raises SystemExit with the requested code when a stop was asked for."""
    if _requested.is_set():
        _requested.clear()
        raise SystemExit(_code[0])
