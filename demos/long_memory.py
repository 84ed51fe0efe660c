"""Why LSTM and GRU remember: gradient flow, a long-range task, and gradient clipping.

    python demos/long_memory.py                  # the full run, a few minutes on 2 cores
    python demos/long_memory.py --seed 1 --out runs/long_memory_seed1
    python demos/long_memory.py --smoke          # a few seconds, for the tests

A recurrent network can in principle carry information over any number of steps, but it learns
from gradients, and the gradient that reaches step t from the loss at step T is a product of
T - t Jacobians of the recurrence. For a plain (Elman) RNN that product shrinks or grows
exponentially with the lag T - t: vanishing and exploding gradients (Bengio, Simard & Frasconi
1994, "Learning Long-Term Dependencies with Gradient Descent is Difficult"; Pascanu, Mikolov &
Bengio 2013, "On the difficulty of training recurrent neural networks"). The LSTM's cell state is updated additively, C_t = f_t * C_{t-1}
+ i_t * C~_t, so along that path the Jacobian is just the forget gate f_t; with f_t near 1 the
gradient survives many steps. The GRU's h_t = (1 - z_t) * n_t + z_t * h_{t-1} does the same with
its update gate. This script shows each claim with a picture:

1. Data: the adding problem (tinyseq/datasets/long_range.py): remember two marked numbers, one in
   each half of the sequence, and output their sum at the end. Always answering 1.0 scores MSE 1/6.
2. Models: RNN, LSTM with forget-gate bias 0, LSTM with forget-gate bias 1, and GRU, each read out
   by a linear layer from its last hidden state.
3. Training: each model on the adding problem at several sequence lengths (Adam, clipped gradients).
4. Evaluation: the test MSE against sequence length (adding_problem.png), and the gradient flow
   ||d h_T / d h_t|| against the lag at initialisation and after training (gradient_flow.png).
5. Clipping: an RNN with large recurrent weights trained by SGD with and without clip_grad_norm_
   (clipping.png): the loss falls off a cliff without it and steps over it with it.
6. The summary table.
"""

import os

# The matrices here are small (batch x hidden), where a multi-threaded BLAS only adds contention,
# and on a shared machine it can be tens of times slower. Must be set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402
from tinyseq.datasets.long_range import ADDING_PROBLEM_BASELINE_MSE, adding_problem  # noqa: E402

CELLS = {
    # name: (layer class, cell class, initial forget-gate bias or None)
    "RNN": (nn.RNN, nn.RNNCell, None),
    "LSTM, forget bias 0": (nn.LSTM, nn.LSTMCell, 0.0),
    "LSTM, forget bias 1": (nn.LSTM, nn.LSTMCell, 1.0),
    "GRU": (nn.GRU, nn.GRUCell, None),
}
COLOURS = {"RNN": "tab:red", "LSTM, forget bias 0": "tab:orange", "LSTM, forget bias 1": "tab:blue", "GRU": "tab:green"}

# "Solved" means a test MSE below a tenth of the baseline's: the model has found both marked
# numbers, not just learned that the sum is about 1.
SOLVED_MSE = 0.1 * ADDING_PROBLEM_BASELINE_MSE


@dataclass(frozen=True)
class Settings:
    lengths: tuple          # adding-problem sequence lengths T
    hidden_size: int
    batch_size: int
    train_steps: int        # Adam steps per model and length
    learning_rate: float
    max_norm: float         # gradient clipping in the main training runs
    test_size: int          # held-out sequences per length
    flow_sequences: int     # sequences the Jacobian norms are averaged over
    clip_length: int        # the clipping experiment: sequence length,
    clip_steps: int         # SGD steps,
    clip_gain: float        # recurrent weights = gain * a random orthogonal matrix,
    clip_learning_rate: float
    clip_max_norm: float


