"""The FER-2013 loader and the calibration sources: good files, malformed rows named by line, the real file."""

from __future__ import annotations

import numpy as np
import pytest

from convert.data.calibration import CalibrationDataError, load_faces, stratified_sample
from convert.data.fer2013 import MalformedDataError, load_fer2013, load_ferplus_majority
from convert.data.paths import default_fer2013, default_ferplus
from tests.fer_csv import HEADER, write_fer_csv
from tests.synthetic import synthetic_faces

PIXELS = " ".join(["7"] * 2304)


@pytest.mark.parametrize("name", ["fer.csv", "fer.csv.gz"])
def test_reads_splits_images_and_labels(tmp_path, name):
    path = write_fer_csv(tmp_path / name)
    data = load_fer2013(path)
    assert {k: len(v) for k, v in data.items()} == {"Training": 140, "PublicTest": 35, "PrivateTest": 35}
    images, labels = synthetic_faces(140, seed=0)
    np.testing.assert_array_equal(data["Training"].images, images)
    np.testing.assert_array_equal(data["Training"].labels, labels)
    assert data["PublicTest"].rows[0] == 140  # row numbers index the whole file (for FER+ labels)


def test_reads_only_the_splits_asked_for(tmp_path):
    data = load_fer2013(write_fer_csv(tmp_path / "fer.csv"), ("PrivateTest",))
    assert list(data) == ["PrivateTest"] and len(data["PrivateTest"]) == 35
    with pytest.raises(ValueError, match="unknown FER-2013 split"):
        load_fer2013(tmp_path / "fer.csv", ("Validation",))


@pytest.mark.parametrize(("row", "message"), [
    (f"0,{PIXELS[:-2]},Training", "line 3: pixels must be 2304"),
    (f"0,{PIXELS} 7,Training", "line 3: pixels must be 2304"),
    (f"0,{PIXELS.replace('7', 'x', 1)},Training", "line 3: pixels must be 2304"),
    (f"0,{PIXELS.replace('7', '300', 1)},Training", "line 3: pixel values must lie in 0..255"),
    (f"9,{PIXELS},Training", "line 3: emotion must be an integer 0..6"),
    (f"a,{PIXELS},Training", "line 3: emotion must be an integer 0..6"),
    (f"0,{PIXELS},Validation", "line 3: Usage must be one of"),
    (f"0,{PIXELS}", "line 3: expected 3 fields"),
])
def test_malformed_row_names_the_line_and_problem(tmp_path, row, message):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + f"1,{PIXELS},Training\n" + row + "\n")
    with pytest.raises(MalformedDataError, match=message):
        load_fer2013(path)


def test_bad_header_missing_and_corrupt_files(tmp_path):
    (tmp_path / "h.csv").write_text("label,image,split\n")
    with pytest.raises(MalformedDataError, match="line 1: header"):
        load_fer2013(tmp_path / "h.csv")
    with pytest.raises(FileNotFoundError):
        load_fer2013(tmp_path / "none.csv.gz")
    (tmp_path / "c.csv.gz").write_bytes(b"\x1f\x8b\x08 not really gzip")
    with pytest.raises(MalformedDataError, match="cannot be read"):
        load_fer2013(tmp_path / "c.csv.gz")


def test_stratified_sample_balances_classes_and_is_repeatable(tmp_path):
    faces = load_fer2013(write_fer_csv(tmp_path / "fer.csv"))["Training"]
    sample = stratified_sample(faces, 70, seed=3)
    assert len(sample) == 70 and np.bincount(sample.labels).tolist() == [10] * 7
    np.testing.assert_array_equal(sample.rows, stratified_sample(faces, 70, seed=3).rows)
    assert len(stratified_sample(faces, 10_000, seed=0)) == len(faces)


def test_calibration_from_an_image_folder(tmp_path):
    import cv2

    images, _ = synthetic_faces(3)
    for i, image in enumerate(images):
        cv2.imwrite(str(tmp_path / f"{i}.png"), image)
    faces = load_faces(tmp_path)
    assert len(faces) == 3 and faces.images[0].shape == (48, 48, 3)
    (tmp_path / "3.png").write_bytes(b"nope")
    with pytest.raises(CalibrationDataError, match=r"3\.png is not a readable image"):
        load_faces(tmp_path)


def test_calibration_source_of_unknown_type(tmp_path):
    (tmp_path / "faces.txt").write_text("x")
    with pytest.raises(CalibrationDataError, match="must be a FER-2013"):
        load_faces(tmp_path / "faces.txt")


@pytest.mark.data
def test_the_real_fer2013_file():
    path = default_fer2013()
    if path is None:
        pytest.skip("FER-2013 not found: set FER2013_CSV or FER_EDGE_DATA, or put ../shared/data beside the project")
    data = load_fer2013(path)
    assert {k: len(v) for k, v in data.items()} == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}
    assert np.bincount(data["Training"].labels).tolist() == [3995, 436, 4097, 7215, 4830, 3171, 4965]
    ferplus = default_ferplus()
    if ferplus is not None:
        majority = load_ferplus_majority(ferplus)
        assert len(majority) == 35887
        assert int((majority[data["PrivateTest"].rows] >= 0).sum()) == 3137


@pytest.mark.parametrize(("arrays", "message"), [
    ({"images": np.array(3, np.uint8)}, r"'images' must be uint8 \(N, H, W\) or \(N, H, W, 1 or 3\), got uint8 \(\)"),
    ({"images": np.zeros((3, 48, 48, 5), np.uint8)}, r"got uint8 \(3, 48, 48, 5\)"),
    ({"images": np.zeros((3, 0, 48), np.uint8)}, "'images' are empty"),
    ({"labels": np.eye(7)[np.arange(3)]}, r"one class index per image, shape \(3,\), got shape \(3, 7\) \(one-hot"),
    ({"labels": np.array([0, 1])}, "2 labels for 3 images"),
    ({"labels": np.array(["happy", "sad", "angry"])}, "whole-number class indices, got <U5 values"),
    ({"labels": np.array([0.0, np.nan, 1.0])}, "whole-number class indices, found nan"),
    ({"labels": np.array([0.0, 2.5, 1.0])}, "whole-number class indices, found 2.5"),
    ({"labels": np.array([0, 7, 1])}, r"class indices 0\.\.6, found 7"),
    ({"labels": np.array([0, -3, 1])}, r"class indices 0\.\.6, found -3"),
], ids=["0-d-images", "5-channels", "empty-images", "one-hot", "count", "strings", "nan", "fraction", "too-big",
        "negative"])
def test_malformed_npz_names_the_file_and_the_problem(tmp_path, arrays, message):
    path = tmp_path / "faces.npz"
    np.savez(path, **{"images": np.zeros((3, 48, 48), np.uint8), **arrays})
    with pytest.raises(CalibrationDataError, match=message) as error:
        load_faces(path, classes=7)
    assert str(path) in str(error.value)


def test_npz_labels_may_be_whole_floats_and_images_may_have_a_channel(tmp_path):
    path = tmp_path / "faces.npz"
    np.savez(path, images=np.zeros((3, 48, 48, 3), np.uint8), labels=np.array([2.0, 0.0, 6.0]))
    faces = load_faces(path, classes=7)
    assert faces.labels.tolist() == [2, 0, 6] and faces.labels.dtype == np.int64
    np.savez(path, images=np.zeros((2, 48, 48, 1), np.uint8))
    assert load_faces(path).labels.tolist() == [-1, -1]  # no labels: one unlabelled class
