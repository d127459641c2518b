import numpy as np
import pytest
from PIL import Image

from ppcls_repro.utils import png


@pytest.mark.parametrize("channels, mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_rows_written_in_bands_decode_to_the_same_image(tmp_path, monkeypatch, channels, mode):
    monkeypatch.setattr(png, "IDAT_BYTES", 1000)  # several IDAT chunks
    image = np.random.default_rng(channels).integers(0, 256, (37, 29, channels), dtype=np.uint8)
    path = tmp_path / "out.png"
    with png.PngRowWriter(path, 29, 37, channels) as writer:
        for start in range(0, 37, 10):
            writer.write(image[start:start + 10])
    with Image.open(path) as decoded:
        assert decoded.mode == mode
        np.testing.assert_array_equal(np.asarray(decoded).reshape(image.shape), image)


def test_a_short_or_wrong_image_leaves_no_file(tmp_path):
    path = tmp_path / "out.png"
    with pytest.raises(ValueError, match="5 of 8 rows written"):
        with png.PngRowWriter(path, 4, 8, 3) as writer:
            writer.write(np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"do not fit 4x3 uint8"):
        with png.PngRowWriter(path, 4, 8, 3) as writer:
            writer.write(np.zeros((2, 4, 1), np.uint8))
    assert list(tmp_path.iterdir()) == []
