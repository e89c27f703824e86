"""Make a run folder from a labelled folder of pre-cropped faces (one face per image).

python bench/make_labelled_run.py ../shared/data/anime runs/anime --size 128
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from raypipe.testing.labelled import make_labelled_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--limit-per-label", type=int)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    make_labelled_run(args.root, args.out, args.size, args.limit_per_label)


if __name__ == "__main__":
    main()
