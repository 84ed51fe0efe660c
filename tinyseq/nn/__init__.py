"""Layers and their building blocks (PyTorch's torch.nn, in miniature)."""

from . import functional, utils
from .crf import CRF
from .layers import Dropout, Embedding, Linear, Sequential
from .loss import CTCLoss
from .module import Module, ModuleList, Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