# Chosen (with PyTorch prototypes over several seeds) so that LSTM and GRU solve T = 80 while the
# RNN fails beyond T = 20, in about 90 s of CPU time. With these the unclipped SGD run of the
# clipping experiment overflows within about a hundred steps. The smoke settings exaggerate the
# gain and the learning rate so that it overflows within their 30 steps, and the tests see it.
DEFAULT = Settings(lengths=(10, 20, 40, 80), hidden_size=32, batch_size=128, train_steps=1000, learning_rate=1e-2,
                   max_norm=1.0, test_size=1000, flow_sequences=32, clip_length=10, clip_steps=400, clip_gain=2.5,
                   clip_learning_rate=0.05, clip_max_norm=1.0)
SMOKE = Settings(lengths=(4, 8), hidden_size=8, batch_size=16, train_steps=20, learning_rate=1e-2, max_norm=1.0,
                 test_size=64, flow_sequences=4, clip_length=6, clip_steps=30, clip_gain=3.0, clip_learning_rate=0.5,
                 clip_max_norm=1.0)


class UsageError(Exception):
    """A problem with the user's input: printed as one line, exit status 2, no traceback."""


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv):
    parser = _Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/long_memory", help="folder for the PNGs and summary.txt")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights, the data and the batches")
    parser.add_argument("--smoke", action="store_true", help="a tiny run of a few seconds, for tests")
    args = parser.parse_args(argv)
    if args.seed < 0:
        raise UsageError(f"--seed must be non-negative, got {args.seed}")
    return args


# ---------------------------------------------------------------------------------------------
# 2. Models
# ---------------------------------------------------------------------------------------------


class AddingRegressor(nn.Module):
    """A recurrent layer reads the (value, marker) pairs; a linear layer maps its last hidden
    state to the predicted sum.

    inputs: (N, T, 2) -> predictions: (N,)
    """

    def __init__(self, cell, hidden_size):
        super().__init__()
        layer_class, _, forget_bias = CELLS[cell]
        self.cell = cell
        self.recurrent = layer_class(2, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, 1)
        if forget_bias is not None:
            set_forget_bias(self.recurrent, forget_bias)

    def forward(self, inputs):
        output, _ = self.recurrent(inputs)
        return self.readout(output[:, -1]).reshape(-1)


def set_forget_bias(lstm, value):
    """Make the forget gate's total bias b_if + b_hf equal `value` in every unit.

    PyTorch's LSTM stacks the gates' rows as i, f, g, o, so the forget gate is rows H:2H of both
    bias vectors. At initialisation the recurrent input is small, so f ~ sigmoid(value): 0.5 for 0,
    0.73 for 1. Jozefowicz, Zaremba & Sutskever (2015, "An Empirical Exploration of Recurrent
    Network Architectures") recommend 1, so that the cell starts out remembering.
    """
    hidden = lstm.hidden_size
    lstm.bias_ih_l0.data[hidden:2 * hidden] = value
    lstm.bias_hh_l0.data[hidden:2 * hidden] = 0.0


def mse(predictions, targets):
    return ((predictions - ts.tensor(targets)) ** 2).mean()


# ---------------------------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------------------------


def train_adding(model, length, settings, seed):
    """Adam on fresh batches of the adding problem; returns the training loss of every step.

    The batches depend only on (seed, length), so every cell sees the same data."""
    from tqdm import tqdm

    batches = np.random.default_rng((seed, length))
    optimizer = ts.optim.Adam(model.parameters(), lr=settings.learning_rate)
    losses = []
    progress = tqdm(range(settings.train_steps), desc=f"T={length:<3d} {model.cell}", leave=False, mininterval=0.5)
    for _ in progress:
        inputs, targets = adding_problem(settings.batch_size, length, rng=batches)
        loss = mse(model(ts.tensor(inputs)), targets)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), settings.max_norm)
        optimizer.step()
        losses.append(loss.item())
        progress.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}", refresh=False)
    return losses


