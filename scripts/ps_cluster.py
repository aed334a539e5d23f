"""Parameter-server training: python scripts/ps_cluster.py train|eval [options].

A thin wrapper around the ``tf1cnn-cluster`` console script; ``train --help`` and
``eval --help`` list every option.
"""
import sys

from tf1cnn.distributed.cli import main

if __name__ == "__main__":
    sys.exit(main())
