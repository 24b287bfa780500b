"""fer-analyze reads an image file (runtime.cli_inputs) as `cv2.imread` gives it to API users: upright by its EXIF
orientation, 16-bit images scaled to 8 bits, not stretched per image."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from runtime.cli_inputs import read_image


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 Exif segment whose one tag is the orientation (0x0112), as a phone writes it."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd
    payload = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def test_a_photo_is_turned_upright_by_its_exif_orientation(tmp_path):
    raw = np.zeros((20, 40, 3), np.uint8)  # wider than high as stored; 6 = shown turned a quarter clockwise
    raw[:, :20] = 255  # its left half white
    path = tmp_path / "phone.jpg"
    path.write_bytes(_with_exif_orientation(cv2.imencode(".jpg", raw)[1].tobytes(), 6))
    image = read_image(path)
    assert image.shape == (40, 20, 3)
    assert image[:18].mean() > 200 and image[22:].mean() < 50  # the stored left half is on top
    np.testing.assert_array_equal(image, cv2.imread(str(path)))  # what the API's users get


def test_16_bit_images_are_scaled_to_8_bits_not_stretched(tmp_path):
    gray = np.full((8, 8), 64 * 257, np.uint16)  # a dim image: a quarter of the range
    gray[0, 0] = 0
    path = tmp_path / "dim16.png"
    assert cv2.imwrite(str(path), gray)
    image = read_image(path)
    assert image.dtype == np.uint8 and image.shape == (8, 8) and image[1, 1] == 64 and image[0, 0] == 0


def test_an_image_with_transparency_reads_as_its_colours(tmp_path):
    bgra = np.zeros((6, 6, 4), np.uint8)
    bgra[..., 2], bgra[..., 3] = 200, 128  # red, half transparent
    path = tmp_path / "alpha.png"
    assert cv2.imwrite(str(path), bgra)
    image = read_image(path)
    assert image.shape == (6, 6, 3) and image[..., 2].min() == 200


def test_a_file_that_is_not_an_image_is_named(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not an image")
    with pytest.raises(ValueError, match=r"notes.jpg: not a readable image file"):
        read_image(path)
