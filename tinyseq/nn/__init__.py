"""Layers and their building blocks (PyTorch's torch.nn, in miniature)."""

from . import functional
from .layers import Dropout, Embedding, Linear, Sequential
from .module import Module, ModuleList, Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
