"""tinyseq.interop: a layer moved to PyTorch (to_torch) or from it (from_torch) gives the same outputs,
to 1e-6 in float32, on the same input. The reference is PyTorch's own layer; in the from_torch
direction its weights are PyTorch's default initialisation, so neither side's numbers come from
the code under test."""

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="interop tests need torch: pip install -e '.[parity]' to enable")

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402
from tinyseq.interop import from_torch, to_torch  # noqa: E402

TOLERANCE = {np.float32: 1e-6, np.float64: 1e-12}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
SEQ_LEN, BATCH, INPUT_SIZE, HIDDEN_SIZE = 5, 3, 4, 3

# (name, tinyseq module factory, input maker): inputs are numpy arrays, float ones in N(0, 1).
FLOAT_INPUT = (SEQ_LEN, BATCH, INPUT_SIZE)
CASES = {
    "Linear": (lambda: nn.Linear(INPUT_SIZE, 2), FLOAT_INPUT),
    "Linear(bias=False)": (lambda: nn.Linear(INPUT_SIZE, 2, bias=False), FLOAT_INPUT),
    "Embedding(padding_idx=2)": (lambda: nn.Embedding(10, INPUT_SIZE, padding_idx=2), "indices"),
    "Dropout": (lambda: nn.Dropout(0.3), FLOAT_INPUT),
    "Sequential": (lambda: nn.Sequential(nn.Linear(INPUT_SIZE, 6), nn.Dropout(0.1), nn.Linear(6, 2)), FLOAT_INPUT),
    "RNN(tanh)": (lambda: nn.RNN(INPUT_SIZE, HIDDEN_SIZE), FLOAT_INPUT),
    "RNN(relu, 2 layers, bidirectional)": (
        lambda: nn.RNN(INPUT_SIZE, HIDDEN_SIZE, num_layers=2, nonlinearity="relu", bidirectional=True), FLOAT_INPUT),
    "LSTM": (lambda: nn.LSTM(INPUT_SIZE, HIDDEN_SIZE), FLOAT_INPUT),
    "LSTM(2 layers, bidirectional, dropout, batch_first)": (
        lambda: nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, num_layers=2, bidirectional=True, dropout=0.2, batch_first=True),
        FLOAT_INPUT),
    "LSTM(bias=False)": (lambda: nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, bias=False), FLOAT_INPUT),
    "GRU": (lambda: nn.GRU(INPUT_SIZE, HIDDEN_SIZE), FLOAT_INPUT),
    "GRU(2 layers, bidirectional)": (
        lambda: nn.GRU(INPUT_SIZE, HIDDEN_SIZE, num_layers=2, bidirectional=True), FLOAT_INPUT),
    "RNNCell(relu)": (lambda: nn.RNNCell(INPUT_SIZE, HIDDEN_SIZE, nonlinearity="relu"), (BATCH, INPUT_SIZE)),
    "LSTMCell": (lambda: nn.LSTMCell(INPUT_SIZE, HIDDEN_SIZE), (BATCH, INPUT_SIZE)),
    "GRUCell": (lambda: nn.GRUCell(INPUT_SIZE, HIDDEN_SIZE), (BATCH, INPUT_SIZE)),
}


def make_input(kind, dtype):
    generator = np.random.default_rng(0)
    if kind == "indices":
        return generator.integers(0, 10, size=(SEQ_LEN, BATCH))
    return generator.standard_normal(kind).astype(dtype)


def flatten(output):
    """Every array in a layer's output ((out, h_n), (out, (h_n, c_n)), (h, c) or one tensor)."""
    if isinstance(output, (tuple, list)):
        return [array for item in output for array in flatten(item)]
    if isinstance(output, torch.Tensor):
        return [output.detach().numpy()]
    return [output.numpy()]


