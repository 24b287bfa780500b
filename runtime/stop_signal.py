"""Ctrl-C and SIGTERM as a request to stop where it is safe, so that a long run still writes what it analyzed.

``fer-analyze 0`` (a webcam) has no end but Ctrl-C: a KeyboardInterrupt raised inside the engines lost every result.
Within ``StopOnSignal`` the first SIGINT or SIGTERM is only recorded; the work asks ``reason()`` between frames and
stops there. A second signal stops at once (KeyboardInterrupt), for a run that must not wait for a slow frame.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType, TracebackType

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopOnSignal:
    """A context in which SIGINT and SIGTERM ask the work to stop. Outside the main thread (where Python cannot
    catch signals) it changes nothing and ``reason()`` stays None."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum
        log.warning("%s: stopping after the current frame; the outputs keep what was analyzed (again to quit at "
                    "once, writing nothing)", signal.Signals(signum).name)

    def reason(self) -> str | None:
        """Why the work should stop ("stopped by SIGINT"), or None while no signal came."""
        return None if self.signal is None else f"stopped by {signal.Signals(self.signal).name}"

    @property
    def exit_code(self) -> int:
        """0 without a signal, else 128 + its number (130 for Ctrl-C, 143 for SIGTERM), as shells report it."""
        return 0 if self.signal is None else 128 + self.signal
