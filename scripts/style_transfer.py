"""Stylise an image: python scripts/style_transfer.py --content PATH --style PATH [options].

A thin wrapper around the ``tf1cnn-style`` console script; ``--help`` lists every option.
"""
import sys

from tf1cnn.style_transfer.shell.cli import main

if __name__ == "__main__":
    sys.exit(main())