def steps_to_solve(losses, window=50):
    """The number of steps after which the mean training loss over the last `window` steps first
    fell below SOLVED_MSE, or None if it never did. Training on the adding problem usually sits on
    a plateau at the baseline first (the model learns to answer ~1.0), then drops off it."""
    window = min(window, len(losses))
    cumulative = np.concatenate([[0.0], np.cumsum(losses)])
    running_mean = (cumulative[window:] - cumulative[:-window]) / window  # entry i: steps i .. i + window - 1
    below = np.flatnonzero(running_mean < SOLVED_MSE)
    return int(below[0]) + window if len(below) else None


# ---------------------------------------------------------------------------------------------
# 4. Evaluation: test error and gradient flow
# ---------------------------------------------------------------------------------------------


@ts.no_grad()
def held_out_mse(model, inputs, targets):
    return float(np.mean((model(ts.tensor(inputs)).numpy() - targets) ** 2))


def hidden_state_jacobian_norms(model, inputs):
    """How strongly the last hidden state depends on each earlier one.

    inputs: (N, T, 2). Returns norms: (T,), where norms[lag] is the mean over the N sequences of
    ||d h_T / d h_{T - lag}||_F / sqrt(H), H the hidden size. The Jacobian of h_T with respect to
    itself is the identity, whose Frobenius norm is sqrt(H), so norms[0] = 1.

    The layer runs every step inside one op, so it has no h_t of its own to differentiate with
    respect to. Instead its cell runs step by step with the same weights, and a zero "probe" tensor
    p_t is added to each h_t: then d h_T / d p_t = d h_T / d h_t, and p_t.grad holds it. For the
    LSTM this is the derivative with respect to h_t alone, the cell state C_t held fixed. The cell
    runs in float64 whatever the layer's dtype.

    Each sequence is repeated H times and copy k backpropagates only unit k of h_T, so a single
    backward pass yields row k of every Jacobian.
    """
    layer = model.recurrent
    hidden = layer.hidden_size
    _, cell_class, _ = CELLS[model.cell]
    cell = cell_class(2, hidden)
    layer_parameters = dict(layer.named_parameters())
    for name, parameter in cell.named_parameters():
        # float64, because at long lags the RNN's norms fall towards float32's smallest normal
        # number, 1e-38, and the picture would show rounding instead of the decay.
        parameter.data = layer_parameters[f"{name}_l0"].data.astype(np.float64)
    num_sequences, seq_len, _ = inputs.shape
    repeated = np.repeat(inputs, hidden, axis=0)  # (N * H, T, 2): copy k of sequence n is row n * H + k
    probes = [ts.zeros(num_sequences * hidden, hidden, dtype=np.float64, requires_grad=True) for _ in range(seq_len)]
    is_lstm = cell_class is nn.LSTMCell
    state = None
    for t in range(seq_len):
        state = cell(ts.tensor(repeated[:, t], dtype=np.float64), state)
        if is_lstm:
            state = (state[0] + probes[t], state[1])
        else:
            state = state + probes[t]
    last_hidden = state[0] if is_lstm else state
    last_hidden.backward(np.tile(np.eye(hidden), (num_sequences, 1)))
    norms = np.empty(seq_len)
    for t, probe in enumerate(probes):
        jacobians = probe.grad.reshape(num_sequences, hidden, hidden)
        norms[seq_len - 1 - t] = np.mean(np.sqrt(np.sum(jacobians ** 2, axis=(1, 2)))) / np.sqrt(hidden)
    return norms


# ---------------------------------------------------------------------------------------------
# 5. Clipping
# ---------------------------------------------------------------------------------------------


