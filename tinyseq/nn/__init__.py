"""Layers and their building blocks (PyTorch's torch.nn, in miniature)."""

from .module import Module, ModuleList, Parameter  # first: ctc/loss.py builds CTCLoss on Module
from .layers import Dropout, Embedding, Linear, Sequential
from .cells import GRUCell, LSTMCell, RNNCell
from .rnn import GRU, LSTM, RNN, is_reference_path_enabled, use_reference_path
from .crf import CRF
from . import functional, utils
from ..ctc.loss import CTCLoss
