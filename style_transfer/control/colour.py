"""Colour control before the optimisation (Gatys et al. 2017, "Controlling Perceptual Factors").

Two ways to keep the content's colours, both pure numpy in float64:

* luminance-only transfer: the network sees luminance only. ``match_luminance`` first gives
  the style's luminance the content's mean and spread, L' = sigma_c / sigma_s (L_s - mu_s) +
  mu_c, so that the style brings texture, not a brightness shift. After the optimisation,
  ``with_chroma`` puts the content's chroma back around the optimised luminance.
* colour matching: ``match_colours`` moves the style's pixels x by x' = A (x - mu_s) + mu_c,
  A chosen so that the style's colour covariance becomes the content's. Two choices of A do
  that: A = L_c L_s^-1 with L the Cholesky factors of the 3x3 covariances, or A = S_c^1/2
  S_s^-1/2 with symmetric square roots. Cholesky depends on the order of R, G, B; the
  symmetric root does not, and rotates the colours least.

Luminance and chroma are full-range BT.601 (``images.RGB_TO_YCBCR``). Nothing here clips:
the results may leave [0, 255] (tests check the exact statistics first), so call
``clip_pixels`` before using them as an image. Try it::

    python -m tf1cnn.style_transfer.control.colour
"""
from __future__ import annotations

import numpy as np

from tf1cnn.common.images import RGB_TO_YCBCR

YCBCR_TO_RGB = np.linalg.inv(RGB_TO_YCBCR)
_OFFSETS = np.array([0.0, 128.0, 128.0])  # Y, Cb, Cr of black

# A covariance whose smallest eigenvalue is below this share of its mean eigenvalue (a grey,
# flat or two-colour image) gets this ridge added, so its inverse root stays finite. The
# directions the style never varies in have (x - mu_s) = 0 there, so the ridge changes nothing
# the match can act on; a flat style simply becomes the content's mean colour.
RIDGE = 1e-6
METHODS = ("cholesky", "eigen")


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Y of float RGB [..., 3] in [0, 255], as float64 [...]."""
    return np.asarray(rgb, np.float64) @ RGB_TO_YCBCR[0]


def chroma(rgb: np.ndarray) -> np.ndarray:
    """Cb, Cr of float RGB [..., 3], as float64 [..., 2] (128 is neutral grey)."""
    return np.asarray(rgb, np.float64) @ RGB_TO_YCBCR[1:].T + _OFFSETS[1:]


def with_chroma(y: np.ndarray, chroma_source_rgb: np.ndarray) -> np.ndarray:
    """Float64 RGB whose luminance is ``y`` [H, W] and whose chroma is that of
    ``chroma_source_rgb`` [H, W, 3]; unclipped."""
    ycbcr = np.empty(np.shape(y) + (3,))
    ycbcr[..., 0] = y
    ycbcr[..., 1:] = chroma(chroma_source_rgb)
    return (ycbcr - _OFFSETS) @ YCBCR_TO_RGB.T


def match_luminance(style_y: np.ndarray, content_y: np.ndarray) -> np.ndarray:
    """The style's luminance moved to the content's mean and standard deviation (float64).
    A flat style (no spread) becomes the content's mean."""
    style_y = np.asarray(style_y, np.float64)
    content_y = np.asarray(content_y, np.float64)
    spread = style_y.std()
    ratio = content_y.std() / spread if spread > 0 else 0.0
    return ratio * (style_y - style_y.mean()) + content_y.mean()


def match_colours(style_rgb: np.ndarray, content_rgb: np.ndarray,
                  method: str = "cholesky") -> np.ndarray:
    """The style recoloured to the content's colour mean and covariance: x' = A (x - mu_s) +
    mu_c, with A from ``method`` "cholesky" or "eigen". Float64 [H, W, 3], unclipped."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    style = np.asarray(style_rgb, np.float64).reshape(-1, 3)
    content = np.asarray(content_rgb, np.float64).reshape(-1, 3)
    mean_s, cov_s = _statistics(style)
    mean_c, cov_c = _statistics(content)
    if method == "cholesky":
        chol_s = np.linalg.cholesky(_ridged(cov_s))
        chol_c = np.linalg.cholesky(_ridged(cov_c))
        transform = np.linalg.solve(chol_s.T, chol_c.T).T  # L_c L_s^-1
    else:
        transform = _root(cov_c) @ _root(_ridged(cov_s), -0.5)
    matched = (style - mean_s) @ transform.T + mean_c
    return matched.reshape(np.shape(style_rgb))


def clip_pixels(rgb: np.ndarray) -> np.ndarray:
    """Float32 pixels clipped to [0, 255]: the step that makes a matched image an image."""
    return np.clip(rgb, 0.0, 255.0).astype(np.float32)


def _statistics(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [3] and population covariance [3, 3] of pixels [n, 3]."""
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    return mean, centred.T @ centred / len(pixels)


def _ridged(cov: np.ndarray) -> np.ndarray:
    """``cov`` plus a small ridge when it is (nearly) singular."""
    floor = RIDGE * max(np.trace(cov) / 3.0, 1.0)
    if np.linalg.eigvalsh(cov)[0] >= floor:
        return cov
    return cov + floor * np.eye(3)


def _root(cov: np.ndarray, power: float = 0.5) -> np.ndarray:
    """The symmetric power of a symmetric positive semi-definite matrix, by eigendecomposition."""
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.clip(values, 0.0, None) ** power) @ vectors.T


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    warm = rng.normal([200, 120, 60], [30, 20, 10], (64, 64, 3))
    cool = rng.normal([60, 110, 190], [10, 25, 40], (64, 64, 3))
    for name in METHODS:
        (mean, cov), (target_mean, target_cov) = [
            _statistics(image.reshape(-1, 3)) for image in (match_colours(warm, cool, name), cool)]
        print(f"{name:8s}: mean {np.round(mean, 2)} (content {np.round(target_mean, 2)}), "
              f"largest covariance error {np.abs(cov - target_cov).max():.1e}")