def clipping_run(max_norm, settings, seed):
    """SGD on the adding problem with an RNN whose recurrent weights are clip_gain times a random
    orthogonal matrix, so every direction of h is amplified by the gain before the tanh: the
    regime where gradients explode. max_norm = inf only measures the gradient norm.

    Returns (losses, gradient norms before clipping, the step at which the loss or the gradient
    stopped being finite, or None). The model, its weights and the batches are the same for every
    max_norm, so the runs differ only by clipping."""
    from tqdm import tqdm

    ts.manual_seed(seed)
    model = AddingRegressor("RNN", settings.hidden_size)
    gaussian = np.random.default_rng((seed, 1)).standard_normal((settings.hidden_size, settings.hidden_size))
    orthogonal, _ = np.linalg.qr(gaussian)
    model.recurrent.weight_hh_l0.data[...] = settings.clip_gain * orthogonal
    optimizer = ts.optim.SGD(model.parameters(), lr=settings.clip_learning_rate)
    batches = np.random.default_rng((seed, 2))
    losses, norms, diverged_at = [], [], None
    label = "no clipping" if math.isinf(max_norm) else f"max_norm={max_norm:g}"
    # Overflow is expected without clipping; it is detected below and reported, not warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in tqdm(range(settings.clip_steps), desc=f"clipping, {label}", leave=False, mininterval=0.5):
            inputs, targets = adding_problem(settings.batch_size, settings.clip_length, rng=batches)
            loss = mse(model(ts.tensor(inputs)), targets)
            optimizer.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm).item()
            if not (math.isfinite(loss.item()) and math.isfinite(norm)):
                diverged_at = step
                break
            losses.append(loss.item())
            norms.append(norm)
            optimizer.step()
    return np.array(losses), np.array(norms), diverged_at


