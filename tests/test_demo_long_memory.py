"""The long-memory demo (demos/long_memory.py): --smoke end to end in a subprocess, its flag
checking, and the two pieces of it that compute something a learner reads off a picture:
the Jacobian norms of the gradient-flow plot (checked against central finite differences) and the
forget-gate bias (checked against the LSTM's cell-state update worked by hand)."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts

DEMO = Path(__file__).resolve().parents[1] / "demos" / "long_memory.py"
CELLS = ("RNN", "LSTM, forget bias 0", "LSTM, forget bias 1", "GRU")
PICTURES = ("gradient_flow.png", "adding_problem.png", "clipping.png")


def run_demo(*args):
    return subprocess.run([sys.executable, str(DEMO), *args], capture_output=True, text=True, timeout=300)


def load_demo():
    spec = importlib.util.spec_from_file_location("long_memory_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("long_memory")
    result = run_demo("--smoke", "--out", str(out), "--seed", "3")
    assert result.returncode == 0, result.stderr
    return out, result


def test_smoke_run_writes_and_names_the_three_pictures(smoke_run):
    out, result = smoke_run
    for name in PICTURES:
        path = out / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert path.stat().st_size > 10_000, f"{name} looks empty"
        assert str(path) in result.stdout, f"the demo should print where it wrote {name}"


def test_smoke_summary_has_every_cell_at_every_length(smoke_run):
    out, result = smoke_run
    summary = (out / "summary.txt").read_text()
    assert summary.strip() in result.stdout
    adding_section = summary.split("\n\n")[0].splitlines()
    assert "baseline 1/6 = 0.1667" in adding_section[0]
    assert adding_section[1].split()[1:] == ["T=4", "T=8"]  # the smoke lengths
    rows = {line[:21].strip(): line[21:].split() for line in adding_section[2:]}
    assert sorted(rows) == sorted(CELLS)
    for cell, values in rows.items():
        assert len(values) == 2, cell
        assert all(0.0 <= float(value.rstrip("*")) < 10.0 for value in values), (cell, values)


def test_smoke_summary_reports_steps_to_solve_for_every_cell(smoke_run):
    out, _ = smoke_run
    steps_section = (out / "summary.txt").read_text().split("\n\n")[1].splitlines()
    assert steps_section[0].startswith("Training steps until")
    for line in steps_section[2:]:
        values = line[21:].split()
        assert len(values) == 2 and all(value == "-" or 1 <= int(value) <= 20 for value in values), line


def test_smoke_summary_reports_gradient_flow_and_both_clipping_runs(smoke_run):
    out, _ = smoke_run
    flow_section, clipping_section = (out / "summary.txt").read_text().split("\n\n")[2:4]
    assert flow_section.startswith("Gradient flow")
    for cell in CELLS:
        row = next(line for line in flow_section.splitlines() if line.startswith(cell + " "))
        values = [float(value) for value in row[len(cell):].split()]
        assert len(values) == 4 and all(np.isfinite(values)) and all(v > 0 for v in values), row
    # The smoke settings (gain 3, SGD lr 0.5) overflow without clipping within their 30 steps: the
    # demo must report that as an outcome, and the clipped run from the same weights must finish.
    assert re.search(r"^no clipping\s.*diverged: not finite at step \d+$", clipping_section, re.MULTILINE)
    assert re.search(r"^clip max_norm=1\s.*finished, (above|below) the baseline$", clipping_section, re.MULTILINE)


def test_smoke_summary_reports_the_gradient_flow_factor_per_step_over_two_lag_ranges(smoke_run):
    """The factors are (norm[b] / norm[a]) ** (1 / (b - a)) of the flow table's own numbers: lag 0
    (norm 1) to T // 4, and T // 4 to T - 1; recomputed here from the rounded norms."""
    out, _ = smoke_run
    sections = (out / "summary.txt").read_text().split("\n\n")
    flow_rows = sections[2].splitlines()
    factor_section = sections[4]
    assert factor_section.startswith("Gradient flow at initialisation, mean factor per step")
    header = factor_section.splitlines()[1].split()
    near, far = (int(bound) for bound in header[-1].split("-"))
    for cell in CELLS:
        norms = [float(v) for v in next(r for r in flow_rows if r.startswith(cell + " "))[len(cell):].split()]
        factors = [float(v) for v in next(r for r in factor_section.splitlines() if r.startswith(cell + " "))[len(cell):].split()]
        expected = [norms[0] ** (1 / near), (norms[1] / norms[0]) ** (1 / (far - near))]
        np.testing.assert_allclose(factors, expected, rtol=2e-3, err_msg=cell)


@pytest.mark.parametrize(
    "losses, expected",
    [
        # By hand: a 50-step window holding k of the 0.1s has mean 0.1 k / 50, below 1/60 for k <= 8;
        # the first such window starts at step 52 (steps 52..101), so it ends after 102 steps.
        ([0.1] * 60 + [0.0] * 60, 102),
        ([0.001] * 10, 10),  # fewer steps than the window: the window shrinks to the run
        ([0.5] * 100, None),
    ],
)
def test_steps_to_solve_counts_steps_until_the_running_mean_is_below_the_threshold(losses, expected):
    demo = load_demo()
    assert demo.steps_to_solve(losses) == expected


