import numpy as np
import pytest

from raypipe.io.decode import DecodeError, decode_image
from tests.badinputs import make_bad_inputs
from tests.conftest import SAMPLE_PHOTOS

FACE_PHOTO = SAMPLE_PHOTOS / "obama" / "face_recognition_knn_train_obama.jpg"
LIMIT = 100_000_000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    return folder, make_bad_inputs(folder, FACE_PHOTO)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("corrupt.jpg", "corrupt|not an image"),
        ("truncated.jpg", "corrupt or truncated"),
        ("empty.png", "empty file"),
        ("not_an_image.jpg", "not an image"),
        ("bomb.png", "too large"),
    ],
)
def test_bad_files_give_a_reason(corpus, name, reason):
    folder, _ = corpus
    with pytest.raises(DecodeError, match=reason):
        decode_image((folder / name).read_bytes(), LIMIT, 2400)


@pytest.mark.parametrize(
    "name", ["cmyk.jpg", "grey16.png", "alpha.png", "animated.gif", "format.webp", "format.bmp", "format.tiff"]
)
def test_awkward_formats_become_rgb(corpus, name):
    folder, _ = corpus
    image = decode_image((folder / name).read_bytes(), LIMIT, 2400)
    assert image.pixels.dtype == np.uint8 and image.pixels.shape[2] == 3
    assert image.pixels.std() > 10  # real content, not a blank frame


def test_exif_rotation_is_applied(corpus):
    folder, _ = corpus
    upright = decode_image(FACE_PHOTO.read_bytes(), LIMIT, 2400)
    rotated = decode_image((folder / "exif_rotated.jpg").read_bytes(), LIMIT, 2400)
    assert rotated.pixels.shape == upright.pixels.shape
    assert (rotated.width, rotated.height) == (upright.width, upright.height)


def test_large_images_are_downscaled_with_their_scale(corpus):
    image = decode_image(FACE_PHOTO.read_bytes(), LIMIT, 300)
    assert max(image.pixels.shape[:2]) <= 300
    assert image.scale == pytest.approx(image.width / image.pixels.shape[1])


def test_an_unexpected_decoder_exception_is_this_files_decode_error(monkeypatch):
    """A crafted file can make a decoder raise anything; it must stay that file's error."""
    from raypipe.io import decode

    def crash(image):
        raise ZeroDivisionError("crafted palette")

    monkeypatch.setattr(decode, "_to_rgb", crash)
    with pytest.raises(DecodeError, match=r"unreadable image \(ZeroDivisionError: crafted palette\)"):
        decode_image(FACE_PHOTO.read_bytes(), LIMIT, 2400)
