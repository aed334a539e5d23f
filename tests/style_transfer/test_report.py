"""The loss curve and the contact sheet are pictures of the right size."""
from __future__ import annotations

import numpy as np

from tf1cnn.style_transfer.shell import report


def test_loss_curve_is_an_rgb_picture_that_changes_with_the_data():
    rows = [{"size": "12x16" if s < 4 else "24x32", "step": s, "global_step": s, "seconds": s,
             "total": 100.0 / s, "content": 1.0, "style": 90.0 / s, "tv": 0.0}
            for s in range(1, 8)]
    picture = report.loss_curve(rows, "title")
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
    assert picture.shape[1] > picture.shape[0] > 200
    other = report.loss_curve([dict(r, style=5.0) for r in rows], "title")
    assert other.shape == picture.shape and not np.array_equal(other, picture)


def test_contact_sheet_sets_panels_side_by_side_at_one_height():
    panels = [np.zeros((10, 20, 3)), np.full((30, 30, 3), 255.0), np.zeros((5, 5, 3))]
    sheet = report.contact_sheet(panels, 20)
    assert sheet.shape == (20, 40 + 20 + 20 + 2 * report.GAP, 3)
    assert (sheet[:, 40:40 + report.GAP] == 255).all()  # the gap is white
    assert (sheet[:, :40] == 0).all()
