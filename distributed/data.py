"""The tutorial's toy regression data: y = x² plus Gaussian noise, on evenly spaced x.

``make_data(seed=...)`` returns the same points for the same seed, so the eval step can redraw
exactly what training saw. Arrays are float32 columns of shape (points, 1).
"""
from __future__ import annotations

import numpy as np


def make_data(points: int = 100, noise: float = 0.1, seed: int = 0):
    """x evenly spaced on [-1, 1]; y = x**2 + N(0, noise**2). Returns (x, y)."""
    x = np.linspace(-1.0, 1.0, points, dtype=np.float32)[:, None]
    rng = np.random.default_rng(seed)
    y = x ** 2 + rng.normal(0.0, noise, size=x.shape).astype(np.float32)
    return x, y
