"""Read and decode each image of a shard, downscaled to ``extract.max_side``."""

from __future__ import annotations

from raypipe.comic.archives import read_page
from raypipe.config import Config
from raypipe.io.decode import DecodeError, decode_image
from raypipe.pipeline.contract import Stage
from raypipe.pipeline.work import ShardWork, failure


class DecodeStage(Stage):
    """Gives each image's pixels, its original size and the scale (original pixels per decoded
    one); an unreadable file fails at ``read``, a bad image at ``decode``."""

    name = "decode"
    needs = frozenset({"images.image_path"})
    gives = frozenset({"images.pixels", "images.scale", "images.width", "images.height"})

    def __init__(self, config: Config):
        self.max_pixels, self.max_side = config.extract.max_image_pixels, config.extract.max_side

    def process(self, work: ShardWork) -> None:
        count = len(work.images["image_path"])
        columns = {"pixels": [None] * count, "scale": [1.0] * count, "width": [0] * count, "height": [0] * count}
        work.images.update(columns)
        for index in work.live():
            path = work.images["image_path"][index]
            try:
                data = read_page(path)
            except Exception as err:  # noqa: BLE001 - one unreadable input must not stop the run
                work.fail(index, "read", failure(err))
                continue
            try:
                image = decode_image(data, self.max_pixels, self.max_side)
            except DecodeError as err:
                work.fail(index, "decode", str(err))
                continue
            except Exception as err:  # noqa: BLE001
                work.fail(index, "decode", failure(err))
                continue
            columns["pixels"][index], columns["scale"][index] = image.pixels, image.scale
            columns["width"][index], columns["height"][index] = image.width, image.height
