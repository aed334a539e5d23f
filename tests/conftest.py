"""Fixtures every test folder shares: synthetic pictures and the everyday umask.

Tests run with ``--import-mode=importlib``, where a conftest module cannot be imported by name,
so the helpers are handed out as fixtures.
"""
from __future__ import annotations

import os

import numpy as np
import pytest


def _synthetic_image(seed: int = 0, height: int = 40, width: int = 56) -> np.ndarray:
    """uint8 RGB: smooth colour gradients plus noise, enough structure for losses and filters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width, y / height, (x + y) / (width + height)], axis=2) * 200
    return np.clip(base + rng.uniform(0, 55, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def synthetic_image():
    """``make(seed=0, height=40, width=56) -> uint8 [height, width, 3]``, the same for a seed."""
    return _synthetic_image


@pytest.fixture
def umask_022():
    """Run the test under umask 022, as most users do, and restore the caller's afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)
