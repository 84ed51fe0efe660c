"""The bridge to PyTorch, for when a model outgrows tinyseq (a GPU, many machines, deployment).

    torch_layer = to_torch(layer)        a torch.nn module with the same configuration and weights
    layer = from_torch(torch_layer)      and back

Sits on top of nn: it reads a layer's configuration (the constructor arguments PyTorch also has) and
copies its parameters under their names, which tinyseq's layers share with PyTorch's
("weight_ih_l0", "0.weight", ...). Known layers: Linear, Embedding, Dropout, Sequential (of known
layers), RNN, LSTM, GRU and their cells, and CRF (as pytorch-crf's torchcrf.CRF, whose parameter
names nn.CRF shares). A model of your own is moved part by part (docs/interop.md). PyTorch (and
pytorch-crf, for a CRF) are optional dependencies, imported on the first call.

The copy keeps the dtype (float32 or float64; all parameters of a module share one) and the
training/eval mode. What one side has and the other has not is an error rather than a silent
difference: GRU(reset_after=False), PyTorch's LSTM proj_size, Embedding's max_norm and friends, a CRF
with constraints (pytorch-crf has none).
"""

import numpy as np

from . import nn

FLOAT_DTYPES = (np.float32, np.float64)


def to_torch(module):
    """A torch.nn.Module equal to `module` (a tinyseq module of a kind listed in the module docstring):
    same configuration, same weights (copied), same dtype, same training mode."""
    torch = _import_torch("to_torch")
    if not isinstance(module, nn.Module):
        raise TypeError(f"to_torch: module must be a tinyseq.nn.Module, got {type(module).__name__}")
    if type(module) is nn.Sequential:
        result = torch.nn.Sequential(*[to_torch(child) for child in module])
    else:
        build = _TO_TORCH.get(type(module))
        if build is None:
            raise TypeError(f"to_torch: no PyTorch counterpart for {_qualified_name(module)} (known: "
                            f"{', '.join(sorted(c.__name__ for c in _TO_TORCH))}, Sequential); for a model of "
                            "your own, convert its layers one by one (docs/interop.md)")
        result = build(torch, module)
        dtype = _single_dtype(module, "to_torch")
        if dtype is not None:
            result = result.to({np.float32: torch.float32, np.float64: torch.float64}[dtype])
            with torch.no_grad():
                for name, parameter in result.named_parameters():
                    parameter.copy_(torch.from_numpy(_parameters(module)[name].data))
    return result.train(module.training)


def from_torch(module):
    """A tinyseq module equal to the PyTorch `module` (a torch.nn kind listed in the module docstring):
    same configuration, same weights (copied), same dtype, same training mode."""
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: module must be a torch.nn.Module, got {type(module).__name__}")
    if type(module) is torch.nn.Sequential:
        result = nn.Sequential(*[from_torch(child) for child in module])
    else:
        build = _from_torch_builders(torch).get(type(module))
        if build is None:
            raise TypeError(f"from_torch: no tinyseq counterpart for {_qualified_name(module)} (known: "
                            f"{', '.join(sorted(c.__name__ for c in _from_torch_builders(torch)))}, Sequential)")
        result = build(module)
        own = _parameters(result)
        for name, parameter in module.named_parameters():
            array = parameter.detach().cpu()
            if array.dtype not in (torch.float32, torch.float64):
                raise ValueError(f"from_torch: {type(module).__name__}.{name} has dtype {array.dtype}; "
                                 "tinyseq takes float32 or float64 (call .float() or .double() first)")
            own[name].data = array.numpy().copy()
    return result.train(module.training)


# ---------------------------------------------------------------------------------------------
# tinyseq -> PyTorch: one constructor call per layer kind, with the arguments both sides name alike.
# ---------------------------------------------------------------------------------------------


def _linear_to_torch(torch, layer):
    return torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)


def _embedding_to_torch(torch, layer):
    return torch.nn.Embedding(layer.num_embeddings, layer.embedding_dim, padding_idx=layer.padding_idx)


def _dropout_to_torch(torch, layer):
    return torch.nn.Dropout(layer.p)


def _recurrent_to_torch(torch, layer):
    kind = type(layer).__name__
    _refuse_reset_before(layer, "to_torch")
    options = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
                   dropout=layer.dropout, bidirectional=layer.bidirectional)
    if kind == "RNN":
        options["nonlinearity"] = layer.nonlinearity
    return getattr(torch.nn, kind)(layer.input_size, layer.hidden_size, **options)


def _cell_to_torch(torch, cell):
    kind = type(cell).__name__
    _refuse_reset_before(cell, "to_torch")
    options = {"nonlinearity": cell.nonlinearity} if kind == "RNNCell" else {}
    return getattr(torch.nn, kind)(cell.input_size, cell.hidden_size, bias=cell.bias, **options)


