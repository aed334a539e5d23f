"""Section 2 of the tutorial: a numpy filter bank and a conv2d feature-map demo (issue 3).

``bank`` (the kernels, numpy only), ``reference`` (scipy's answer for conv2d), ``convolve``
(the TF1 graph: one stacked conv2d), ``figure`` (the gridspec picture), ``config`` and ``cli``
(``tf1cnn-kernels``), ``faults`` (the tutorial's filters against the fixed ones).
"""
