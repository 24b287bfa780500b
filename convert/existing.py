"""`fer-convert --verify-existing`: re-measuring shipped files is allowed only for the files fer-convert wrote, from
the Keras model given. A file swapped or edited since (another precision, another model's file) is refused, never
re-signed: the runtime trusts a manifest's sha256."""

from __future__ import annotations

from pathlib import Path

from convert.formats import BY_KEY, ExportFormat
from runtime.manifest import Manifest, load_manifest, manifest_path, sha256_of


def existing_manifest(path: Path, fmt: ExportFormat) -> Manifest:
    """The manifest of a file to re-verify, once the file is shown to be the one it describes (for
    --verify-existing).

    Raises:
        FileNotFoundError: the file or its manifest is missing. ValueError: the manifest is unreadable, describes
        another format, or the file changed since fer-convert wrote it.
    """
    if not path.is_file():
        raise FileNotFoundError(f"--verify-existing: {path} not found")
    manifest = load_manifest(path)
    if (manifest.format, manifest.precision) != (fmt.engine, fmt.precision):
        raise ValueError(f"--verify-existing: {manifest_path(path).name} describes a {manifest.format} "
                         f"{manifest.precision} file, not {fmt.engine} {fmt.precision} ({fmt.key}): {path} is not "
                         "the file fer-convert wrote under that name")
    check_unchanged(path, manifest, path)
    return manifest


def check_unchanged(path: Path, manifest: Manifest, shown_as: Path) -> None:
    """Refuses ``path`` unless its size and sha256 are the ones ``manifest`` records (``shown_as`` names it)."""
    record = manifest.file
    if not record.get("sha256") or not isinstance(record.get("bytes"), int):
        raise ValueError(f"--verify-existing: {manifest_path(shown_as).name} records no size and sha256 for "
                         f"{shown_as.name}, so it cannot be shown to be the file fer-convert wrote: re-convert it")
    size, digest = path.stat().st_size, sha256_of(path)
    if size != record["bytes"] or digest != str(record["sha256"]).lower():
        raise ValueError(f"--verify-existing: {shown_as} changed since fer-convert wrote it ({size} bytes, sha256 "
                         f"{digest}; its manifest {manifest_path(shown_as).name} records {record['bytes']} bytes, "
                         f"sha256 {record['sha256']}): re-convert it instead of re-verifying it")


def check_same_source(previous: dict[str, Manifest], existing: dict[str, Path], model_path: Path) -> None:
    """Refuses to re-verify files whose manifests name another Keras model than ``model_path``."""
    digest = sha256_of(model_path)
    for key, manifest in previous.items():
        recorded = manifest.source.get("sha256")
        if not recorded:
            raise ValueError(f"--verify-existing: {manifest_path(existing[key]).name} records no source sha256, so "
                             f"{existing[key].name} cannot be shown to be converted from {model_path.name}")
        if str(recorded).lower() != digest:
            raise ValueError(f"--verify-existing: {existing[key]} was converted from another model: its manifest "
                             f"names {manifest.source.get('name')} (sha256 {recorded}), not {model_path.name} "
                             f"(sha256 {digest})")


FED_BY = ("task", "labels", "input_size", "color", "normalization")  # how the runtime feeds a file and reads it


def check_same_input(previous: dict[str, Manifest], existing: dict[str, Path], source: Manifest) -> None:
    """Refuses a re-verification that would change how the runtime feeds a file or names its outputs (a new
    ``--scale``, ``--labels``...): the file was built for what its manifest says; re-converting changes that."""
    for key, manifest in previous.items():
        changed = [name for name in FED_BY if getattr(manifest, name) != getattr(source, name)]
        if changed:
            was = "; ".join(f"{name} {getattr(manifest, name)}" for name in changed)
            now = "; ".join(f"{name} {getattr(source, name)}" for name in changed)
            raise ValueError(f"--verify-existing: {manifest_path(existing[key]).name} records {was}, this run would "
                             f"write {now}: re-verifying keeps how the runtime feeds the file; re-convert it to "
                             "change that")


def check_same_calibration(previous: dict[str, Manifest], existing: dict[str, Path], source: str,
                           held_out: int) -> None:
    """Refuses to re-verify a calibrated file on agreement faces drawn from a calibration pool (no FER-2013) unless
    the faces held out of them, ``held_out`` of ``source``, are the ones it was calibrated on: with another pool or
    --calibration-count its agreement would be measured partly on its own calibration faces, unnoticed."""
    for key, manifest in previous.items():
        if not BY_KEY[key].calibrated:
            continue
        recorded = manifest.extra.get("calibration")
        was = (Path(str(recorded.get("source"))).name, recorded.get("count")) if isinstance(recorded, dict) else None
        if was != (Path(source).name, held_out):
            said = f"calibration on {was[1]} faces of {was[0]}" if was else "no calibration"
            raise ValueError(f"--verify-existing: {manifest_path(existing[key]).name} records {said}, this run "
                             f"would hold {held_out} faces of {Path(source).name} out of the agreement faces: give "
                             f"the --calibration and --calibration-count {existing[key].name} was converted with, "
                             "so that it is not measured on the faces it was calibrated on")
