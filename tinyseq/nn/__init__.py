"""Layers and their building blocks (PyTorch's torch.nn, in miniature)."""

from .module import Module, ModuleList, Parameter  # first: ctc/loss.py builds CTCLoss on Module
from .layers import Dropout, Embedding, Linear, Sequential
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .crf import CRF
from . import functional, utils
from ..ctc.loss import CTCLoss
