"""Reading glyph strings with CTC: learn to recognise text lines whose alignment nobody gives.

    python demos/ctc_recognition.py                    # a BiLSTM: 1 minute on 2 idle cores, test CER ~0.5%
    python demos/ctc_recognition.py --cell gru --hidden 96 --epochs 4
    python demos/ctc_recognition.py --smoke            # a few seconds, for the tests

Each input is a line of digits and capital letters drawn with random widths, gaps, slant, stroke
weight, jitter and noise (tinyseq/datasets/glyphs.py), read left to right one column at a time.
The only target is the label string: nobody says which columns belong to which character. A
recurrent network turns every frame into a distribution over the characters plus a blank, and
CTC sums the probability of every way to spread the string over the frames (blanks between and
around characters, a character held over several frames). Trained this way the network learns the
alignment by itself: it says "blank" almost everywhere and puts a sharp spike on one frame per
character, which the pictures show.

Reads like a lab notebook: 1. data, 2. model, 3. training, 4. evaluation, 5. pictures, 6. test CER.
"""

import os

if __name__ == "__main__":
    # The matrices here are small (batch x hidden), where a multi-threaded BLAS only adds
    # contention: on a busy machine it made training tens of times slower. This must happen
    # before numpy is imported, and only when run as a script, not when a test imports the file.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402
