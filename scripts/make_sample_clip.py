"""Write the synthetic test clip, whose true optical flow is known, as PNG frames and truth.npz:
python scripts/make_sample_clip.py OUT_FOLDER [--frames 24] [--height 250] [--width 333] [--static]

The frames pan and zoom across the bundled photograph with a sprite sliding the other way (see
``tf1cnn.style_transfer.tools.sample_clip``); truth.npz holds the backward flows, the visibility and
the sprite masks.
"""
from __future__ import annotations

import argparse
import os
import sys

from tf1cnn.common import images, options, samples
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.tools import sample_clip


def positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, found {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    # A UsageParser, parsed inside guarded: every refusal is one "error:" line and exit 2, as
    # in the tools, not argparse's usage block.
    parser = options.UsageParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("out_folder", help="folder for frame_00001.png... and truth.npz")
    parser.add_argument("--frames", type=positive, default=24, help="number of frames")
    parser.add_argument("--height", type=positive, default=250, help="frame height in pixels")
    parser.add_argument("--width", type=positive, default=333, help="frame width in pixels")
    parser.add_argument("--static", action="store_true",
                        help="repeat the first frame: zero motion")
    return options.guarded(lambda: write(parser.parse_args(argv)))


def write(args: argparse.Namespace) -> int:
    """Check the folder, draw the clip the options describe and write it."""
    if os.path.exists(args.out_folder) and not os.path.isdir(args.out_folder):
        raise UsageError(f"{args.out_folder} exists and is not a folder")
    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT), "sample")
    try:
        clip = sample_clip.make(photo, frames=args.frames, height=args.height,
                                width=args.width, static=args.static)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    paths = sample_clip.write_folder(clip, args.out_folder)
    print(f"wrote {len(paths) - 1} frames of {args.height} x {args.width}"
          f"{' (static)' if args.static else ''} and truth.npz to {args.out_folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
