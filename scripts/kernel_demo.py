"""Filter an image with hand-made kernels: python scripts/kernel_demo.py [--image PATH] [options].

A thin wrapper around the ``tf1cnn-kernels`` console script; ``--help`` lists every option.
"""
import sys

from tf1cnn.kernels.cli import main

if __name__ == "__main__":
    sys.exit(main())
