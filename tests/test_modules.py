"""Module, Parameter and ModuleList: registration and naming (PyTorch's names and order), train/eval,
zero_grad, state_dict / load_state_dict (copies, strict errors, dtype casting) and the __repr__ tree.
The expected names are PyTorch's for the same layers (written out here; tests/test_torch_parity.py
also compares them with a live PyTorch module when torch is installed)."""

import numpy as np
import pytest

import tinyseq as ts
import tinyseq.nn as nn


class Tagger(nn.Module):
    """A small model with parameters and submodules assigned in a deliberate order."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.embedding = nn.Embedding(10, 4, padding_idx=0)
        self.encoder = nn.LSTM(4, 3, num_layers=2, bidirectional=True)
        self.dropout = nn.Dropout(0.5)
        self.heads = nn.ModuleList([nn.Linear(6, 5), nn.Linear(6, 2, bias=False)])
        self.offset = nn.Parameter(np.zeros(2, dtype=np.float32))


TAGGER_NAMES = (
    ["scale", "offset", "embedding.weight"]
    + [
        f"encoder.{kind}_l{layer}{suffix}"
        for layer in (0, 1)
        for suffix in ("", "_reverse")
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    + ["heads.0.weight", "heads.0.bias", "heads.1.weight"]
)


def test_named_parameters_lists_own_parameters_then_submodules_in_assignment_order():
    # PyTorch's rule: a module's own parameters (in assignment order), then each submodule's, depth first.
    assert [name for name, _ in Tagger().named_parameters()] == TAGGER_NAMES


def test_parameters_follow_named_parameters():
    model = Tagger()
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(
    "layer,expected",
    [
        (nn.Linear(3, 2), {"weight": (2, 3), "bias": (2,)}),
        (nn.Embedding(7, 3, padding_idx=1), {"weight": (7, 3)}),
        (nn.RNNCell(3, 2, bias=False), {"weight_ih": (2, 3), "weight_hh": (2, 2)}),
        (nn.LSTMCell(3, 2), {"weight_ih": (8, 3), "weight_hh": (8, 2), "bias_ih": (8,), "bias_hh": (8,)}),
        (nn.GRUCell(3, 2), {"weight_ih": (6, 3), "weight_hh": (6, 2), "bias_ih": (6,), "bias_hh": (6,)}),
        (
            nn.GRU(3, 2, num_layers=2, bidirectional=True, bias=False),
            {
                "weight_ih_l0": (6, 3), "weight_hh_l0": (6, 2),
                "weight_ih_l0_reverse": (6, 3), "weight_hh_l0_reverse": (6, 2),
                "weight_ih_l1": (6, 4), "weight_hh_l1": (6, 2),
                "weight_ih_l1_reverse": (6, 4), "weight_hh_l1_reverse": (6, 2),
            },
        ),
        (
            nn.RNN(3, 2, num_layers=2),
            {
                "weight_ih_l0": (2, 3), "weight_hh_l0": (2, 2), "bias_ih_l0": (2,), "bias_hh_l0": (2,),
                "weight_ih_l1": (2, 2), "weight_hh_l1": (2, 2), "bias_ih_l1": (2,), "bias_hh_l1": (2,),
            },
        ),
    ],
    ids=["Linear", "Embedding", "RNNCell", "LSTMCell", "GRUCell", "GRU_2_layers_bidirectional", "RNN_2_layers"],
)
def test_layer_parameter_names_order_and_shapes_are_pytorchs(layer, expected):
    assert [(name, p.shape) for name, p in layer.named_parameters()] == list(expected.items())


def test_nested_names_are_dotted_paths():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Dropout(), nn.Linear(3, 1, bias=False)))
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.1.weight"]
    assert [name for name, _ in model.named_modules()] == ["", "0", "1", "1.0", "1.1"]


def tied_model():
    """An embedding and an output layer sharing one weight (weight tying), the output layer used twice."""
    embedding, output = nn.Embedding(5, 3), nn.Linear(3, 5, bias=False)
    output.weight = embedding.weight
    return nn.Sequential(embedding, output, output)


def test_a_shared_parameter_or_module_is_listed_once_under_its_first_name():
    # PyTorch's named_parameters() and named_modules() give the same lists for the same model.
    model = tied_model()
    assert [name for name, _ in model.named_parameters()] == ["0.weight"]
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert [name for name, _ in model.named_parameters(remove_duplicate=False)] == ["0.weight", "1.weight", "2.weight"]


def test_a_shared_parameter_is_in_the_state_dict_under_every_name():
    # As in PyTorch, so that tied checkpoints load both ways with strict=True.
    model = tied_model()
    state = model.state_dict()
    assert list(state) == ["0.weight", "1.weight", "2.weight"]
    state = {name: np.full((5, 3), 7.0) for name in state}
    assert model.load_state_dict(state) == ([], [])
    assert model[1].weight is model[0].weight
    np.testing.assert_array_equal(model[0].weight.data, np.full((5, 3), 7.0))


def test_reassigning_a_parameter_keeps_its_position():
    layer = nn.Linear(2, 3)
    layer.weight = nn.Parameter(np.zeros((3, 2), dtype=np.float32))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_a_parameter_assigned_over_a_plain_attribute_is_what_the_attribute_returns():
    layer = nn.Linear(2, 3, bias=False)  # bias is the plain attribute None here
    bias = nn.Parameter(np.ones(3, dtype=np.float32))
    layer.bias = bias
    assert layer.bias is bias
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    np.testing.assert_allclose(layer(ts.zeros(1, 2)).numpy(), [[1.0, 1.0, 1.0]])


def test_assigning_a_plain_value_unregisters_a_parameter():
    layer = nn.Linear(2, 3)
    layer.bias = None
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_deleting_an_attribute_unregisters_it():
    model = Tagger()
    del model.offset
    del model.heads
    assert "offset" not in dict(model.named_parameters())
    assert not any(name.startswith("heads.") for name, _ in model.named_parameters())
    with pytest.raises(AttributeError, match="offset"):
        model.offset


def test_missing_attribute_error_names_it():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'weights'"):
        nn.Linear(2, 2).weights


def test_assigning_before_super_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_module_list_registers_names_in_order_and_indexes_like_a_list():
    first, second = nn.Linear(2, 2), nn.Linear(2, 1)
    layers = nn.ModuleList([first])
    layers.append(second)
    assert len(layers) == 2
    assert layers[0] is first and layers[1] is second and layers[-1] is second
    assert list(layers) == [first, second]
    assert [name for name, _ in layers.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_train_and_eval_reach_every_submodule():
    model = Tagger()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())


def test_dropout_is_the_identity_in_eval_mode_only():
    ts.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.5))
    x = ts.ones(1000)
    trained = model(x).numpy()
    assert set(np.unique(trained)) == {0.0, 2.0}  # kept elements are scaled by 1 / (1 - p)
    np.testing.assert_array_equal(model.eval()(x).numpy(), np.ones(1000))


def gradients_of(model):
    x = ts.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    model(x).sum().backward()
    return [p.grad for p in model.parameters()]


def test_zero_grad_sets_gradients_to_none_by_default():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    assert all(g is not None for g in gradients_of(model))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_without_set_to_none_zeroes_the_same_arrays():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    grads = gradients_of(model)
    model.zero_grad(set_to_none=False)
    for parameter, grad in zip(model.parameters(), grads):
        assert parameter.grad is grad
        np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_state_dict_holds_copies_in_named_parameters_order():
    model = Tagger()
    state = model.state_dict()
    assert list(state) == TAGGER_NAMES
    assert all(isinstance(v, np.ndarray) for v in state.values())
    before = model.scale.data.copy()
    state["scale"][...] = 42.0
    np.testing.assert_array_equal(model.scale.data, before)
    model.scale.data[...] = -1.0
    np.testing.assert_array_equal(state["scale"], [42.0])


def test_load_state_dict_round_trip_restores_every_value():
    source, target = Tagger(), Tagger()
    missing, unexpected = target.load_state_dict(source.state_dict())
    assert missing == [] and unexpected == []
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_load_state_dict_copies_so_the_source_can_change_afterwards():
    layer = nn.Linear(2, 1)
    state = {"weight": np.array([[1.0, 2.0]], dtype=np.float32), "bias": np.array([3.0], dtype=np.float32)}
    layer.load_state_dict(state)
    state["weight"][...] = 0.0
    np.testing.assert_array_equal(layer.weight.data, [[1.0, 2.0]])


def test_load_state_dict_casts_to_each_parameters_dtype():
    layer = nn.Linear(2, 1)  # float32 parameters
    third = 1.0 / 3.0
    layer.load_state_dict({"weight": np.array([[third, 2.0]]), "bias": ts.tensor([1], dtype=np.int64)})
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, np.array([[third, 2.0]], dtype=np.float32))
    np.testing.assert_array_equal(layer.bias.data, [1.0])


def test_load_state_dict_strict_names_missing_keys():
    layer = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"state_dict is missing keys \['bias'\]"):
        layer.load_state_dict({"weight": np.zeros((1, 2))})


def test_load_state_dict_strict_names_unexpected_keys():
    layer = nn.Linear(2, 1)
    state = dict(layer.state_dict(), extra=np.zeros(1))
    with pytest.raises(ValueError, match=r"unexpected keys \['extra'\]"):
        layer.load_state_dict(state)


def test_load_state_dict_not_strict_loads_what_matches_and_reports_the_rest():
    layer = nn.Linear(2, 1)
    missing, unexpected = layer.load_state_dict({"weight": np.array([[5.0, 6.0]]), "extra": np.zeros(1)}, strict=False)
    assert missing == ["bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(layer.weight.data, [[5.0, 6.0]])


def test_load_state_dict_shape_mismatch_names_the_key_and_both_shapes_and_loads_nothing():
    model = nn.LSTM(3, 4)
    before = model.state_dict()
    state = {name: value + 1.0 for name, value in before.items()}
    state["bias_hh_l0"] = np.zeros(12)
    with pytest.raises(ValueError, match=r"state_dict\['bias_hh_l0'\] has shape \(12,\).*shape is \(16,\)"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=f"{name} changed by a failed load")


def test_repr_is_an_indented_tree_like_pytorchs():
    model = nn.Sequential(
        nn.Embedding(10, 4, padding_idx=0),
        nn.LSTM(4, 3, num_layers=2, batch_first=True, dropout=0.25),
        nn.Sequential(nn.Dropout(0.1), nn.Linear(3, 2, bias=False)),
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Embedding(10, 4, padding_idx=0)\n"
        "  (1): LSTM(4, 3, num_layers=2, batch_first=True, dropout=0.25)\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1)\n"
        "    (1): Linear(in_features=3, out_features=2, bias=False)\n"
        "  )\n"
        ")"
    )


@pytest.mark.parametrize(
    "layer,text",
    [
        (nn.RNN(2, 3), "RNN(2, 3)"),
        (nn.GRU(2, 3, bidirectional=True, bias=False), "GRU(2, 3, bias=False, bidirectional=True)"),
        (nn.GRU(2, 3, reset_after=False), "GRU(2, 3, reset_after=False)"),
        (nn.LSTMCell(2, 3, bias=False), "LSTMCell(2, 3, bias=False)"),
        (nn.RNNCell(2, 3, nonlinearity="relu"), "RNNCell(2, 3, nonlinearity=relu)"),
        (nn.GRUCell(2, 3, reset_after=False), "GRUCell(2, 3, reset_after=False)"),
    ],
)
def test_layer_repr_shows_the_options_that_differ_from_the_defaults(layer, text):
    assert repr(layer) == text


def test_parameter_repr_says_what_it_is():
    assert repr(nn.Parameter(np.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_linear_and_embedding_initialisation_follow_pytorch():
    ts.manual_seed(0)
    layer = nn.Linear(16, 400)
    bound = 1 / np.sqrt(16)  # PyTorch: U(-1/sqrt(in_features), 1/sqrt(in_features)) for weight and bias
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.weight.data).max() > 0.95 * bound
    assert np.abs(layer.bias.data).max() <= bound
    embedding = nn.Embedding(1000, 8, padding_idx=3)  # PyTorch: N(0, 1), the padding row zero
    np.testing.assert_array_equal(embedding.weight.data[3], np.zeros(8))
    rows = np.delete(embedding.weight.data, 3, axis=0)
    assert abs(rows.mean()) < 0.05 and abs(rows.std() - 1) < 0.05


def test_embedding_padding_row_gets_no_gradient():
    embedding = nn.Embedding(4, 2, padding_idx=1)
    embedding(ts.tensor(np.array([1, 2, 1, 3]))).sum().backward()
    np.testing.assert_array_equal(embedding.weight.grad, [[0, 0], [0, 0], [1, 1], [1, 1]])


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: nn.Linear(0, 2), "in_features must be a positive integer, got 0"),
        (lambda: nn.Linear(2, 1.5), "out_features must be a positive integer, got 1.5"),
        (lambda: nn.Embedding(4, 2, padding_idx=4), r"padding_idx must be in \[-4, 4\), got 4"),
        (lambda: nn.Dropout(1.5), r"p must be in \[0, 1\], got 1.5"),
        (lambda: nn.Dropout(-0.1), r"p must be in \[0, 1\], got -0.1"),
    ],
)
def test_feed_forward_layers_reject_bad_arguments_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()
