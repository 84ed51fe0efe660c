"""Optimizers (tinyseq/optim.py): hand-derived steps, PyTorch parity, state, validation.

Golden values: the hand-computed tests write out each step of the update equations (PyTorch's
documented algorithms) with literal numbers; the parity tests compare with torch.optim itself.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
from tinyseq.optim import SGD, Adam, AdamW


def scalar_parameter(value):
    return ts.tensor(np.array([value]), dtype=np.float64, requires_grad=True)


def trajectory(make_optimizer, start, gradient_of, steps):
    """Parameter values after each of `steps` updates; gradient_of(step, value) gives the gradient."""
    param = scalar_parameter(start)
    optimizer = make_optimizer([param])
    values = []
    for step in range(steps):
        param.grad = np.array([gradient_of(step, param.data[0])])
        optimizer.step()
        values.append(param.data[0])
    return values


def gradient_of_half_square(step, value):
    """loss = value^2 / 2, so the gradient is the value itself."""
    return value


# ---------------------------------------------------------------- SGD, by hand


def test_sgd_matches_hand_computed_steps():
    # theta <- theta - 0.1 * theta = 0.9 * theta: 1 -> 0.9 -> 0.81 -> 0.729
    values = trajectory(lambda p: SGD(p, lr=0.1), 1.0, gradient_of_half_square, 3)
    np.testing.assert_allclose(values, [0.9, 0.81, 0.729], rtol=1e-14)


def test_sgd_momentum_matches_hand_computed_steps():
    # lr 0.1, momentum 0.9, gradient = theta.
    # t=1: g=1,    b=g=1 (the first buffer is the gradient itself), theta = 1 - 0.1*1       = 0.9
    # t=2: g=0.9,  b=0.9*1 + 0.9 = 1.8,                              theta = 0.9 - 0.1*1.8    = 0.72
    # t=3: g=0.72, b=0.9*1.8 + 0.72 = 2.34,                          theta = 0.72 - 0.1*2.34  = 0.486
    values = trajectory(lambda p: SGD(p, lr=0.1, momentum=0.9), 1.0, gradient_of_half_square, 3)
    np.testing.assert_allclose(values, [0.9, 0.72, 0.486], rtol=1e-14)


def test_sgd_dampening_matches_hand_computed_steps():
    # lr 0.1, momentum 0.9, dampening 0.5: b_t = 0.9 b_{t-1} + 0.5 g_t after the first step.
    # t=1: g=1,     b=1 (no dampening on the first step),    theta = 0.9
    # t=2: g=0.9,   b=0.9*1 + 0.5*0.9 = 1.35,                 theta = 0.9 - 0.135      = 0.765
    # t=3: g=0.765, b=0.9*1.35 + 0.5*0.765 = 1.5975,          theta = 0.765 - 0.15975  = 0.60525
    values = trajectory(lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.5), 1.0, gradient_of_half_square, 3)
    np.testing.assert_allclose(values, [0.9, 0.765, 0.60525], rtol=1e-14)


def test_sgd_nesterov_matches_hand_computed_steps():
    # lr 0.1, momentum 0.9, nesterov: step along g + 0.9 b instead of b.
    # t=1: g=1,      b=1,                          g+0.9b = 1.9,                   theta = 1 - 0.19         = 0.81
    # t=2: g=0.81,   b=0.9*1 + 0.81 = 1.71,        g+0.9b = 0.81 + 1.539 = 2.349,  theta = 0.81 - 0.2349    = 0.5751
    # t=3: g=0.5751, b=0.9*1.71 + 0.5751 = 2.1141, g+0.9b = 0.5751 + 1.90269 = 2.47779,
    #                                                                              theta = 0.5751 - 0.247779 = 0.327321
    values = trajectory(lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True), 1.0, gradient_of_half_square, 3)
    np.testing.assert_allclose(values, [0.81, 0.5751, 0.327321], rtol=1e-14)


def test_sgd_weight_decay_adds_l2_gradient():
    # lr 0.1, weight_decay 0.5, a constant gradient 1: g_t = 1 + 0.5 theta_{t-1}.
    # t=1: g = 1 + 0.5*1 = 1.5,      theta = 1 - 0.15       = 0.85
    # t=2: g = 1 + 0.5*0.85 = 1.425, theta = 0.85 - 0.1425  = 0.7075
    values = trajectory(lambda p: SGD(p, lr=0.1, weight_decay=0.5), 1.0, lambda step, value: 1.0, 2)
    np.testing.assert_allclose(values, [0.85, 0.7075], rtol=1e-14)


# ---------------------------------------------------------------- Adam and AdamW, by hand

EPS = 1e-8


def test_adam_matches_hand_computed_steps():
    # lr 0.1, betas (0.9, 0.999), eps 1e-8, gradients 1, -2, 0.5 from theta_0 = 0.5.
    # t=1: m = 0.1*1 = 0.1,              v = 0.001*1 = 0.001
    #      m^ = 0.1/(1-0.9) = 1,         v^ = 0.001/(1-0.999) = 1
    # t=2: m = 0.9*0.1 + 0.1*(-2) = -0.11,         v = 0.999*0.001 + 0.001*4 = 0.004999
    #      m^ = -0.11/(1-0.81) = -0.11/0.19,        v^ = 0.004999/(1-0.998001) = 0.004999/0.001999
    # t=3: m = 0.9*(-0.11) + 0.1*0.5 = -0.049,     v = 0.999*0.004999 + 0.001*0.25 = 0.005244001
    #      m^ = -0.049/(1-0.729) = -0.049/0.271,    v^ = 0.005244001/(1-0.997002999) = 0.005244001/0.002997001
    theta_1 = 0.5 - 0.1 * 1 / (1 + EPS)
    theta_2 = theta_1 - 0.1 * (-0.11 / 0.19) / (math.sqrt(0.004999 / 0.001999) + EPS)
    theta_3 = theta_2 - 0.1 * (-0.049 / 0.271) / (math.sqrt(0.005244001 / 0.002997001) + EPS)
    gradients = [1.0, -2.0, 0.5]
    values = trajectory(lambda p: Adam(p, lr=0.1), 0.5, lambda step, value: gradients[step], 3)
    np.testing.assert_allclose(values, [theta_1, theta_2, theta_3], rtol=1e-12)


def test_adam_weight_decay_is_an_l2_gradient_and_adamw_decays_the_parameter():
    # lr 0.1, weight_decay 0.5, gradients 1 then -1, theta_0 = 1.
    # Adam (L2): g1 = 1 + 0.5*1 = 1.5: m^ = 1.5, v^ = 2.25, theta_1 = 1 - 0.1*1.5/(1.5 + eps)
    #            g2 = -1 + 0.5*theta_1 (= -0.55 to 1e-8): m = 0.9*0.15 + 0.1*g2, v = 0.999*0.00225 + 0.001*g2^2
    adam_1 = 1 - 0.1 * 1.5 / (1.5 + EPS)
    g2 = -1 + 0.5 * adam_1
    m2, v2 = 0.9 * 0.15 + 0.1 * g2, 0.999 * 0.00225 + 0.001 * g2**2
    adam_2 = adam_1 - 0.1 * (m2 / 0.19) / (math.sqrt(v2 / 0.001999) + EPS)
    # AdamW: theta shrinks by (1 - 0.1*0.5) = 0.95 first, the moments see only the raw gradient.
    #   t=1: 1*0.95 = 0.95, m^ = 1, v^ = 1:                theta_1 = 0.95 - 0.1/(1 + eps)   (~0.85)
    #   t=2: theta_1*0.95; m = 0.09 - 0.1 = -0.01, v = 0.000999 + 0.001 = 0.001999, v^ = 1
    adamw_1 = 0.95 - 0.1 / (1 + EPS)
    adamw_2 = adamw_1 * 0.95 - 0.1 * (-0.01 / 0.19) / (1 + EPS)
    gradients = [1.0, -1.0]
    adam = trajectory(lambda p: Adam(p, lr=0.1, weight_decay=0.5), 1.0, lambda s, v: gradients[s], 2)
    adamw = trajectory(lambda p: AdamW(p, lr=0.1, weight_decay=0.5), 1.0, lambda s, v: gradients[s], 2)
    np.testing.assert_allclose(adam, [adam_1, adam_2], rtol=1e-12)
    np.testing.assert_allclose(adamw, [adamw_1, adamw_2], rtol=1e-12)


def test_amsgrad_divides_by_the_largest_second_moment():
    # lr 0.1, gradients 1 then 0. After t=2, v = 0.999*0.001 = 0.000999 has shrunk below v_1 = 0.001.
    # Plain Adam divides by sqrt(0.000999/0.001999); AMSGrad by sqrt(max(0.001, 0.000999)/0.001999).
    # Both: m = 0.9*0.1 = 0.09, m^ = 0.09/0.19; theta_1 = 1 - 0.1/(1 + eps).
    theta_1 = 1 - 0.1 / (1 + EPS)
    plain_2 = theta_1 - 0.1 * (0.09 / 0.19) / (math.sqrt(0.000999 / 0.001999) + EPS)
    amsgrad_2 = theta_1 - 0.1 * (0.09 / 0.19) / (math.sqrt(0.001 / 0.001999) + EPS)
    gradients = [1.0, 0.0]
    plain = trajectory(lambda p: Adam(p, lr=0.1), 1.0, lambda s, v: gradients[s], 2)
    amsgrad = trajectory(lambda p: Adam(p, lr=0.1, amsgrad=True), 1.0, lambda s, v: gradients[s], 2)
    np.testing.assert_allclose(plain, [theta_1, plain_2], rtol=1e-12)
    np.testing.assert_allclose(amsgrad, [theta_1, amsgrad_2], rtol=1e-12)


@given(
    gradients=st.lists(
        st.floats(1e-3, 1e3).flatmap(lambda m: st.sampled_from([m, -m])), min_size=1, max_size=8
    ),
    scale=st.floats(1e-3, 1e3),
)
def test_adam_without_eps_is_invariant_to_gradient_scale(gradients, scale):
    # m^ scales by c and sqrt(v^) by |c|: with eps = 0 the steps do not depend on c > 0 at all.
    def run(factor):
        return trajectory(lambda p: Adam(p, lr=0.1, eps=0.0), 0.0, lambda s, v: factor * gradients[s], len(gradients))

    np.testing.assert_allclose(run(scale), run(1.0), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=0.1, momentum=0.9),
    lambda p: Adam(p, lr=0.1),
    lambda p: AdamW(p, lr=0.1, weight_decay=0.0),
])
def test_optimizer_minimises_a_quadratic_through_autograd(make):
    target = np.array([3.0, -1.0, 0.5])
    param = ts.zeros(3, dtype=np.float64, requires_grad=True)
    optimizer = make([param])
    for _ in range(300):
        optimizer.zero_grad()
        ((param - ts.tensor(target, dtype=np.float64)) ** 2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(param.data, target, atol=1e-3)


# ---------------------------------------------------------------- behaviour


def test_parameters_without_gradient_are_skipped_and_their_state_does_not_advance():
    used, unused = scalar_parameter(1.0), scalar_parameter(2.0)
    optimizer = Adam([used, unused], lr=0.1)
    for _ in range(3):
        used.grad, unused.grad = np.array([1.0]), None
        optimizer.step()
    assert unused.data[0] == 2.0
    assert unused not in optimizer.state
    assert optimizer.state[used]["step"] == 3


def test_step_updates_parameter_data_in_place():
    param = ts.tensor(np.ones((2, 3)), requires_grad=True)
    array = param.data
    optimizer = SGD([param], lr=0.5, momentum=0.9)
    param.grad = np.ones((2, 3), dtype=np.float32)
    optimizer.step()
    assert param.data is array
    np.testing.assert_array_equal(array, 0.5)


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=np.float64(0.1), momentum=np.float64(0.9), weight_decay=np.float64(0.01)),
    lambda p: Adam(p, lr=np.float64(0.1), betas=(np.float64(0.9), 0.999), weight_decay=np.float64(0.01), amsgrad=True),
    lambda p: AdamW(p, lr=np.float64(0.1)),
])
def test_float32_parameters_and_state_stay_float32(make):
    param = ts.tensor(np.ones(4), requires_grad=True)
    optimizer = make([param])
    for _ in range(2):
        param.grad = np.full(4, 0.5, dtype=np.float32)
        optimizer.step()
    assert param.dtype == np.float32
    for value in optimizer.state[param].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


def test_zero_grad_sets_to_none_by_default_or_zeros_in_place():
    first, second = scalar_parameter(1.0), scalar_parameter(2.0)
    optimizer = SGD([first, second], lr=0.1)
    first.grad, second.grad = np.array([3.0]), np.array([4.0])
    optimizer.zero_grad()
    assert first.grad is None and second.grad is None
    first.grad = np.array([3.0])
    array = first.grad
    optimizer.zero_grad(set_to_none=False)
    assert first.grad is array and array[0] == 0.0
    assert second.grad is None


def test_parameter_groups_take_their_own_options_and_the_defaults_for_the_rest():
    slow, fast = scalar_parameter(1.0), scalar_parameter(1.0)
    optimizer = SGD([{"params": [slow]}, {"params": fast, "lr": 0.5}], lr=0.1, momentum=0.0)
    slow.grad, fast.grad = np.array([1.0]), np.array([1.0])
    optimizer.step()
    assert slow.data[0] == pytest.approx(0.9) and fast.data[0] == pytest.approx(0.5)
    assert optimizer.param_groups[1]["momentum"] == 0.0 and optimizer.param_groups[1]["lr"] == 0.5


def test_step_calls_the_closure_and_returns_its_loss():
    param = scalar_parameter(2.0)
    optimizer = SGD([param], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert loss.item() == 4.0
    assert param.data[0] == 2.0 - 0.25 * 4.0


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: Adam(p, lr=0.1, amsgrad=True),
    lambda p: AdamW(p, lr=0.1),
])
def test_state_dict_resumes_training_exactly(make):
    rng = np.random.default_rng(0)
    gradients = [rng.standard_normal(3) for _ in range(6)]
    start = rng.standard_normal(3)

    def new_param():
        return ts.tensor(start, dtype=np.float64, requires_grad=True)

    uninterrupted = new_param()
    optimizer = make([uninterrupted])
    for g in gradients:
        uninterrupted.grad = g.copy()
        optimizer.step()

    first_half = new_param()
    optimizer = make([first_half])
    for g in gradients[:3]:
        first_half.grad = g.copy()
        optimizer.step()
    saved = optimizer.state_dict()
    resumed = ts.tensor(first_half.data, dtype=np.float64, requires_grad=True)
    optimizer = make([resumed])
    optimizer.load_state_dict(saved)
    for g in gradients[3:]:
        resumed.grad = g.copy()
        optimizer.step()
    np.testing.assert_array_equal(resumed.data, uninterrupted.data)


def test_state_dict_holds_copies_not_the_live_buffers():
    param = scalar_parameter(1.0)
    optimizer = SGD([param], lr=0.1, momentum=0.9)
    param.grad = np.array([1.0])
    optimizer.step()
    saved = optimizer.state_dict()
    optimizer.step()
    assert saved["state"][0]["momentum_buffer"][0] == 1.0


def test_load_state_dict_rejects_a_different_layout():
    optimizer = SGD([scalar_parameter(1.0), scalar_parameter(2.0)], lr=0.1, momentum=0.9)
    other = SGD([scalar_parameter(1.0)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="parameter group 0 has 1 parameter"):
        optimizer.load_state_dict(other.state_dict())
    two_groups = SGD([{"params": [scalar_parameter(1.0)]}, {"params": [scalar_parameter(1.0)]}], lr=0.1)
    with pytest.raises(ValueError, match="2 parameter group"):
        optimizer.load_state_dict(two_groups.state_dict())
    wrong_shape = SGD([ts.zeros(2, 2, requires_grad=True), scalar_parameter(1.0)], lr=0.1, momentum=0.9)
    wrong_shape.param_groups[0]["params"][0].grad = np.ones((2, 2), dtype=np.float32)
    wrong_shape.step()
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        optimizer.load_state_dict(wrong_shape.state_dict())


def test_repr_lists_each_group_options():
    text = repr(Adam([scalar_parameter(1.0)], lr=0.01))
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.01" in text


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("make, error, message", [
    (lambda p: SGD(p, lr=-0.1), ValueError, r"lr: .*-0\.1"),
    (lambda p: SGD(p, lr=float("nan")), ValueError, r"lr: .*nan"),
    (lambda p: SGD(p, lr="0.1"), TypeError, r"lr: .*'0\.1'"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.9), ValueError, r"momentum: .*-0\.9"),
    (lambda p: SGD(p, lr=0.1, dampening=-1), ValueError, r"dampening: .*-1"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1e-4), ValueError, r"weight_decay: .*-0\.0001"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), ValueError, r"nesterov: .*momentum=0\.0"),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError, r"nesterov: .*dampening=0\.1"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), ValueError, r"betas\[0\]: .*1\.0"),
    (lambda p: Adam(p, betas=(0.9, -0.5)), ValueError, r"betas\[1\]: .*-0\.5"),
    (lambda p: Adam(p, betas=0.9), TypeError, r"betas: .*0\.9"),
    (lambda p: Adam(p, eps=-1e-8), ValueError, r"eps: .*-1e-08"),
    (lambda p: AdamW(p, lr=math.inf), ValueError, r"lr: .*inf"),
    (lambda p: AdamW(p, weight_decay=-0.01), ValueError, r"weight_decay: .*-0\.01"),
    (lambda p: Adam([{"params": p, "lr": -1.0}]), ValueError, r"lr: .*-1\.0"),
])
def test_invalid_hyperparameters_raise_naming_the_argument_and_value(make, error, message):
    with pytest.raises(error, match=message):
        make([scalar_parameter(1.0)])


def test_invalid_params_raise_clear_errors():
    param = scalar_parameter(1.0)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(param, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got ndarray at position 1"):
        SGD([param, np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([param * 2], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        SGD([{"params": {param}}], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([param, param], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [param]}, {"params": [param]}], lr=0.1)
    with pytest.raises(ValueError, match="'params' entry"):
        SGD([{"lr": 0.1}], lr=0.1)


# ---------------------------------------------------------------- PyTorch parity

CONFIGURATIONS = [
    (SGD, "SGD", dict(lr=0.1)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.9)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    (SGD, "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (SGD, "SGD", dict(lr=0.1, weight_decay=0.1)),
    (Adam, "Adam", dict()),
    (Adam, "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    (Adam, "Adam", dict(lr=0.01, weight_decay=0.1)),
    (Adam, "Adam", dict(lr=0.01, amsgrad=True)),
    (Adam, "Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (AdamW, "AdamW", dict()),
    (AdamW, "AdamW", dict(lr=0.01, weight_decay=0.1)),
    (AdamW, "AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.5, 0.9))),
]
SHAPES = [(3, 4), (5,), ()]


def run_side_by_side(torch, ours_class, torch_name, options, dtype, steps=10, seed=0):
    """Both optimizers on the same start and gradient sequence; the last parameter gets no gradient
    on steps 3 and 7. Returns (ours, theirs) after every step, as lists of arrays."""
    rng = np.random.default_rng(seed)
    starts = [np.asarray(rng.standard_normal(shape), dtype=dtype) for shape in SHAPES]
    ours = [ts.tensor(s, dtype=dtype, requires_grad=True) for s in starts]
    theirs = [torch.tensor(s, requires_grad=True) for s in starts]
    our_optimizer = ours_class(ours, **options)
    torch_optimizer = getattr(torch.optim, torch_name)(theirs, **options)
    history = []
    for step in range(steps):
        for index, (mine, torch_param) in enumerate(zip(ours, theirs)):
            if index == len(SHAPES) - 1 and step in (3, 7):
                mine.grad = torch_param.grad = None
                continue
            g = np.asarray(rng.standard_normal(mine.shape), dtype=dtype)
            mine.grad, torch_param.grad = g.copy(), torch.tensor(g)
        our_optimizer.step()
        torch_optimizer.step()
        history.append(([p.data.copy() for p in ours], [p.detach().numpy().copy() for p in theirs]))
    return history, our_optimizer, torch_optimizer


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("ours_class, torch_name, options", CONFIGURATIONS)
def test_optimizer_matches_torch_for_ten_steps(ours_class, torch_name, options, dtype, tolerance):
    torch = pytest.importorskip("torch", reason="PyTorch parity tests: pip install -e '.[parity]' to enable")
    history, ours, theirs = run_side_by_side(torch, ours_class, torch_name, options, dtype)
    for step, (mine, expected) in enumerate(history):
        for index, (a, b) in enumerate(zip(mine, expected)):
            np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance, err_msg=f"step {step}, parameter {index}")
    # The state uses PyTorch's names and holds the same values.
    torch_state = theirs.state_dict()["state"]
    our_state = ours.state_dict()["state"]
    assert sorted(our_state) == sorted(torch_state)
    for index, entries in torch_state.items():
        assert sorted(our_state[index]) == sorted(entries)
        for name, value in entries.items():
            np.testing.assert_allclose(our_state[index][name], value.numpy(), rtol=tolerance, atol=tolerance)


def test_parameter_groups_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch parity tests: pip install -e '.[parity]' to enable")
    rng = np.random.default_rng(1)
    starts = [rng.standard_normal(4), rng.standard_normal(2)]
    ours = [ts.tensor(s, dtype=np.float64, requires_grad=True) for s in starts]
    theirs = [torch.tensor(s, requires_grad=True) for s in starts]
    groups = lambda params: [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3, "momentum": 0.5}]
    our_optimizer = SGD(groups(ours), lr=0.1, momentum=0.9, nesterov=False)
    torch_optimizer = torch.optim.SGD(groups(theirs), lr=0.1, momentum=0.9)
    for _ in range(5):
        for mine, torch_param in zip(ours, theirs):
            g = rng.standard_normal(mine.shape)
            mine.grad, torch_param.grad = g.copy(), torch.tensor(g)
        our_optimizer.step()
        torch_optimizer.step()
    for mine, torch_param in zip(ours, theirs):
        np.testing.assert_allclose(mine.data, torch_param.detach().numpy(), rtol=1e-12)


sgd_options = st.fixed_dictionaries({
    "lr": st.floats(0.0, 1.0),
    "momentum": st.floats(0.0, 0.99),
    "dampening": st.floats(0.0, 1.0),
    "weight_decay": st.floats(0.0, 0.5),
    "nesterov": st.booleans(),
}).map(lambda o: {**o, "dampening": 0.0} if o["nesterov"] else o).filter(
    lambda o: not o["nesterov"] or o["momentum"] > 0
)
adam_options = st.fixed_dictionaries({
    "lr": st.floats(0.0, 1.0),
    "betas": st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.9999)),
    "eps": st.floats(1e-10, 1e-2),
    "weight_decay": st.floats(0.0, 0.5),
    "amsgrad": st.booleans(),
})


@given(
    choice=st.one_of(
        st.tuples(st.just((SGD, "SGD")), sgd_options),
        st.tuples(st.sampled_from([(Adam, "Adam"), (AdamW, "AdamW")]), adam_options),
    ),
    seed=st.integers(0, 2**16),
)
def test_optimizer_matches_torch_for_random_hyperparameters(choice, seed):
    torch = pytest.importorskip("torch", reason="PyTorch parity tests: pip install -e '.[parity]' to enable")
    (ours_class, torch_name), options = choice
    history, _, _ = run_side_by_side(torch, ours_class, torch_name, options, np.float64, steps=5, seed=seed)
    for mine, expected in history:
        for a, b in zip(mine, expected):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
