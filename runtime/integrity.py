"""Is a model file the one its manifest describes? Its size and sha256 against the manifest's ``file`` record.

A model file that was overwritten, truncated or swapped still loads and gives plausible probabilities (seen: 200 KB
overwritten, accuracy from 66.6% to 62.8%, no error), so the runtime checks the hash when it opens a model. Hashes
are cached by path, size and modification time: a process that opens the same model many times hashes it once.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from runtime.manifest import Manifest, manifest_path, sha256_of

log = logging.getLogger(__name__)

SKIP_ENV = "FER_EDGE_SKIP_MODEL_HASH"  # "1": do not check model files against their manifests (edited on purpose)

_cache: dict[tuple[str, int, int], str] = {}
_cache_lock = threading.Lock()
_unchecked_said: set[str] = set()  # the files whose missing hash was already reported, once per process


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file, cached by (resolved path, size, modification time)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    digest = sha256_of(resolved)
    with _cache_lock:
        _cache[key] = digest
    return digest


def hash_check_disabled() -> bool:
    """True when ``$FER_EDGE_SKIP_MODEL_HASH`` is set to 1/true/yes."""
    return os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes")


def check_model_file(path: str | Path, manifest: Manifest, enabled: bool = True) -> None:
    """Checks ``path`` against ``manifest.file`` (size first, then sha256).

    Nothing is checked when ``enabled`` is False, when ``$FER_EDGE_SKIP_MODEL_HASH`` is set, or when the manifest
    records no hash (a manifest written by hand for a third-party model: a warning, once per file and process).

    Raises:
        ValueError: the file's size or hash differs from the manifest's, naming both.
    """
    if not enabled or hash_check_disabled():
        return
    path = Path(path)
    record = manifest.file  # a dict: the Manifest refuses anything else
    expected = record.get("sha256")
    if not expected:
        _unchecked(path, manifest_path(path).name)
        return
    advice = (f"the file was changed or replaced after fer-convert wrote it. Re-convert it, or, if you edited it "
              f"on purpose, open it with verify_hash=False (fer-analyze --no-verify-model, or {SKIP_ENV}=1)")
    size = path.stat().st_size
    if isinstance(record.get("bytes"), int) and record["bytes"] != size:
        raise ValueError(f"{path} has {size} bytes but its manifest {manifest_path(path).name} says "
                         f"{record['bytes']}: {advice}")
    actual = file_sha256(path)
    if actual != str(expected).lower():
        raise ValueError(f"{path} has sha256 {actual} but its manifest {manifest_path(path).name} says "
                         f"{expected}: {advice}")


def _unchecked(path: Path, manifest_name: str) -> None:
    """Warns, once per file, that its manifest gives no hash to check it against."""
    key = str(path.resolve())
    with _cache_lock:
        if key in _unchecked_said:
            return
        _unchecked_said.add(key)
    log.warning("%s records no sha256 for %s, so a changed or replaced file cannot be noticed; add the file's "
                "sha256 (and bytes) to the manifest's \"file\" record", manifest_name, path.name)
