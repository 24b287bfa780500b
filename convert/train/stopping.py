"""How fer-train stops early: Ctrl-C, and SIGTERM taken as Ctrl-C, end a run with a note of what its run folder
saved and how to go on (each checkpoint is replaced whole, so the folder resumes as it is)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a scheduler, a session's end) raised where Ctrl-C is, so that it stops the same way."""


@contextlib.contextmanager
def sigterm_stops_as_ctrl_c() -> Iterator[None]:
    """Within it SIGTERM raises `Terminated`: the run says what it saved instead of vanishing without a word. Outside
    the main thread (where Python cannot catch signals) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stopped(args: argparse.Namespace, how: str = "Ctrl-C") -> str:
    """What a stop (``how``: Ctrl-C or SIGTERM) left: the epochs saved in the run folder, and how to go on."""
    if args.task == "activity":
        return f"stopped ({how}) before the head was written; run the same command again to start over"
    from convert.train.loop import read_state

    try:
        state = read_state(args.run_dir)
        saved, total = (int(state["epoch"]), int(state["config"]["epochs"])) if state else (0, 0)
    except (ValueError, KeyError, TypeError):
        saved, total = 0, 0
    if not saved:
        return (f"stopped ({how}) before a first epoch was saved in {args.run_dir}; run the same command again to "
                "start over")
    if saved >= total:
        return (f"stopped ({how}) with all {total} epochs saved in {args.run_dir}; run the same command again to "
                "report on the model and export it")
    return (f"stopped ({how}) with {saved} of {total} epochs saved in {args.run_dir} (the epoch under way, if any, "
            f"is lost); run the same command again to resume from epoch {saved + 1}")