import tinyseq.nn.functional as F  # noqa: E402
from tinyseq.data import BucketBatchSampler  # noqa: E402
from tinyseq.datasets.glyphs import decode, make_glyph_strings  # noqa: E402


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
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units per direction")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-3, help="peak learning rate (held for the first half)")
    parser.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: no clipping)")
    parser.add_argument("--columns-per-frame", type=int, default=2,
                        help="image columns stacked into one frame (halves the sequence the RNN runs over)")
    parser.add_argument("--train-size", type=int, default=24000, help="training lines")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/ctc_recognition", help="folder for the PNGs")
    parser.add_argument("--beam-width", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="a tiny run of a few seconds, for tests")
    args = parser.parse_args(argv)
    for name in ("hidden", "layers", "epochs", "batch_size", "columns_per_frame", "train_size", "beam_width"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.columns_per_frame > 3:
        # Glyphs are at least 6 columns wide: with more columns per frame two equal neighbours
        # ("77") could fall into too few frames to hold the blank CTC needs between them.
        raise UsageError(f"--columns-per-frame must be at most 3, got {args.columns_per_frame}")
    if not 0 < args.lr < float("inf"):
        raise UsageError(f"--lr must be positive and finite, got {args.lr}")
    if not args.clip >= 0:
        raise UsageError(f"--clip must be non-negative, got {args.clip}")
    if args.seed < 0:
        raise UsageError(f"--seed must be non-negative, got {args.seed}")
    if args.smoke:
        args.epochs, args.hidden, args.train_size, args.beam_width = 1, 16, 128, min(args.beam_width, 4)
    return args


# ---------------------------------------------------------------------------------------------
# 1. Data
# ---------------------------------------------------------------------------------------------


def stack_columns(frames, frame_lengths, columns):
    """Stack `columns` neighbouring image columns into one frame, as speech recognisers stack
    neighbouring feature frames: the RNN then runs over a sequence `columns` times shorter.

    frames: (N, T, H), frame_lengths: (N,)  ->  (N, ceil(T / columns), columns * H), ceil(lengths / columns).
    """
    count, length, height = frames.shape
    stacked_length = -(-length // columns)
    padded = np.zeros((count, stacked_length * columns, height), dtype=frames.dtype)
    padded[:, :length] = frames
    return padded.reshape(count, stacked_length, columns * height), -(-frame_lengths // columns)


def standardise(frames, frame_lengths, mean, std):
    """(frames - mean) / std on the real columns, zero on the padding.

    With the training set's pixel mean and standard deviation the inputs are centred with unit
    spread. That shortens the plateau at the start of CTC training, where the network says
    "blank" everywhere: in our runs the validation CER after the first epoch fell from 10-35% on
    raw pixels in [0, 1] to about 1.5%."""
    real = np.arange(frames.shape[1])[None, :] < frame_lengths[:, None]
    return np.where(real[:, :, None], (frames - mean) / std, 0.0).astype(np.float32)


def batches(split, frames, lengths, batch_size, shuffle, seed=0):
    """Batches of similar length, trimmed to their longest line: inputs (T, B, F) as the RNN and
    ctc_loss expect them (time first), lengths (B,), targets (B, S) and target lengths (B,)."""
    sampler = BucketBatchSampler(lengths, batch_size, shuffle=shuffle, seed=seed)
    for indices in sampler:
        longest = lengths[indices].max()
        inputs = frames[indices, :longest].transpose(1, 0, 2)
        yield indices, inputs, lengths[indices], split.targets[indices], split.target_lengths[indices]


# ---------------------------------------------------------------------------------------------
# 2. Model
# ---------------------------------------------------------------------------------------------


class Recogniser(nn.Module):
    """(bi)LSTM or GRU over the frames -> Linear -> log_softmax: per frame, log-probabilities of
    the blank and every character.  frames: (T, B, F), lengths: (B,)  ->  (T, B, num_classes)."""

    def __init__(self, frame_size, num_classes, cell, hidden, layers, bidirectional):
        super().__init__()
        layer = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.encoder = layer(frame_size, hidden, num_layers=layers, bidirectional=bidirectional)
        self.output = nn.Linear(hidden * (2 if bidirectional else 1), num_classes)

    def forward(self, frames, lengths):
        features, _ = self.encoder(frames, lengths=lengths)
        return F.log_softmax(self.output(features), dim=-1)


# ---------------------------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------------------------


def learning_rate(step, total_steps, peak):
    """Constant for the first half of training, then falling linearly to zero: the large steps
    get the network off CTC's early plateau (all blanks), the small ones settle it."""
    return peak * min(1.0, 2.0 * (1.0 - step / total_steps))


def train(model, data, train_inputs, valid_inputs, args):
    """Adam on the mean CTC loss, with gradient clipping; after every epoch the validation CER
    (greedy decoding). Keeps the parameters of the epoch with the best validation CER."""
    from tqdm import tqdm

    optimizer = ts.optim.Adam(model.parameters(), lr=args.lr)
    history = {"batch_loss": [], "epoch_loss": [], "valid_cer": []}
    best_cer, best_state = np.inf, None
    total_steps = args.epochs * -(-len(data.train) // args.batch_size)
    step = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, count = 0.0, 0
        progress = tqdm(list(batches(data.train, *train_inputs, args.batch_size, shuffle=True, seed=args.seed + epoch)),
                        desc=f"epoch {epoch}", leave=False, file=sys.stdout, disable=args.smoke)
        for _, inputs, lengths, targets, target_lengths in progress:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, total_steps, args.lr)
            step += 1
            log_probs = model(ts.tensor(inputs), lengths)
            loss = F.ctc_loss(log_probs, targets, lengths, target_lengths, blank=data.blank)
            optimizer.zero_grad()
            loss.backward()
            if args.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            batch_loss = loss.item()
            total, count = total + batch_loss, count + 1
            history["batch_loss"].append(batch_loss)
            progress.set_postfix(loss=f"{total / count:.4f}")
        valid_cer = character_error_rate(model, data.valid, *valid_inputs, data.blank)
        history["epoch_loss"].append(total / count)
        history["valid_cer"].append(valid_cer)
        marker = ""
        if valid_cer < best_cer:
            best_cer, best_state, marker = valid_cer, model.state_dict(), "  (best so far)"
        print(f"epoch {epoch}  train CTC loss {total / count:.4f}  valid CER {100 * valid_cer:5.2f}%{marker}")
    model.load_state_dict(best_state)
    return history


# ---------------------------------------------------------------------------------------------
# 4. Evaluation
# ---------------------------------------------------------------------------------------------


@ts.no_grad()
def frame_log_probs(model, split, frames, lengths, batch_size=256):
    """Per line, its (length, num_classes) array of log-probabilities, in the split's order."""
    model.eval()
    result = [None] * len(split)
    for indices, inputs, batch_lengths, _, _ in batches(split, frames, lengths, batch_size, shuffle=False):
        log_probs = model(ts.tensor(inputs), batch_lengths).data
        for row, index in enumerate(indices):
            result[index] = log_probs[: batch_lengths[row], row]
    return result


def decode_all(log_probs, decoder, blank, beam_width):
    """Label strings for every line, with decoder "greedy" or "beam"."""
    texts = []
    for line in log_probs:
        if decoder == "greedy":
            labels = ts.ctc.greedy_decode(line, blank=blank)
        else:
            labels = ts.ctc.beam_search_decode(line, beam_width=beam_width, blank=blank)[0][0]
        texts.append(decode(labels))
    return texts


def character_error_rate(model, split, frames, lengths, blank):
    """CER with greedy decoding: total edit distance / total reference length over the split."""
    hypotheses = decode_all(frame_log_probs(model, split, frames, lengths), "greedy", blank, beam_width=1)
    return ts.metrics.cer(split.texts, hypotheses)


def viterbi_alignment(log_probs, target, blank=0):
    """The most probable CTC alignment of `target` to the frames: Viterbi over the CTC lattice.

    The lattice has one row per symbol of the extended target z = (blank, l1, blank, l2, ...,
    blank), |z| = 2S + 1, and one column per frame. A path starts in z_0 or z_1, and from z_s at
    frame t goes to z_s, z_{s+1}, or z_{s+2} when z_{s+2} is a label different from z_s (the
    blank between two equal labels cannot be skipped); it ends in z_{2S} or z_{2S-1}. Replacing
    the forward recursion's log-sum-exp by a max gives the best path:

        delta_t(s) = log y_t(z_s) + max(delta_{t-1}(s), delta_{t-1}(s-1), [skip] delta_{t-1}(s-2))

    log_probs: (T, C) log-probabilities; target: S label ids (no blanks).
    Returns (states, log_prob): states (T,) int, the row z_s visited at every frame, and the
    path's log-probability.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    target = [int(label) for label in target]
    if log_probs.ndim != 2:
        raise ValueError(f"log_probs must have shape (T, C), got {log_probs.shape}")
    extended = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    extended[1::2] = target
    repeats = sum(a == b for a, b in zip(target, target[1:]))
    if log_probs.shape[0] < len(target) + repeats:
        raise ValueError(f"log_probs has {log_probs.shape[0]} frames, fewer than the {len(target) + repeats} "
                         f"this target needs (its {len(target)} labels and a blank between each equal pair)")
    num_frames, num_states = log_probs.shape[0], len(extended)
    can_skip = np.zeros(num_states, dtype=bool)
    can_skip[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])

    delta = np.full((num_frames, num_states), -np.inf)
    came_from = np.zeros((num_frames, num_states), dtype=np.int64)
    delta[0, :2] = log_probs[0, extended[:2]]
    for t in range(1, num_frames):
        advance = np.full(num_states, -np.inf)
        advance[1:] = delta[t - 1, :-1]
        skip = np.full(num_states, -np.inf)
        skip[2:] = delta[t - 1, :-2]
        skip[~can_skip] = -np.inf
        candidates = np.stack([delta[t - 1], advance, skip])  # from 0, 1 or 2 rows back
        came_from[t] = np.argmax(candidates, axis=0)
        delta[t] = candidates.max(axis=0) + log_probs[t, extended]

    last = num_states - 1 if num_states == 1 or delta[-1, -1] >= delta[-1, -2] else num_states - 2
    states = np.empty(num_frames, dtype=np.int64)
    states[-1] = last
    for t in range(num_frames - 1, 0, -1):
        states[t - 1] = states[t] - came_from[t, states[t]]
    return states, float(delta[-1, last])


# ---------------------------------------------------------------------------------------------
# 5. Pictures
# ---------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_examples(split, indices, predictions, path):
    """Test lines with their true and predicted labels; misread lines get a red title."""
    plt = _pyplot()
    figure, axes = plt.subplots(len(indices), 1, figsize=(7, 1.25 * len(indices)), squeeze=False)
    for axis, index in zip(axes[:, 0], indices):
        image = split.frames[index, : split.frame_lengths[index]].T
        axis.imshow(image, cmap="gray_r", vmin=0, vmax=1, aspect="equal")
        correct = predictions[index] == split.texts[index]
        axis.set_title(f"true {split.texts[index]}    predicted {predictions[index] or '(nothing)'}",
                       fontsize=9, color="black" if correct else "red", family="monospace")
        axis.set_axis_off()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_posteriors(image, log_probs, alphabet, columns_per_frame, path):
    """The line, and under it every frame's posterior: the blank almost everywhere, one spike per
    character. Frame t covers image columns [t * columns_per_frame, (t + 1) * columns_per_frame)."""
    plt = _pyplot()
    probs = np.exp(log_probs)
    num_frames = len(probs)
    figure, (image_axis, prob_axis) = plt.subplots(2, 1, figsize=(9, 5), sharex=True,
                                                    gridspec_kw={"height_ratios": [1, 2]})
    image_axis.imshow(image, cmap="gray_r", vmin=0, vmax=1, aspect="auto",
                      extent=(0, image.shape[1] / columns_per_frame, image.shape[0], 0))
    image_axis.set_yticks([])
    image_axis.set_title("input line (columns) and the network's frame-by-frame posteriors")
    frames = np.arange(num_frames) + 0.5
    prob_axis.fill_between(frames, probs[:, 0], step="mid", color="lightgray", label="blank")
    best = probs.argmax(axis=1)
    shown = [label for label in range(1, probs.shape[1]) if probs[:, label].max() >= 0.05]
    for colour, label in zip(plt.cm.tab10(np.arange(len(shown)) % 10), shown):
        prob_axis.step(frames, probs[:, label], where="mid", color=colour, lw=1.5)
        # One letter per spike: at the peak of every run of frames where this label wins.
        wins = np.flatnonzero(best == label)
        for run in np.split(wins, np.flatnonzero(np.diff(wins) > 1) + 1) if len(wins) else []:
            peak = run[np.argmax(probs[run, label])]
            prob_axis.annotate(alphabet[label - 1], (frames[peak], probs[peak, label]), textcoords="offset points",
                               xytext=(0, 3), ha="center", fontsize=10, color=colour, weight="bold")
    prob_axis.set(xlabel="frame", ylabel="posterior probability", ylim=(0, 1.1), xlim=(0, num_frames))
    prob_axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_alignment(log_probs, target, alphabet, path, blank=0):
    """The CTC lattice (frames x extended target) coloured by each node's frame posterior, with
    the most probable alignment path (Viterbi) drawn over it."""
    plt = _pyplot()
    states, path_log_prob = viterbi_alignment(log_probs, target, blank)
    extended = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    extended[1::2] = target
    node_probs = np.exp(log_probs[:, extended]).T  # (2S + 1, T)
    figure, axis = plt.subplots(figsize=(9, 0.28 * len(extended) + 1.6))
    axis.imshow(node_probs, cmap="Blues", vmin=0, vmax=1, aspect="auto", origin="upper")
    axis.plot(np.arange(len(states)), states, color="crimson", marker="o", markersize=3, lw=1.5,
              label=f"Viterbi path, log p = {path_log_prob:.2f}")
    axis.set_yticks(np.arange(len(extended)))
    axis.set_yticklabels(["∅" if s == blank else alphabet[s - 1] for s in extended], family="monospace")
    axis.set(xlabel="frame", ylabel="extended target (∅ = blank)",
             title="most probable alignment over the CTC lattice (shade: frame posterior of the node's symbol)")
    axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_curves(history, path):
    plt = _pyplot()
    figure, (loss_axis, cer_axis) = plt.subplots(1, 2, figsize=(10, 4))
    batches_per_epoch = len(history["batch_loss"]) / len(history["epoch_loss"])
    loss_axis.plot(np.arange(1, len(history["batch_loss"]) + 1) / batches_per_epoch, history["batch_loss"],
                   color="lightsteelblue", lw=0.8, label="per batch")
    epochs = np.arange(1, len(history["epoch_loss"]) + 1)
    loss_axis.plot(epochs - 0.5, history["epoch_loss"], marker="o", color="navy", label="epoch mean")
    loss_axis.set(title="training CTC loss (per target label)", xlabel="epoch", yscale="log")
    cer_axis.plot(epochs, 100 * np.array(history["valid_cer"]), marker="o", color="darkorange")
    cer_axis.set(title="validation CER (%), greedy decoding", xlabel="epoch", xticks=epochs)
    for axis in (loss_axis, cer_axis):
        axis.grid(alpha=0.3)
    loss_axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


# ---------------------------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {args.out}: {error.strerror}") from None
    started = time.perf_counter()
    ts.manual_seed(args.seed)

    # 1. Data: lines of glyphs read column by column; the targets are the label strings only.
    sizes = dict(num_train=args.train_size, num_valid=32, num_test=32) if args.smoke else \
        dict(num_train=args.train_size, num_valid=500, num_test=1000)
    data = make_glyph_strings(**sizes, seed=args.seed)
    real_columns = np.arange(data.train.frames.shape[1])[None, :] < data.train.frame_lengths[:, None]
    pixel_mean, pixel_std = data.train.frames[real_columns].mean(), data.train.frames[real_columns].std()
    inputs = {name: stack_columns(standardise(split.frames, split.frame_lengths, pixel_mean, pixel_std),
                                  split.frame_lengths, args.columns_per_frame)
              for name, split in (("train", data.train), ("valid", data.valid), ("test", data.test))}
    frame_size = inputs["train"][0].shape[-1]
    print(f"data: {len(data.train)} train, {len(data.valid)} valid, {len(data.test)} test lines of "
          f"{data.height}-pixel columns; {len(data.alphabet)} characters {data.alphabet} + blank; "
          f"{args.columns_per_frame} columns per frame, mean {inputs['train'][1].mean():.1f} frames "
          f"for a mean {data.train.target_lengths.mean():.1f} characters ({time.perf_counter() - started:.0f} s)")

    # 2. Model
    model = Recogniser(frame_size, data.num_classes, args.cell, args.hidden, args.layers, args.bidirectional)
    print(model)
    print(f"{sum(p.size for p in model.parameters())} parameters")

    # 3. Training
    history = train(model, data, inputs["train"], inputs["valid"], args)

    # 4. Evaluation on the held-out test lines, with both decoders
    test_log_probs = frame_log_probs(model, data.test, *inputs["test"])
    greedy_texts = decode_all(test_log_probs, "greedy", data.blank, args.beam_width)
    beam_texts = decode_all(test_log_probs, "beam", data.blank, args.beam_width)
    greedy_cer = ts.metrics.cer(data.test.texts, greedy_texts)
    beam_cer = ts.metrics.cer(data.test.texts, beam_texts)
    print(f"test CER, greedy decoding:               {100 * greedy_cer:.2f}%")
    print(f"test CER, beam search (width {args.beam_width:2d}):        {100 * beam_cer:.2f}%")

    # 5. Pictures
    wrong = [i for i, text in enumerate(beam_texts) if text != data.test.texts[i]]
    shown = list(range(4)) + wrong[:2]
    pictures = {"examples": out / "examples.png", "posteriors": out / "posteriors.png",
                "alignment": out / "alignment.png", "curves": out / "curves.png"}
    plot_examples(data.test, shown, beam_texts, pictures["examples"])
    line = 0
    image = data.test.frames[line, : data.test.frame_lengths[line]].T
    plot_posteriors(image, test_log_probs[line], data.alphabet, args.columns_per_frame, pictures["posteriors"])
    target = data.test.targets[line, : data.test.target_lengths[line]]
    plot_alignment(test_log_probs[line], target, data.alphabet, pictures["alignment"], data.blank)
    plot_curves(history, pictures["curves"])
    for picture in pictures.values():
        print(f"wrote {picture}")

    # 6. The test CER of the better decoder
    print(f"{time.perf_counter() - started:.0f} s in all")
    if beam_cer < greedy_cer:
        print(f"better decoder: beam search (width {args.beam_width}), {100 * beam_cer:.2f}% vs greedy "
              f"{100 * greedy_cer:.2f}%")
    elif greedy_cer < beam_cer:
        print(f"better decoder: greedy, {100 * greedy_cer:.2f}% vs beam search {100 * beam_cer:.2f}%")
    else:
        print(f"better decoder: neither, greedy and beam search both reach {100 * greedy_cer:.2f}%")
    print(f"test CER: {100 * min(greedy_cer, beam_cer):.2f}%")


if __name__ == "__main__":
    try:
        main()
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
