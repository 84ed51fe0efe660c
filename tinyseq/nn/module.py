"""Module and Parameter: how layers hold their weights.

A Module registers every Parameter and sub-Module assigned to it as an attribute, in assignment
order, so named_parameters(), state_dict() and load_state_dict() see the same names, in the same
order, as PyTorch does for the same layer ("weight_ih_l0", "layers.0.weight", ...).
"""

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ..dtype import as_array
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a Module registers as one of its weights (requires_grad=True by default)."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data.data if isinstance(data, Tensor) else as_array(data), requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer: subclass it, assign Parameters and Modules in __init__, write forward."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before assigning {name}")
        # Take the name out of the other two places only: a name reassigned within its own registry
        # keeps its position (as in PyTorch), and no plain attribute may shadow a registered one.
        registry = None
        if isinstance(value, (Parameter, Module)):
            registry = self._parameters if isinstance(value, Parameter) else self._modules
        for other in (self._parameters, self._modules, self.__dict__):
            if other is not registry:
                other.pop(name, None)
        if registry is None:
            object.__setattr__(self, name, value)
        else:
            registry[name] = value

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters and submodules live in their dicts.
        for registry in ("_parameters", "_modules"):
            entries = self.__dict__.get(registry, {})
            if name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def named_modules(self, prefix="", remove_duplicate=True, _seen=None):
        """(name, module) for this module and every module below it, depth first; a module reached
        twice is listed once, under its first name, unless remove_duplicate=False."""
        seen = set() if _seen is None else _seen
        if remove_duplicate and id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, remove_duplicate, seen)

    def modules(self):
        """This module and every module below it."""
        return (module for _, module in self.named_modules())

    def children(self):
        """The modules assigned directly to this one."""
        return iter(self._modules.values())

    def named_parameters(self, prefix="", remove_duplicate=True):
        """(dotted name, parameter) pairs: own parameters first, then each submodule's; a parameter
        shared by two modules is listed once, under its first name, unless remove_duplicate=False."""
        seen = set()
        for module_name, module in self.named_modules(prefix, remove_duplicate):
            for name, parameter in module._parameters.items():
                if not (remove_duplicate and id(parameter) in seen):
                    seen.add(id(parameter))
                    yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self):
        """Every parameter of this module and those below it (each once), for an optimizer."""
        return (parameter for _, parameter in self.named_parameters())

    def train(self, mode=True):
        """Training mode (dropout active) for this module and all below it. mode must be a bool, as in
        PyTorch: module.train("eval") would otherwise switch training on."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"train: mode must be True or False, got {mode!r} ({type(mode).__name__})")
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode (dropout off)."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's .grad: to None (the default, as PyTorch) or to zeros."""
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad[...] = 0

    def state_dict(self):
        """{dotted name: a copy of the parameter's array}, in named_parameters() order. As in PyTorch,
        a shared (tied) parameter appears under every name it has."""
        named = self.named_parameters(remove_duplicate=False)
        return OrderedDict((name, parameter.data.copy()) for name, parameter in named)

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into the parameters of the same names, cast to each parameter's dtype.

        strict=True: the names must match exactly. Shapes must always match. Accepts numpy arrays,
        tinyseq tensors, or anything with a .numpy() method (a PyTorch tensor's .detach().numpy()).
        Everything is checked before anything is copied, so a failed load leaves the module as it was.
        Raises ValueError where PyTorch raises RuntimeError. Returns (missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: state_dict must be a mapping of names to arrays, got {type(state_dict).__name__}")
        own = OrderedDict(self.named_parameters(remove_duplicate=False))
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if strict and (missing or unexpected):
            raise ValueError(
                f"load_state_dict: state_dict is missing keys {missing} and has unexpected keys {unexpected} "
                f"(expected exactly {list(own)})"
            )
        arrays = {name: _to_numpy(value) for name, value in state_dict.items() if name in own}
        for name, array in arrays.items():
            if array.dtype.kind not in "fiub":
                raise TypeError(f"load_state_dict: state_dict[{name!r}] must be a numeric array, got dtype {array.dtype}")
            if array.shape != own[name].shape:
                raise ValueError(
                    f"load_state_dict: state_dict[{name!r}] has shape {array.shape}, "
                    f"but the parameter's shape is {own[name].shape}"
                )
        for name, array in arrays.items():
            own[name].data = array.astype(own[name].dtype, copy=True)
        return missing, unexpected

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_lines = repr(child).split("\n")
            lines.append(f"  ({name}): " + "\n  ".join(child_lines))
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"


def _to_numpy(value):
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a PyTorch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class ModuleList(Module):
    """A list of modules, registered under the names "0", "1", ..."""

    def __init__(self, modules=()):
        super().__init__()
        if isinstance(modules, Module):
            raise TypeError(f"{type(self).__name__}: expected an iterable of Modules, got a single {type(modules).__name__}")
        try:
            modules = list(modules)
        except TypeError:
            raise TypeError(f"{type(self).__name__}: expected an iterable of Modules, got {type(modules).__name__}") from None
        for module in modules:
            self.append(module)

    def append(self, module):
        """Register module under the next index and return this list. Anything but a Module is
        refused: a plain function would be stored as an attribute and silently never called."""
        if not isinstance(module, Module):
            hint = " (wrap a function in a Module whose forward calls it)" if callable(module) else ""
            raise TypeError(
                f"{type(self).__name__}: position {len(self._modules)} holds a {type(module).__name__} "
                f"({module!r}), not a Module{hint}"
            )
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())
