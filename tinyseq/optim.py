"""Optimizers: turn the gradients that backward() left in each parameter's .grad into updates.

This is the last stage of a training step (docs/architecture.md shows the whole data flow):

    loss.backward()            # fills p.grad for every parameter
    optimizer.step()           # p.data <- update(p.data, p.grad, the optimizer's memory of p)
    optimizer.zero_grad()      # gradients accumulate with +=, so clear them before the next step

The update rules are PyTorch's (torch.optim.SGD, Adam, AdamW), so a model trained here and there
with the same gradients takes the same steps, up to floating-point rounding. Updates write into
p.data in place: they are plain numpy arithmetic on arrays, outside the autograd graph, so nothing
is recorded and anything holding a reference to p.data sees the new values. Each update marks its
parameter as modified in place, so a backward through a graph recorded before the step (which
saved the old values) is an error rather than a gradient of half-old, half-new weights.

Parameters can be given as one list, or as parameter groups with their own settings, as in PyTorch:

    ts.optim.SGD([{"params": encoder.parameters()},
                  {"params": decoder.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)
"""

import math
import numbers

import numpy as np

from .tensor import Tensor


class Optimizer:
    """Base class: parameter groups, per-parameter state, zero_grad(), step(), state_dict().

    params: an iterable of tensors, or of dicts {"params": iterable of tensors, **options} (one
        parameter group each; options missing from a group take the value in `defaults`).
    defaults: the subclass's hyperparameters, e.g. {"lr": 0.1, "momentum": 0.0}.

    A subclass checks hyperparameters in _check_hyperparameters(group) and writes the update of one
    parameter in _update(param, grad, state, group); step() calls it for every parameter that has
    a gradient. `state[param]` is that parameter's memory (momentum buffer, moment estimates).
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(
                "params: expected an iterable of tensors or of parameter-group dicts, got a single "
                "Tensor; wrap it in a list: [tensor]"
            )
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                f"params: expected an iterable of tensors or of parameter-group dicts, got {type(params).__name__}"
            ) from None
        if not groups:
            raise ValueError("params: the optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (e.g. a smaller lr for a pretrained part)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group: expected a dict with a 'params' entry, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"param_group: a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "params: expected an ordered collection of tensors, got a set, whose order changes between runs"
            )
        try:
            group["params"] = list(params)
        except TypeError:
            raise TypeError(f"params: expected an iterable of tensors, got {type(params).__name__}") from None
        for index, param in enumerate(group["params"]):
            if not isinstance(param, Tensor):
                raise TypeError(f"params: expected tinyseq Tensors, got {type(param).__name__} at position {index}")
            if not param.is_leaf:
                raise ValueError(
                    f"params: position {index} holds a non-leaf tensor (the result of an op), which an "
                    "optimizer cannot update; pass the leaf tensors (the parameters) instead"
                )
        new_ids = [id(p) for p in group["params"]]
        if len(set(new_ids)) != len(new_ids):
            # PyTorch only warns; updating one tensor twice per step is never what was meant.
            raise ValueError("params: a parameter group lists the same parameter more than once")
        existing_ids = {id(p) for g in self.param_groups for p in g["params"]}
        if existing_ids.intersection(new_ids):
            raise ValueError("params: some parameters appear in more than one parameter group")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def _check_hyperparameters(self, group):
        """Raise ValueError/TypeError for invalid options in group; may normalise them in place."""
        raise NotImplementedError(f"{type(self).__name__} must define _check_hyperparameters(group)")

    def _update(self, param, grad, state, group):
        """Update param.data in place from grad (an array shaped like the parameter)."""
        raise NotImplementedError(f"{type(self).__name__} must define _update(param, grad, state, group)")

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: to None (the default, as in PyTorch) or to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none or param.grad is None:
                    param.grad = None
                else:
                    param.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; parameters whose .grad is None are left alone
        and their state (step count, moments) does not advance.

        closure: optional function that recomputes the loss (zero_grad, forward, backward) and
        returns it; step() calls it first and returns its value, as in PyTorch.
        """
        loss = closure() if closure is not None else None
        for number, group in enumerate(self.param_groups):
            for index, param in enumerate(group["params"]):
                if param.grad is not None:
                    _check_grad(param, number, index)
                    self._update(param, param.grad, self.state.setdefault(param, {}), group)
                    param.mark_modified_in_place()
        return loss

    def state_dict(self):
        """The optimizer's memory in PyTorch's layout, with copies of every array:

        {"state": {index: {"step": ..., "exp_avg": array, ...}},
         "param_groups": [{"lr": ..., ..., "params": [index, ...]}]}

        Parameters are referred to by their position across the groups, so the dict can be loaded
        into an optimizer built over a new model with the same parameter order.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index_of[id(param)] = len(index_of)
            options = {name: value for name, value in group.items() if name != "params"}
            groups.append({**options, "params": [index_of[id(p)] for p in group["params"]]})
        state = {
            index_of[id(param)]: {name: _copy(value) for name, value in param_state.items()}
            for param, param_state in self.state.items()
            if param_state  # plain SGD keeps no memory; PyTorch then lists no state either
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned: each group's options and each parameter's state,
        with arrays cast to the parameter's dtype (as PyTorch does)."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            found = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"state_dict: expected a dict with the keys 'state' and 'param_groups' (what state_dict() "
                f"returns), got {found}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"state_dict: has {len(saved_groups)} parameter group(s), this optimizer has {len(self.param_groups)}"
            )
        params_by_index = {}
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"state_dict: parameter group {number} has {len(saved['params'])} parameter(s), "
                    f"this optimizer's group {number} has {len(group['params'])}"
                )
            params_by_index.update(zip(saved["params"], group["params"]))
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = {**{k: v for k, v in saved.items() if k != "params"}, "params": group["params"]}
            self._check_hyperparameters(new_group)
            new_groups.append(new_group)
        new_state = {}
        for index, saved_state in state_dict["state"].items():
            if index not in params_by_index:
                raise ValueError(f"state_dict: has state for parameter {index}, which no parameter group lists")
            param = params_by_index[index]
            new_state[param] = {name: _cast_like(name, value, param) for name, value in saved_state.items()}
        self.param_groups, self.state = new_groups, new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines += [f"    {name}: {group[name]}" for name in sorted(group) if name != "params"]
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (torch.optim.SGD's rule).

    For each parameter theta with gradient g_t at step t:

        g_t <- g_t + weight_decay * theta_{t-1}                  (if weight_decay != 0)
        b_t <- g_t                                  at t = 1     (if momentum != 0)
        b_t <- momentum * b_{t-1} + (1 - dampening) * g_t  later
        g_t <- g_t + momentum * b_t   if nesterov,  else  g_t <- b_t
        theta_t <- theta_{t-1} - lr * g_t

    This is PyTorch's form of momentum, where lr multiplies the whole buffer; Sutskever, Martens,
    Dahl & Hinton (2013, "On the importance of initialization and momentum in deep learning") put
    lr inside the buffer (b <- momentum * b + lr * g) and have no dampening. The two agree while lr
    is constant and dampening is 0.

    lr: learning rate (default 1e-3, PyTorch's).  momentum, dampening, weight_decay: >= 0.
    nesterov: Nesterov momentum; needs momentum > 0 and dampening == 0.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group):
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            group[name] = _non_negative(name, group[name])
        group["nesterov"] = bool(group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov: Nesterov momentum needs momentum > 0 and dampening == 0, "
                f"got momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update(self, param, grad, state, group):
        momentum = group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param.data -= group["lr"] * grad


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization") with PyTorch's options (torch.optim.Adam's rule).

    For each parameter theta with gradient g_t, at that parameter's t-th update (m_0 = v_0 = 0):

        g_t <- g_t + weight_decay * theta_{t-1}        (L2 penalty; with decoupled_weight_decay
                                                        instead theta_{t-1} <- theta_{t-1} * (1 - lr * weight_decay))
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t      first moment (mean) estimate
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2    second moment estimate
        v^max_t = max(v^max_{t-1}, v_t)               (amsgrad only; v^max_t then replaces v_t in v^_t)
        m^_t = m_t / (1 - beta1^t)                     bias corrections: m_0 = v_0 = 0 pulls the
        v^_t = v_t / (1 - beta2^t)                     early averages towards zero
        theta_t = theta_{t-1} - lr * m^_t / (sqrt(v^_t) + eps)

    lr >= 0; betas: two numbers in [0, 1); eps >= 0; weight_decay >= 0.
    amsgrad: divide by the largest second-moment estimate seen so far (Reddi, Kale & Kumar 2018, "On
        the Convergence of Adam and Beyond"), so a run of small gradients cannot shrink the
        denominator and inflate the steps.
    decoupled_weight_decay: keyword only; True gives AdamW.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 decoupled_weight_decay=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group):
        for name in ("lr", "eps", "weight_decay"):
            group[name] = _non_negative(name, group[name])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
        for index, beta in enumerate(betas):
            if _non_negative(f"betas[{index}]", beta) >= 1:
                raise ValueError(f"betas[{index}]: expected a number in [0, 1), got {beta}")
        group["betas"] = (float(betas[0]), float(betas[1]))
        group["amsgrad"] = bool(group["amsgrad"])
        group["decoupled_weight_decay"] = bool(group["decoupled_weight_decay"])

    def _update(self, param, grad, state, group):
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param.data)
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param.data *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param.data
        state["step"] += 1
        step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        # sqrt(v^) computed as sqrt(v) / sqrt(1 - beta2^t): one scalar division instead of
        # dividing the whole array v before the square root (PyTorch does the same).
        denominator = np.sqrt(exp_avg_sq) / math.sqrt(bias_correction2) + eps
        param.data -= (lr / bias_correction1) * exp_avg / denominator


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization";
    torch.optim.AdamW's rule).

    The same update as Adam, except that weight decay shrinks the parameter directly instead of
    being added to the gradient, so it does not pass through (and get rescaled by) the moments:

        theta_{t-1} <- theta_{t-1} * (1 - lr * weight_decay)
        then Adam's m_t, v_t, m^_t, v^_t and theta_t = theta_{t-1} - lr * m^_t / (sqrt(v^_t) + eps)

    weight_decay defaults to 1e-2, as in PyTorch.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)


def _non_negative(name, value):
    """value as a float, or a TypeError/ValueError naming the argument if it is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value}")
    # A Python float keeps updates in the parameter's dtype (numpy treats it as a weak scalar).
    return float(value)


def _check_grad(param, group_number, index):
    """A .grad that is not an array of the parameter's shape would be broadcast, or cast, into a
    wrong update without any error: refuse it (PyTorch refuses it when .grad is assigned)."""
    grad = param.grad
    where = f"param_groups[{group_number}]['params'][{index}]"
    if not isinstance(grad, np.ndarray) or grad.dtype.kind != "f":
        kind = f"an array of dtype {grad.dtype}" if isinstance(grad, np.ndarray) else type(grad).__name__
        raise TypeError(f"step(): {where}.grad must be a floating-point numpy array, got {kind}")
    if grad.shape != param.shape:
        raise ValueError(
            f"step(): {where}.grad has shape {grad.shape}, but the parameter has shape {param.shape}"
        )


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _cast_like(name, value, param):
    """A saved state entry ready to use for param: arrays copied in param's dtype, shape checked."""
    if not isinstance(value, np.ndarray):
        return value
    if value.shape != param.shape:
        raise ValueError(f"state_dict: state '{name}' has shape {value.shape}, its parameter has shape {param.shape}")
    return value.astype(param.dtype, copy=True)
