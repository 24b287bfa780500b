"""Native engines' stderr lines turned into Python log records.

LiteRT's C++ core prints ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` on the process's stderr each time
an interpreter allocates its tensors, and has no Python switch for it. Around those calls the file descriptor 2 is
pointed at a temporary file; afterwards each captured line becomes a log record: ``INFO:`` lines at INFO level (shown
by ``fer-analyze -v``), anything else at WARNING level, so a real native error is never swallowed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()  # the descriptor is process-wide: one redirection at a time
_INFO_PREFIX = "INFO: "


@contextlib.contextmanager
def native_stderr_to_log(logger: logging.Logger) -> Iterator[None]:
    """Captures what native code writes to stderr inside the block and logs it through ``logger``."""
    with _LOCK, tempfile.TemporaryFile(mode="w+b") as capture:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr descriptor at all (a detached process): nothing to redirect
            yield
            return
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", "replace").splitlines():
                if line.startswith(_INFO_PREFIX):
                    logger.info("%s", line[len(_INFO_PREFIX):])
                elif line.strip():
                    logger.warning("%s", line)
