"""fer-convert's faces: calibration, validation (agreement with Keras) and test never overlap unless the pool is too
small, and then the manifest says by how much."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runtime.manifest import load_manifest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow", reason="the converter needs TensorFlow (extra 'convert')")


def _data_options(calibration: Path | None, calibration_count: int, validation_count: int, **kwargs):
    from convert.formats import BY_KEY
    from convert.pipeline import ConvertOptions

    return ConvertOptions(formats=(BY_KEY["int8"],), out_dir=Path("unused"), calibration=calibration,
                          calibration_count=calibration_count, validation_count=validation_count, **kwargs)


def test_without_fer2013_validation_faces_are_not_calibration_faces(calibration_npz, caplog):
    from convert.pipeline import _load_data

    with caplog.at_level("WARNING"):
        data = _load_data(_data_options(calibration_npz, 70, 100), calibrated=True, classes=7)
    assert (len(data.calibration), len(data.validation)) == (70, 100)
    assert not set(data.calibration.rows) & set(data.validation.rows)
    assert data.calibration_overlap == 0 and "also calibration faces" not in caplog.text
    assert np.bincount(data.validation.labels).min() >= 14  # still stratified over the classes


def test_a_pool_too_small_for_both_counts_records_the_overlap(calibration_npz, caplog):
    """210 faces for 140 calibration + 210 validation faces: every face verifies, 140 of them also calibrated."""
    from convert.pipeline import _load_data

    with caplog.at_level("WARNING"):
        data = _load_data(_data_options(calibration_npz, 140, 210), calibrated=True, classes=7)
    assert (len(data.calibration), len(data.validation), data.calibration_overlap) == (140, 210, 140)
    assert len(set(data.calibration.rows) & set(data.validation.rows)) == 140
    assert "140 of the 210 validation faces are also calibration faces" in caplog.text


def test_reverifying_holds_out_the_faces_the_build_calibrated_on(calibration_npz):
    from convert.pipeline import _load_data

    built = _load_data(_data_options(calibration_npz, 70, 100), calibrated=True, classes=7)
    again = _load_data(_data_options(calibration_npz, 70, 100, verify_existing=True), calibrated=True, classes=7)
    assert again.calibration is None and again.calibration_overlap == 0
    np.testing.assert_array_equal(again.validation.rows, built.validation.rows)


def test_with_fer2013_calibration_validation_and_test_are_disjoint_splits(tmp_path):
    from convert.pipeline import _load_data
    from tests.fer_csv import write_fer_csv

    csv = write_fer_csv(tmp_path / "fer.csv")
    data = _load_data(_data_options(None, 70, 30, fer2013=csv), calibrated=True, classes=7)
    rows = [set(data.calibration.rows), set(data.validation.rows), set(data.test.rows)]
    assert [len(r) for r in rows] == [70, 30, 35]
    assert not rows[0] & rows[1] and not rows[0] & rows[2] and not rows[1] & rows[2]
    assert data.calibration_overlap is None  # nothing to record: separate splits


def test_the_manifest_says_how_many_validation_faces_were_calibration_faces(converted):
    """The `converted` fixture calibrates on 140 of its 210 faces and verifies on all 210."""
    int8 = load_manifest(converted / "tiny_int8.tflite").verification["keras"]
    assert (int8["n"], int8["calibration_overlap"]) == (210, 140)
    assert "calibration_overlap" not in load_manifest(converted / "tiny_fp32.tflite").verification["keras"]


# ---- --verify-existing ----


def test_the_ferplus_labels_belong_to_the_data_file(tiny_keras, tmp_path, caplog):
    """The shared FER+ labels used to be matched against any --data file's rows (a manifest got FER+ accuracy of
    unrelated faces); a FER+ file must now have one row per data row."""
    from convert.cli import main
    from tests.fer_csv import write_fer_csv

    data = write_fer_csv(tmp_path / "mine.csv", {"Training": 70, "PublicTest": 21, "PrivateTest": 21})
    args = [str(tiny_keras), "--int8", "--data", str(data), "--calibration-count", "40", "--validation-count", "21",
            "-q"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0  # the shared labels, if any, are not used for it
    assert "ferplus" not in load_manifest(tmp_path / "a" / "tiny_int8.tflite").verification["privatetest"]
    short = tmp_path / "ferplus.csv"
    short.write_text("ferplus_majority\n" + "Happy\n" * 100)
    with caplog.at_level("ERROR"):
        assert main([*args, "--out", str(tmp_path / "b"), "--ferplus", str(short)]) == 2
    assert f"{short} has 100 rows but {data} has 112" in caplog.text and not (tmp_path / "b").exists()
    short.write_text("ferplus_majority\n" + "Happy\n" * 112)
    assert main([*args, "--out", str(tmp_path / "c"), "--ferplus", str(short)]) == 0
    assert load_manifest(tmp_path / "c" / "tiny_int8.tflite").verification["privatetest"]["ferplus"]["n"] == 21
