"""The face-mesh model on real photos: points on the face, in anatomical order, and rotating with the photo."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from runtime.analyzer import Analyzer, AnalyzerOptions
from runtime.detection import DetectorOptions, create_detector
from runtime.landmarks import FaceLandmarker, roi_from_detection
from runtime.paths import face_landmark_model
from tests.conftest import REPO

ROTATION_DEGREES = 30
ROTATION_PIXELS = 0.06  # mapped points of the rotated photo within this fraction of the face size of the rotated ones
EYES, MOUTH, NOSE = (33, 133, 263, 362), (61, 291, 13, 14), 1
MEDIA = REPO.parent / "shared" / "data" / "media" / "photos"


@pytest.fixture(scope="module")
def models():
    with create_detector(DetectorOptions()) as detector, FaceLandmarker() as landmarker:
        yield detector, landmarker


def _mesh(models, frame):
    detector, landmarker = models
    detections = detector.detect(frame)
    assert detections, "no face found"
    d = detections[0]
    roi = roi_from_detection((d.box.x, d.box.y, d.box.width, d.box.height), d.keypoints)
    return d, landmarker.landmarks(frame, roi)


def _check_face(detection, mesh):
    box = detection.box
    assert mesh.score > 0.9
    assert mesh.points.shape == (468, 3) and np.isfinite(mesh.points).all()
    margin = 0.35 * box.width  # the mesh reaches the forehead and chin, a little beyond BlazeFace's box
    inside = ((mesh.points[:, 0] > box.x - margin) & (mesh.points[:, 0] < box.x + box.width + margin)
              & (mesh.points[:, 1] > box.y - margin) & (mesh.points[:, 1] < box.y + box.height + margin))
    assert inside.all()
    for eye in EYES:  # upright photos: eyes above the nose tip, the nose tip above the mouth
        assert mesh.points[eye, 1] < mesh.points[NOSE, 1] < max(mesh.points[m, 1] for m in MOUTH) + 1
    assert mesh.points[33, 0] < mesh.points[263, 0]  # the person's right eye is on the image's left
    # the mesh's eye corners lie near BlazeFace's eye keypoints
    eye_centre = (mesh.points[33, :2] + mesh.points[133, :2]) / 2
    assert np.linalg.norm(eye_centre - detection.keypoints[0]) < 0.12 * box.width


def test_model_is_found_through_paths():
    assert face_landmark_model().is_file()
    assert face_landmark_model().parent.name == "face_mesh"


def test_sample_photo(models, photo):
    _check_face(*_mesh(models, photo))


@pytest.mark.data
@pytest.mark.parametrize("name", ["fr_obama.jpg", "fr_biden.jpg", "skimage_astronaut.png"])
def test_shared_photos(models, name):
    path = MEDIA / name
    if not path.is_file():
        pytest.skip(f"shared photo {path} not found (../shared/data)")
    _check_face(*_mesh(models, cv2.imread(str(path))))


@pytest.mark.parametrize("degrees", [ROTATION_DEGREES, -ROTATION_DEGREES])
def test_points_rotate_with_the_photo(models, photo, degrees):
    detection, upright = _mesh(models, photo)
    height, width = photo.shape[:2]
    centre = (width / 2, height / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    rotated = cv2.warpAffine(photo, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    _, turned = _mesh(models, rotated)
    expected = upright.points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    error = np.linalg.norm(turned.points[:, :2] - expected, axis=1)
    assert np.median(error) < ROTATION_PIXELS * detection.box.width
    eye_line = turned.points[263, :2] - turned.points[33, :2]
    assert math.degrees(math.atan2(-eye_line[1], eye_line[0])) == pytest.approx(
        degrees + math.degrees(math.atan2(-(upright.points[263, 1] - upright.points[33, 1]),
                                          upright.points[263, 0] - upright.points[33, 0])), abs=4)


def test_analyzer_landmarks_are_opt_in(converted, photo):
    model = converted / "tiny_int8.tflite"
    with Analyzer.from_model_path(model) as plain:
        face = plain.analyze(photo)[0]
        assert face.landmarks is None and face.landmark_score is None
        assert "landmarks" not in face.to_dict() and plain.faces._landmarker is None
    with Analyzer.from_model_path(model, landmarks=True) as marked:
        face = marked.analyze(photo)[0]
        assert face.landmarks.shape == (468, 3) and not face.landmarks.flags.writeable
        assert face.landmark_score > 0.9
        data = face.to_dict()
        assert len(data["landmarks"]) == 468 and data["landmark_score"] == face.landmark_score
        assert np.isfinite(np.asarray(data["landmarks"])).all()


def test_facial_activity_needs_landmarks():
    with pytest.raises(ValueError, match="landmarks"):
        AnalyzerOptions(landmarks=False)
    with pytest.raises(ValueError, match="expressiveness"):
        AnalyzerOptions(expressiveness="loud")
    with pytest.raises(ValueError, match="redetect_every"):
        AnalyzerOptions(redetect_every=0)


def test_mediapipe_reference_is_not_imported_at_run_time(photo, converted):
    import sys

    with Analyzer.from_model_path(converted / "tiny_int8.tflite", landmarks=True) as analyzer:
        analyzer.analyze(photo)
    assert "mediapipe" not in sys.modules or "runtime.detection.mediapipe_engine" in sys.modules


def test_rolled_faces_are_levelled_before_the_emotion_crop(converted, photo):
    """The sample photo turned by 30 degrees: the levelled emotion crop looks like the upright one; the axis-aligned
    crop of the same face does not (LEVEL_BEYOND_DEGREES; an upright face's crop is unchanged)."""
    height, width = photo.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), ROTATION_DEGREES, 1.0)
    rotated = cv2.warpAffine(photo, turn, (width, height), borderMode=cv2.BORDER_REFLECT)

    def small(crop: np.ndarray) -> np.ndarray:
        return cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), (48, 48), interpolation=cv2.INTER_AREA).ravel()

    model = converted / "tiny_int8.tflite"
    with Analyzer.from_model_path(model) as levelled, Analyzer.from_model_path(model, level_faces=False) as plain:
        upright = small(levelled.crop_face(photo))
        assert np.array_equal(upright, small(plain.crop_face(photo)))
        similar = np.corrcoef(upright, small(levelled.crop_face(rotated)))[0, 1]
        unlevelled = np.corrcoef(upright, small(plain.crop_face(rotated)))[0, 1]
    assert similar > unlevelled + 0.1
