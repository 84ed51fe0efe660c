"""Layers and their building blocks (PyTorch's torch.nn, in miniature)."""

from . import functional, utils
from .cells import GRUCell, LSTMCell, RNNCell
from .crf import CRF
from .layers import Dropout, Embedding, Linear, Sequential
from .loss import CrossEntropyLoss, CTCLoss
from .module import Module, ModuleList, Parameter
from .rnn import GRU, LSTM, RNN, is_reference_path_enabled, use_reference_path
