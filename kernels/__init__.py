"""Section 2 of the tutorial: a numpy filter bank and a conv2d feature-map demo (issue 3)."""