# ---------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_gradient_flow(flow, trained_length, path):
    """flow: {"init" | "trained": {cell: norms (T,)}}."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    titles = {"init": "at initialisation", "trained": f"after training on T = {trained_length}"}
    for axis, (stage, by_cell) in zip(axes, flow.items()):
        for cell, norms in by_cell.items():
            axis.semilogy(np.arange(len(norms)), np.maximum(norms, 1e-300), label=cell, color=COLOURS[cell])
        axis.set_title(titles[stage])
        axis.set_xlabel("lag T - t (steps back from the last state)")
        axis.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel(r"$\|\partial h_T / \partial h_t\|_F \;/\; \sqrt{H}$")
    axes[0].legend()
    figure.suptitle("Gradient flow: how much the last hidden state depends on earlier ones")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_adding_results(results, lengths, path):
    """results: {cell: {length: test MSE}}."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(10, 4.5))
    for cell, by_length in results.items():
        axis.semilogy(lengths, [by_length[length] for length in lengths], "o-", label=cell, color=COLOURS[cell])
    axis.axhline(ADDING_PROBLEM_BASELINE_MSE, color="black", linestyle="--",
                 label=f"baseline: always 1.0 (MSE 1/6 = {ADDING_PROBLEM_BASELINE_MSE:.3f})")
    axis.axhline(SOLVED_MSE, color="grey", linestyle=":", label=f"'solved' threshold ({SOLVED_MSE:.4f})")
    axis.set_xticks(lengths)
    axis.set_xlabel("sequence length T")
    axis.set_ylabel("test MSE after training")
    axis.set_title("The adding problem: final error against sequence length")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    axis.grid(True, which="major", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_clipping(runs, settings, path):
    """runs: {label: (losses, norms, diverged_at)}. Three panels: the loss on a log scale (the cliff),
    the same loss on a linear scale near the baseline (what the clipped run learns), and the
    gradient norm before clipping."""
    plt = _pyplot()
    figure, (cliff_axis, zoom_axis, norm_axis) = plt.subplots(1, 3, figsize=(15, 4.2))
    for colour, (label, (losses, norms, diverged_at)) in zip(["tab:red", "tab:blue"], runs.items()):
        steps = np.arange(len(losses))
        cliff_axis.semilogy(steps, losses, color=colour, label=label, linewidth=1)
        zoom_axis.plot(steps, losses, color=colour, label=label, linewidth=1)
        norm_axis.semilogy(steps, norms, color=colour, label=label, linewidth=1)
        if diverged_at is not None and len(losses):
            for axis, last in ((cliff_axis, losses[-1]), (norm_axis, norms[-1])):
                axis.plot([diverged_at], [last], "x", color=colour, markersize=12, markeredgewidth=2)
                axis.annotate(f"not finite at step {diverged_at}", (diverged_at, last), textcoords="offset points",
                              xytext=(8, -4), color=colour, fontsize=8)
    for axis in (cliff_axis, zoom_axis):
        axis.axhline(ADDING_PROBLEM_BASELINE_MSE, color="black", linestyle="--", label="baseline (MSE 1/6)")
    zoom_axis.set_ylim(0.0, 3 * ADDING_PROBLEM_BASELINE_MSE)
    norm_axis.axhline(settings.clip_max_norm, color="grey", linestyle=":",
                      label=f"max_norm = {settings.clip_max_norm:g}")
    cliff_axis.set_title("training loss (log scale)")
    zoom_axis.set_title("training loss near the baseline (linear scale)")
    norm_axis.set_title("gradient norm before clipping")
    for axis in (cliff_axis, zoom_axis, norm_axis):
        axis.set_xlabel("SGD step")
        axis.grid(True, which="major", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"Exploding gradients: RNN with W_hh = {settings.clip_gain:g} x orthogonal, SGD lr "
                    f"{settings.clip_learning_rate:g}, adding problem T = {settings.clip_length}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ---------------------------------------------------------------------------------------------
# 6. Summary
# ---------------------------------------------------------------------------------------------


def summary_table(results, solve_steps, flow, clipping, settings):
    lengths = settings.lengths
    width = max(len(cell) for cell in CELLS) + 2
    lines = [f"Adding problem, test MSE (baseline 1/6 = {ADDING_PROBLEM_BASELINE_MSE:.4f}; * = solved, "
             f"MSE < {SOLVED_MSE:.4f})",
             "cell".ljust(width) + "".join(f"T={length:<8d}" for length in lengths)]
    for cell, by_length in results.items():
        cells = [f"{by_length[length]:.4f}{'*' if by_length[length] < SOLVED_MSE else ' '}" for length in lengths]
        lines.append(cell.ljust(width) + "".join(f"{text:<10s}" for text in cells))
    lines += ["", f"Training steps until the {min(50, settings.train_steps)}-step mean training loss fell below "
              f"{SOLVED_MSE:.4f} (- = never, in {settings.train_steps} steps)",
              "cell".ljust(width) + "".join(f"T={length:<8d}" for length in lengths)]
    for cell, by_length in solve_steps.items():
        cells = ["-" if by_length[length] is None else str(by_length[length]) for length in lengths]
        lines.append(cell.ljust(width) + "".join(f"{text:<10s}" for text in cells))
    longest = lengths[-1]
    near, far = longest // 4, longest - 1
    lines += ["", f"Gradient flow, ||d h_T / d h_t||_F / sqrt(H) at T = {longest} (mean over sequences)",
              "cell".ljust(width) + f"{'init, lag ' + str(near):<18s}{'init, lag ' + str(far):<18s}"
              f"{'trained, lag ' + str(near):<18s}{'trained, lag ' + str(far):<18s}"]
    for cell in CELLS:
        values = [flow[stage][cell][lag] for stage in ("init", "trained") for lag in (near, far)]
        lines.append(cell.ljust(width) + "".join(f"{value:<18.3e}" for value in values))
    lines += ["", f"Clipping (RNN, W_hh = {settings.clip_gain:g} x orthogonal, SGD lr {settings.clip_learning_rate:g}, "
              f"T = {settings.clip_length}, {settings.clip_steps} steps)",
              f"{'run':<20s}{'largest grad norm':<20s}{'final loss':<14s}"
              "outcome (final loss: mean of the last 20 steps)"]
    for label, (losses, norms, diverged_at) in clipping.items():
        final_loss = np.mean(losses[-20:]) if len(losses) else math.nan
        if diverged_at is not None:
            outcome, final = f"diverged: not finite at step {diverged_at}", "-"
        else:
            side = "below" if final_loss < ADDING_PROBLEM_BASELINE_MSE else "above"
            outcome, final = f"finished, {side} the baseline", f"{final_loss:.4g}"
        largest = f"{np.max(norms):.3g}" if len(norms) else "-"
        lines.append(f"{label:<20s}{largest:<20s}{final:<14s}{outcome}")
    # A straight line on the log scale would have one factor per step; two lag ranges show the bend.
    lines += ["", f"Gradient flow at initialisation, mean factor per step: (norm[b] / norm[a]) ** (1 / (b - a))",
              "cell".ljust(width) + f"{f'lags 0-{near}':<18s}{f'lags {near}-{far}':<18s}"]
    for cell in CELLS:
        norms = flow["init"][cell]
        factors = [(norms[b] / norms[a]) ** (1 / (b - a)) for a, b in ((0, near), (near, far))]
        lines.append(cell.ljust(width) + "".join(f"{factor:<18.3f}" for factor in factors))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The notebook, top to bottom
# ---------------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    settings = SMOKE if args.smoke else DEFAULT
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {args.out}: {error.strerror}") from None
    started = time.perf_counter()
    print(f"settings: {settings}")

    # 1. Data: a fixed test set per length; training batches are drawn fresh in train_adding.
    test_sets = {length: adding_problem(settings.test_size, length, rng=np.random.default_rng((args.seed, length, 1)))
                 for length in settings.lengths}
    longest = settings.lengths[-1]
    flow_inputs = test_sets[longest][0][: settings.flow_sequences]

    # 2.-4. Models, training and evaluation. Every model starts from the same seed, so a cell's
    # weights at initialisation are the same at every length.
    results = {cell: {} for cell in CELLS}
    solve_steps = {cell: {} for cell in CELLS}
    flow = {"init": {}, "trained": {}}
    for length in settings.lengths:
        for cell in CELLS:
            ts.manual_seed(args.seed)
            model = AddingRegressor(cell, settings.hidden_size)
            if length == longest:
                flow["init"][cell] = hidden_state_jacobian_norms(model, flow_inputs)
            run_started = time.perf_counter()
            losses = train_adding(model, length, settings, args.seed)
            results[cell][length] = held_out_mse(model, *test_sets[length])
            solve_steps[cell][length] = steps_to_solve(losses)
            if length == longest:
                flow["trained"][cell] = hidden_state_jacobian_norms(model, flow_inputs)
            print(f"adding problem T={length:<3d} {cell:<20s} final train loss {np.mean(losses[-50:]):.4f}  "
                  f"test MSE {results[cell][length]:.4f}  ({time.perf_counter() - run_started:.1f} s)")

    # 5. Clipping: the same exploding RNN without and with clip_grad_norm_.
    clipping = {"no clipping": clipping_run(math.inf, settings, args.seed),
                f"clip max_norm={settings.clip_max_norm:g}": clipping_run(settings.clip_max_norm, settings, args.seed)}

    pictures = {"gradient flow": out / "gradient_flow.png", "adding problem": out / "adding_problem.png",
                "clipping": out / "clipping.png"}
    plot_gradient_flow(flow, longest, pictures["gradient flow"])
    plot_adding_results(results, settings.lengths, pictures["adding problem"])
    plot_clipping(clipping, settings, pictures["clipping"])

    # 6. Summary
    table = summary_table(results, solve_steps, flow, clipping, settings)
    (out / "summary.txt").write_text(table + "\n")
    print()
    print(table)
    print()
    for name, picture in pictures.items():
        print(f"{name}: {picture}")
    print(f"summary: {out / 'summary.txt'}")
    print(f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    try:
        main()
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
