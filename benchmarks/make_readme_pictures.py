"""Remake the README's style-transfer pictures with real pretrained features (VGG16/HED).

    python benchmarks/hed_to_matconvnet.py --find /tmp/vgg16_hed.mat   # once, see that script
    python benchmarks/make_readme_pictures.py /tmp/vgg16_hed.mat [--run-dir DIR]

Runs ``tf1cnn-style --vgg VGG.mat --output-dir DIR --seed 0`` with every other setting at its
default (the bundled grace_hopper.jpg and style_waves.png, 250x333, 300 Adam steps, lr 2.0),
printing its progress lines and wall time, then writes into docs/images/:

* style_result_vgg16_hed.png: the run's result.png;
* style_sheet_vgg16_hed.png: content | style | result, each resized to the result's height,
  stored with a 256-colour palette to stay small (about 180 KB instead of 480 KB).

Not part of the test run. Takes a few minutes on two CPU cores.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import time

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vgg", help="VGG16/HED MatConvNet file made by hed_to_matconvnet.py")
    parser.add_argument("--run-dir", default=str(ROOT / "style_output" / "vgg16_hed"),
                        help="output folder of the style-transfer run")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.vgg):
        sys.exit(f"error: VGG file not found: {args.vgg} (make it with hed_to_matconvnet.py)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tf1cnn.common import images
    from tf1cnn.style_transfer.shell import cli, report

    started = time.perf_counter()
    status = cli.main(["--vgg", args.vgg, "--output-dir", args.run_dir, "--seed", "0"])
    print(f"wall time: {time.perf_counter() - started:.1f}s", flush=True)
    if status != 0:
        return status
    result = pathlib.Path(args.run_dir) / "result.png"
    IMAGES.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result, IMAGES / "style_result_vgg16_hed.png")
    height = Image.open(result).height
    picture = Image.fromarray(report.contact_sheet(
        [images.read_rgb(path) for path in (cli.sample(cli.SAMPLE_CONTENT),
                                            cli.sample(cli.SAMPLE_STYLE), result)], height))
    picture = picture.quantize(256, method=Image.Quantize.MEDIANCUT)
    picture.save(IMAGES / "style_sheet_vgg16_hed.png", optimize=True)
    for name in ("style_result_vgg16_hed.png", "style_sheet_vgg16_hed.png"):
        print(f"wrote docs/images/{name} ({(IMAGES / name).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