def test_smoke_run_is_reproducible_from_the_seed(smoke_run, tmp_path):
    out, _ = smoke_run
    again = run_demo("--smoke", "--out", str(tmp_path), "--seed", "3")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "summary.txt").read_text() == (out / "summary.txt").read_text()


@pytest.mark.parametrize(
    "flags, mentions",
    [
        (["--seed", "-1"], "--seed"),
        (["--seed", "abc"], "--seed"),
        (["--smoke", "--bogus"], "--bogus"),
    ],
)
def test_bad_flags_give_one_line_and_a_nonzero_exit(flags, mentions, tmp_path):
    result = run_demo(*flags, "--out", str(tmp_path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert mentions in result.stderr


def test_an_out_path_that_is_a_file_gives_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_demo("--smoke", "--out", str(blocker / "inside"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "--out" in result.stderr


def _finite_difference_norms(model, inputs, eps=1e-6):
    """||d h_T / d h_t||_F / sqrt(H) by central differences: perturb one unit of h_t, rerun the
    cell forward from there (no autograd), and difference the two h_T (C_t held fixed for the LSTM)."""
    layer = model.recurrent
    hidden = layer.hidden_size
    cell_class = {"RNN": ts.nn.RNNCell, "LSTM": ts.nn.LSTMCell, "GRU": ts.nn.GRUCell}[type(layer).__name__]
    cell = cell_class(2, hidden)
    cell.load_state_dict({name.removesuffix("_l0"): array for name, array in layer.state_dict().items()})
    num_sequences, seq_len, _ = inputs.shape
    is_lstm = cell_class is ts.nn.LSTMCell
    with ts.no_grad():
        states, state = [], None
        for t in range(seq_len):
            state = cell(ts.tensor(inputs[:, t]), state)
            states.append(state)

        def last_hidden(start, state):
            for t in range(start + 1, seq_len):
                state = cell(ts.tensor(inputs[:, t]), state)
            return (state[0] if is_lstm else state).numpy()

        norms = np.empty(seq_len)
        for t in range(seq_len):
            jacobians = np.empty((num_sequences, hidden, hidden))
            for unit in range(hidden):
                shifted = []
                for sign in (1.0, -1.0):
                    h = (states[t][0] if is_lstm else states[t]).numpy().copy()
                    h[:, unit] += sign * eps
                    start = (ts.tensor(h), states[t][1]) if is_lstm else ts.tensor(h)
                    shifted.append(last_hidden(t, start))
                jacobians[:, :, unit] = (shifted[0] - shifted[1]) / (2 * eps)
            norms[seq_len - 1 - t] = np.mean(np.linalg.norm(jacobians, axis=(1, 2))) / np.sqrt(hidden)
    return norms


@pytest.mark.parametrize("cell", CELLS)
def test_jacobian_norms_match_finite_differences(cell, float64):
    demo = load_demo()
    ts.manual_seed(5)
    model = demo.AddingRegressor(cell, hidden_size=4)
    # Larger recurrent weights than the default initialisation, so the norms span several decades.
    model.recurrent.weight_hh_l0.data *= 3.0
    inputs, _ = demo.adding_problem(3, 7, rng=0)
    inputs = inputs.astype(np.float64)
    norms = demo.hidden_state_jacobian_norms(model, inputs)
    assert norms.shape == (7,)
    assert norms[0] == pytest.approx(1.0)  # d h_T / d h_T is the identity
    np.testing.assert_allclose(norms, _finite_difference_norms(model, inputs), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("forget_bias", [0.0, 1.0])
def test_forget_bias_scales_the_cell_state_by_its_sigmoid(forget_bias, float64):
    # By hand: with every weight zero and every other bias zero, i = o = sigmoid(0) and g = tanh(0)
    # = 0, so C_1 = f * C_0 with f = sigmoid(forget_bias): the bias sits where the LSTM reads f.
    demo = load_demo()
    model = demo.AddingRegressor(f"LSTM, forget bias {forget_bias:g}", hidden_size=3)
    lstm = model.recurrent
    for parameter in (lstm.weight_ih_l0, lstm.weight_hh_l0):
        parameter.data[...] = 0.0
    bias_total = lstm.bias_ih_l0.data + lstm.bias_hh_l0.data
    np.testing.assert_allclose(bias_total[3:6], forget_bias)
    lstm.bias_ih_l0.data[[0, 1, 2, 6, 7, 8, 9, 10, 11]] = 0.0
    lstm.bias_hh_l0.data[[0, 1, 2, 6, 7, 8, 9, 10, 11]] = 0.0
    cell_state = np.array([[0.5, -1.0, 2.0]])
    _, (_, c_1) = lstm(np.zeros((1, 1, 2)), (np.zeros((1, 1, 3)), cell_state[None]))
    np.testing.assert_allclose(c_1.numpy()[0], cell_state / (1.0 + np.exp(-forget_bias)), rtol=1e-12)