def assert_same_outputs(tinyseq_module, torch_module, input, dtype):
    expected = flatten(torch_module(torch.from_numpy(input)))
    actual = flatten(tinyseq_module(ts.tensor(input, dtype=input.dtype)))
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("name", CASES)
def test_to_torch_gives_a_pytorch_module_with_the_same_outputs(name):
    factory, kind = CASES[name]
    ts.manual_seed(0)
    module = factory().eval()
    converted = to_torch(module)
    assert isinstance(converted, torch.nn.Module) and not converted.training
    assert_same_outputs(module, converted, make_input(kind, np.float32), np.float32)


@pytest.mark.parametrize("name", CASES)
def test_from_torch_of_a_pytorch_initialised_module_gives_the_same_outputs(name):
    factory, kind = CASES[name]
    torch.manual_seed(0)
    reference = to_torch(factory())  # only the configuration is used: every weight is re-drawn by PyTorch
    for module in reference.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    reference.eval()
    converted = from_torch(reference)
    assert not converted.training
    for name_, parameter in reference.named_parameters():
        np.testing.assert_array_equal(dict(converted.named_parameters())[name_].numpy(), parameter.detach().numpy())
    assert_same_outputs(converted, reference, make_input(kind, np.float32), np.float32)


@pytest.mark.parametrize("name", ["LSTM", "GRU(2 layers, bidirectional)", "Linear"])
def test_float64_stays_float64_both_ways(name):
    factory, kind = CASES[name]
    ts.set_default_dtype(np.float64)
    try:
        module = factory().eval()
    finally:
        ts.set_default_dtype(np.float32)
    converted = to_torch(module)
    assert all(parameter.dtype == torch.float64 for parameter in converted.parameters())
    assert_same_outputs(module, converted, make_input(kind, np.float64), np.float64)
    back = from_torch(converted)
    assert all(parameter.dtype == np.float64 for parameter in back.parameters())


def test_the_copy_is_independent_and_keeps_the_training_mode():
    layer = nn.Linear(2, 2)
    converted = to_torch(layer)
    assert converted.training
    with torch.no_grad():
        converted.weight.zero_()
    assert np.abs(layer.weight.numpy()).sum() > 0
    assert from_torch(converted.eval()).training is False


def test_dropout_keeps_its_probability():
    assert to_torch(nn.Dropout(0.25)).p == 0.25 and from_torch(torch.nn.Dropout(0.75)).p == 0.75


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)

    def forward(self, x):
        return self.linear(x)


def test_to_torch_of_an_unknown_module_names_its_type():
    with pytest.raises(TypeError, match=r"no PyTorch counterpart for test_interop\.Tagger \(known: .*LSTM"):
        to_torch(Tagger())
    with pytest.raises(TypeError, match=r"no PyTorch counterpart for test_interop\.Tagger"):
        to_torch(nn.Sequential(nn.Linear(2, 2), Tagger()))
    with pytest.raises(TypeError, match="module must be a tinyseq.nn.Module, got Linear"):
        to_torch(torch.nn.Linear(2, 2))


def test_from_torch_of_an_unknown_module_names_its_type():
    with pytest.raises(TypeError, match=r"no tinyseq counterpart for torch\.nn\.modules\.conv\.Conv1d"):
        from_torch(torch.nn.Conv1d(2, 2, 3))
    with pytest.raises(TypeError, match="module must be a torch.nn.Module, got Linear"):
        from_torch(nn.Linear(2, 2))


def test_reset_before_gru_has_no_pytorch_layer():
    with pytest.raises(ValueError, match=r"GRU\(reset_after=False\) has no PyTorch counterpart"):
        to_torch(nn.GRU(2, 3, reset_after=False))
    with pytest.raises(ValueError, match=r"GRUCell\(reset_after=False\) has no PyTorch counterpart"):
        to_torch(nn.GRUCell(2, 3, reset_after=False))