def _crf_to_torch(torch, crf):
    if crf.allowed is not None:
        raise ValueError("to_torch: this CRF has constraints (allowed transitions), which pytorch-crf's CRF "
                         "does not have; the PyTorch model would score and decode forbidden paths")
    return _import_torchcrf("to_torch").CRF(crf.num_tags, batch_first=crf.batch_first)


_TO_TORCH = {
    nn.Linear: _linear_to_torch,
    nn.Embedding: _embedding_to_torch,
    nn.Dropout: _dropout_to_torch,
    nn.RNN: _recurrent_to_torch,
    nn.LSTM: _recurrent_to_torch,
    nn.GRU: _recurrent_to_torch,
    nn.RNNCell: _cell_to_torch,
    nn.LSTMCell: _cell_to_torch,
    nn.GRUCell: _cell_to_torch,
    nn.CRF: _crf_to_torch,
}


def _refuse_reset_before(layer, caller):
    if getattr(layer, "reset_after", True) is False:
        raise ValueError(
            f"{caller}: {type(layer).__name__}(reset_after=False) has no PyTorch counterpart: PyTorch's GRU "
            "applies the reset gate after the recurrent matmul (reset_after=True), the original GRU before it"
        )


# ---------------------------------------------------------------------------------------------
# PyTorch -> tinyseq: the same, the other way, refusing options tinyseq does not have.
# ---------------------------------------------------------------------------------------------


def _from_torch_builders(torch):
    """The torch.nn classes from_torch knows, and pytorch-crf's CRF when pytorch-crf is installed."""
    try:
        import torchcrf
        crf = {torchcrf.CRF: lambda m: nn.CRF(m.num_tags, batch_first=m.batch_first)}
    except ImportError:
        crf = {}
    return crf | {
        torch.nn.Linear: lambda m: nn.Linear(m.in_features, m.out_features, bias=m.bias is not None),
        torch.nn.Embedding: _embedding_from_torch,
        torch.nn.Dropout: lambda m: nn.Dropout(m.p),
        torch.nn.RNN: _recurrent_from_torch,
        torch.nn.LSTM: _recurrent_from_torch,
        torch.nn.GRU: _recurrent_from_torch,
        torch.nn.RNNCell: lambda m: nn.RNNCell(m.input_size, m.hidden_size, bias=m.bias, nonlinearity=m.nonlinearity),
        torch.nn.LSTMCell: lambda m: nn.LSTMCell(m.input_size, m.hidden_size, bias=m.bias),
        torch.nn.GRUCell: lambda m: nn.GRUCell(m.input_size, m.hidden_size, bias=m.bias),
    }


def _embedding_from_torch(layer):
    unsupported = {"max_norm": layer.max_norm, "scale_grad_by_freq": layer.scale_grad_by_freq, "sparse": layer.sparse}
    used = {name: value for name, value in unsupported.items() if value not in (None, False)}
    if used:
        raise ValueError(f"from_torch: tinyseq's Embedding has no {', '.join(used)} (got {used})")
    return nn.Embedding(layer.num_embeddings, layer.embedding_dim, padding_idx=layer.padding_idx)


def _recurrent_from_torch(layer):
    kind = type(layer).__name__
    if getattr(layer, "proj_size", 0):
        raise ValueError(f"from_torch: tinyseq's LSTM has no proj_size (got proj_size={layer.proj_size})")
    options = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
                   dropout=layer.dropout, bidirectional=layer.bidirectional)
    if kind == "RNN":
        options["nonlinearity"] = layer.nonlinearity
    return getattr(nn, kind)(layer.input_size, layer.hidden_size, **options)


# ---------------------------------------------------------------------------------------------


def _import_torch(caller):
    try:
        import torch
    except ImportError as error:
        raise ImportError(f"{caller} needs PyTorch, an optional dependency: pip install -e '.[parity]'") from error
    return torch


def _import_torchcrf(caller):
    try:
        import torchcrf
    except ImportError as error:
        raise ImportError(f"{caller}: a CRF needs pytorch-crf, an optional dependency: pip install pytorch-crf") from error
    return torchcrf


def _parameters(module):
    return dict(module.named_parameters(remove_duplicate=False))


def _single_dtype(module, caller):
    """The one floating dtype of module's parameters (None for a module without any)."""
    dtypes = {parameter.dtype.type for parameter in _parameters(module).values()}
    if len(dtypes) > 1 or not dtypes <= set(FLOAT_DTYPES):
        raise ValueError(f"{caller}: {type(module).__name__}'s parameters must all be float32 or all float64, "
                         f"got {sorted(np.dtype(d).name for d in dtypes)}")
    return dtypes.pop() if dtypes else None


def _qualified_name(module):
    kind = type(module)
    return f"{kind.__module__}.{kind.__qualname__}"


__all__ = ["to_torch", "from_torch"]
