"""Layers and their building blocks (PyTorch's torch.nn, in miniature)."""

from . import functional
