"""Draw the bundled style image, data/style_waves.png: swirling bands of strong colour.

Run from the repository root: ``python data/make_style_image.py``. Deterministic, so the file in
the repository can always be remade; the picture is ours, released with the project's licence.
"""
import numpy as np
from PIL import Image

HEIGHT, WIDTH = 384, 512
# Deep blue, teal, ochre, cream, rust: a palette with strong contrasts for the Gram losses.
PALETTE = np.array([[18, 38, 92], [30, 120, 140], [222, 170, 60], [245, 230, 190],
                    [180, 70, 40]], dtype=np.float64)


def draw(seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] / 64.0
    # Domain warping: bend the coordinates with a few random sinusoids, then draw bands.
    warp_x = sum(np.sin(y * f + p) / f for f, p in zip(rng.uniform(0.5, 3, 4),
                                                        rng.uniform(0, 6.3, 4)))
    warp_y = sum(np.cos(x * f + p) / f for f, p in zip(rng.uniform(0.5, 3, 4),
                                                        rng.uniform(0, 6.3, 4)))
    bands = np.sin(2.5 * (x + 1.5 * warp_x) + 1.8 * (y + 1.5 * warp_y))
    # Short brush strokes: fine ripples at an angle to the bands.
    strokes = 0.15 * np.sin(40 * (x * 0.8 + y * 0.6 + 0.3 * warp_y))
    level = np.clip((bands + strokes + 1.15) / 2.3, 0, 0.999) * (len(PALETTE) - 1)
    low = np.floor(level).astype(int)
    mix = (level - low)[..., None]
    rgb = PALETTE[low] * (1 - mix) + PALETTE[low + 1] * mix
    rgb += rng.normal(0, 6, rgb.shape)  # canvas grain
    return np.clip(rgb, 0, 255).astype(np.uint8)


if __name__ == "__main__":
    Image.fromarray(draw()).save("data/style_waves.png", optimize=True)
