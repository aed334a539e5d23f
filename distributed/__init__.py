"""Section 3 of the tutorial: parameter-server training on a local cluster (issue 4)."""
