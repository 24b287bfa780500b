"""fer-convert's staging folders inside --out: each names the run that made it (host and process), so that a later
run can remove what a killed one (SIGKILL, a power cut) left behind, and only that."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
from pathlib import Path

log = logging.getLogger("convert.pipeline")


STAGING_PREFIX = ".fer-convert-"  # + host + pid + random: a staging folder names the run that made it


def host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", socket.gethostname())[:40] or "host"


def staging_prefix() -> str:
    return f"{STAGING_PREFIX}{host_tag()}-{os.getpid()}-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OSError, OverflowError):  # a pid this platform cannot signal, or one too large for any: keep the folder
        return True
    return True


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Removes the staging folders that earlier runs on this machine left in ``out_dir`` when they were killed
    (SIGKILL, a power cut) and whose process is gone; warns about those it cannot attribute to a run. Returns
    the removed folders."""
    pattern = re.compile(rf"^{re.escape(STAGING_PREFIX)}(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[^/]+$")
    removed, unknown = [], []
    for folder in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
        if not folder.is_dir() or folder.is_symlink():
            continue
        match = pattern.match(folder.name)
        if match is None:  # named by a fer-convert before staging folders carried their run
            unknown.append(folder)
        elif match["host"] == host_tag() and int(match["pid"]) != os.getpid() and not _process_alive(int(match["pid"])):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
                log.warning("removed %s, left by an earlier fer-convert run (process %s) that was killed",
                            folder, match["pid"])
    if unknown:
        log.warning("%s: staging folder(s) %s may be left by an earlier fer-convert run that was killed; remove "
                    "them when no fer-convert is writing to this folder", out_dir, ", ".join(p.name for p in unknown))
    return removed