@pytest.mark.parametrize("module, message", [
    (lambda: torch.nn.LSTM(2, 4, proj_size=3), "no proj_size"),
    (lambda: torch.nn.Embedding(5, 2, max_norm=1.0), r"Embedding has no max_norm \(got \{'max_norm': 1.0\}\)"),
    (lambda: torch.nn.Linear(2, 2).half(), "has dtype torch.float16; tinyseq takes float32 or float64"),
])
def test_from_torch_refuses_what_tinyseq_does_not_have(module, message):
    with pytest.raises(ValueError, match=message):
        from_torch(module())


def test_mixed_dtypes_are_refused_by_name():
    layer = nn.Linear(2, 2)
    layer.bias.data = layer.bias.data.astype(np.float64)
    with pytest.raises(ValueError, match=r"Linear's parameters must all be float32 or all float64, got \['float32', 'float64'\]"):
        to_torch(layer)


def test_without_torch_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"to_torch needs PyTorch, an optional dependency"):
        to_torch(nn.Linear(2, 2))


def test_the_interop_page_trains_moves_exports_and_runs_the_tagger(tmp_path):
    """docs/interop.md's code blocks, run in order as one script: the tagger's scores agree in
    tinyseq, PyTorch and ONNX Runtime (the page asserts it). Needs onnx and onnxruntime, which are
    not dependencies of tinyseq: skipped without them."""
    import os
    import re
    import subprocess
    from pathlib import Path

    pytest.importorskip("onnx", reason="pip install onnx onnxruntime to run docs/interop.md")
    pytest.importorskip("onnxruntime", reason="pip install onnx onnxruntime to run docs/interop.md")
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "interop.md").read_text()
    blocks = [body for language, body in re.findall(r"^```(\w+)\n(.*?)^```$", page, re.MULTILINE | re.DOTALL)
              if language == "python"]
    assert len(blocks) == 3, "docs/interop.md should have its three python blocks: train, move, export"
    (tmp_path / "walkthrough.py").write_text("\n\n".join(blocks))
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "walkthrough.py"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"docs/interop.md failed:\n{result.stdout}\n{result.stderr}"
    assert "tinyseq, PyTorch and ONNX Runtime agree on 5 test sentences" in result.stdout
    assert (tmp_path / "tagger.onnx").stat().st_size > 0


def test_crf_moves_to_pytorch_crf_and_back_with_the_same_scores_and_paths():
    torchcrf = pytest.importorskip("torchcrf", reason="pip install pytorch-crf for the CRF bridge")
    ts.manual_seed(0)
    crf = nn.CRF(4, batch_first=True)
    converted = to_torch(crf)
    assert isinstance(converted, torchcrf.CRF) and converted.batch_first
    generator = np.random.default_rng(1)
    emissions = generator.standard_normal((3, 5, 4)).astype(np.float32)  # (N, T, K)
    tags = generator.integers(0, 4, size=(3, 5))
    mask = np.arange(5)[None, :] < np.array([5, 2, 4])[:, None]  # three lengths, one the full 5
    expected = converted(torch.from_numpy(emissions), torch.from_numpy(tags), torch.from_numpy(mask),
                         reduction="none").detach().numpy()
    actual = crf(ts.tensor(emissions), tags, mask=mask, reduction="none").numpy()
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)
    assert crf.decode(ts.tensor(emissions), mask=mask) == converted.decode(torch.from_numpy(emissions),
                                                                           torch.from_numpy(mask))
    back = from_torch(converted)
    for name, parameter in converted.named_parameters():
        np.testing.assert_array_equal(dict(back.named_parameters())[name].numpy(), parameter.detach().numpy())


def test_a_constrained_crf_has_no_pytorch_crf_counterpart():
    pytest.importorskip("torchcrf", reason="pip install pytorch-crf for the CRF bridge")
    crf = nn.CRF(3, constraints=nn.crf.allowed_transitions(["O", "B-x", "I-x"]))
    with pytest.raises(ValueError, match="has constraints"):
        to_torch(crf)
