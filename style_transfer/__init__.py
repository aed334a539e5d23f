"""Style transfer: Gatys et al. with VGG weights from a MatConvNet file, in TF1 graph mode."""
