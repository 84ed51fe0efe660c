"""Recognising spoken digit strings with CTC: real speech, log-mel features, a BiLSTM and no alignment.

    python demos/spoken_digits.py --data free-spoken-digit-dataset         # FSDD's split: train, test
    python demos/spoken_digits.py --data free-spoken-digit-dataset --speaker-out theo
    python demos/spoken_digits.py --predict some_digits.wav               # with the model saved by a run
    python demos/spoken_digits.py --smoke                                 # a few seconds, synthetic tones

The Free Spoken Digit Dataset (FSDD, github.com/Jakobovski/free-spoken-digit-dataset) holds 3,000
recordings of single digits by 6 speakers. Training joins 1 to 7 recordings of one speaker into a
connected string with random gaps, gains and a little noise (tinyseq/datasets/spoken_digits.py),
new strings every epoch; the only target is the digit sequence, nobody says where each digit is.
Every 10 ms frame becomes 40 log-mel energies (tinyseq/audio.py), normalised with the mean and
variance of the training strings; four neighbouring frames are stacked into one 40 ms step, a
BiLSTM reads the steps, and a linear layer and log_softmax give every step a distribution over the
blank and the ten digits, trained with ctc_loss; the best epoch on the validation strings is kept.
An isolated recording is read as the one digit whose label has the lowest CTC loss. This is what
CTC was made for: speech, where nobody marks which frame belongs to which sound.

Reads like a lab notebook: 1. data, 2. features, 3. model, 4. training, 5. evaluation, 6. pictures,
7. test CER (the digit error rate on the test strings).
"""

import os

if __name__ == "__main__":
    # Small matrices (batch x hidden): a multi-threaded BLAS only adds contention here. Must be set
    # before numpy is imported, and only when run as a script, not when a test imports the file.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import collections  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402
import tinyseq.nn.functional as F  # noqa: E402
from tinyseq import audio  # noqa: E402
from tinyseq.data import BucketBatchSampler  # noqa: E402
from tinyseq.datasets import spoken_digits as fsdd  # noqa: E402

# The Viterbi alignment over the CTC lattice is shared with the glyph demo (and tested there
# against brute-force enumeration).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ctc_recognition import viterbi_alignment  # noqa: E402

MODEL_FILE = "model.npz"


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
    parser.add_argument("--data", help="the FSDD folder (a clone of the repository) or its recordings/")
    parser.add_argument("--speaker-out", help="train without this speaker and test on all their recordings")
    parser.add_argument("--predict", metavar="FILE.wav", help="transcribe one recording with the saved model")
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units per direction")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-3, help="peak learning rate (held for the first half)")
    parser.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: no clipping)")
    parser.add_argument("--dropout", type=float, default=0.0, help="dropout on the recurrent layer's output")
    parser.add_argument("--speed-perturb", action=argparse.BooleanOptionalAction, default=False,
                        help="play every training recording at a random speed in 0.9-1.1")
    parser.add_argument("--mask", action=argparse.BooleanOptionalAction, default=False,
                        help="SpecAugment: mask random mel bands and time spans of the training strings")
    parser.add_argument("--average", type=int, default=1,
                        help="also try the mean of the last N epochs' weights; keep it if validation says so")
    parser.add_argument("--num-mels", type=int, default=40)
    parser.add_argument("--normalise", choices=["utterance", "training"], default="training",
                        help="feature mean and variance: of each utterance, or of the training strings")
    parser.add_argument("--deltas", type=int, choices=[0, 1, 2], default=0, help="orders of deltas appended")
    parser.add_argument("--frames-per-step", type=int, default=4,
                        help="10 ms frames stacked into one RNN step (shortens the sequence)")
    parser.add_argument("--test-passes", type=int, default=5,
                        help="test strings use every test recording this many times")
    parser.add_argument("--test-seed", type=int, default=1234, help="seed of the test strings (fixed across runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/spoken_digits", help="folder for the PNGs and the saved model")
    parser.add_argument("--beam-width", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="a tiny run of a few seconds on generated tones")
    args = parser.parse_args(argv)
    for name in ("hidden", "layers", "epochs", "batch_size", "num_mels", "frames_per_step", "test_passes",
                 "beam_width", "average"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not args.lr > 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    if not args.clip >= 0:
        raise UsageError(f"--clip must be non-negative, got {args.clip}")
    if not 0 <= args.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.seed < 0 or args.test_seed < 0:
        raise UsageError(f"--seed and --test-seed must be non-negative, got {args.seed} and {args.test_seed}")
    args.feature_mean, args.feature_std = 0.0, 1.0  # for --normalise training, set from the training strings
    if args.smoke:
        args.epochs, args.hidden, args.layers, args.test_passes = 2, 16, 1, 1
        args.beam_width = min(args.beam_width, 4)
    elif args.data is None and args.predict is None:
        raise UsageError(f"no --data: get {fsdd.FSDD_WHERE}")
    return args


# ---------------------------------------------------------------------------------------------
# 1. Data and 2. features
# ---------------------------------------------------------------------------------------------


def load_data(folder, speaker_out):
    """FSDD's recordings, split (see tinyseq/datasets/spoken_digits.py); input problems become
    UsageErrors. A recording shorter than one 25 ms frame is skipped with a warning naming it."""
    try:
        recordings = fsdd.index_recordings(folder, min_seconds=0.025)
        return fsdd.split_recordings(recordings, speaker_out)
    except (FileNotFoundError, ValueError) as error:
        raise UsageError(str(error)) from None


def features(samples, sample_rate, args, mask_rng=None):
    """Log-mel features of one utterance, normalised (--normalise: over the utterance, or with the
    training strings' args.feature_mean and args.feature_std), masked with mask_rng when given,
    frames_per_step neighbouring frames stacked into one step (the tail that fills no step is dropped):
    samples (num_samples,) -> (num_frames // frames_per_step, frames_per_step * num_mels * (1 + deltas))."""
    frames = audio.log_mel_features(samples, sample_rate, num_mels=args.num_mels, delta_order=args.deltas,
                                    normalise_utterance=args.normalise == "utterance")
    if args.normalise == "training":
        frames = ((frames - args.feature_mean) / args.feature_std).astype(np.float32)
    if mask_rng is not None:
        frames = mask_frames(frames, mask_rng)
    steps = len(frames) // args.frames_per_step
    return frames[: steps * args.frames_per_step].reshape(steps, -1)


def mask_frames(frames, rng, band_masks=2, max_bands=5, time_masks=2, max_frames=4):
    """SpecAugment's masks (Park et al. 2019), for training only: set band_masks runs of up to
    max_bands neighbouring mel bands and time_masks runs of up to max_frames frames to 0, the
    normalised features' mean. The network learns not to rely on any one band or instant. The
    time masks are short (40 ms at most) next to a digit (0.2-0.8 s), so no digit disappears.
    frames: (num_frames, D) -> a masked copy."""
    masked = frames.copy()
    num_frames, num_bands = frames.shape
    for _ in range(band_masks):
        width = rng.integers(0, max_bands + 1)
        start = rng.integers(0, max(num_bands - width, 0) + 1)
        masked[:, start: start + width] = 0.0
    for _ in range(time_masks):
        width = rng.integers(0, max_frames + 1)
        start = rng.integers(0, max(num_frames - width, 0) + 1)
        masked[start: start + width] = 0.0
    return masked


def training_statistics(train_recordings, sample_rate, args):
    """Mean and standard deviation of every log-mel coefficient over one pass of training strings
    (silences and noise included, as the model will see them): (D,), (D,)."""
    strings = fsdd.make_strings(train_recordings, np.random.default_rng([args.seed, 0]))
    frames = np.concatenate([audio.log_mel_features(s.samples, sample_rate, num_mels=args.num_mels,
                                                    delta_order=args.deltas, normalise_utterance=False)
                             for s in strings])
    return frames.mean(axis=0), frames.std(axis=0)


def featurise(utterances, sample_rate, args, mask_rng=None):
    """Features of every utterance (a list of sample arrays) and their lengths in steps."""
    inputs = [features(samples, sample_rate, args, mask_rng) for samples in utterances]
    return inputs, np.array([len(x) for x in inputs], dtype=np.int64)


def batches(inputs, lengths, labels, batch_size, shuffle, seed=0):
    """Batches of similar length, padded with zeros to their longest: inputs (T, B, F) as the RNN and
    ctc_loss expect them, lengths (B,), targets (B, S) padded with the blank, target lengths (B,)."""
    for indices in BucketBatchSampler(lengths, batch_size, shuffle=shuffle, seed=seed):
        longest = lengths[indices].max()
        padded = np.zeros((longest, len(indices), inputs[indices[0]].shape[1]), dtype=np.float32)
        for column, index in enumerate(indices):
            padded[: lengths[index], column] = inputs[index]
        target_lengths = np.array([len(labels[index]) for index in indices], dtype=np.int64)
        targets = np.full((len(indices), max(target_lengths.max(), 1)), fsdd.BLANK, dtype=np.int64)
        for row, index in enumerate(indices):
            targets[row, : target_lengths[row]] = labels[index]
        yield indices, padded, lengths[indices], targets, target_lengths


# ---------------------------------------------------------------------------------------------
# 3. Model
# ---------------------------------------------------------------------------------------------


class AcousticModel(nn.Module):
    """(bi)LSTM or GRU over the stacked frames -> Linear -> log_softmax: per step, log-probabilities
    of the blank and the ten digits.  steps: (T, B, F), lengths: (B,)  ->  (T, B, 11)."""

    def __init__(self, step_size, cell, hidden, layers, bidirectional, dropout):
        super().__init__()
        layer = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.encoder = layer(step_size, hidden, num_layers=layers, bidirectional=bidirectional)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden * (2 if bidirectional else 1), fsdd.NUM_CLASSES)

    def forward(self, steps, lengths):
        encoded, _ = self.encoder(steps, lengths=lengths)
        return F.log_softmax(self.output(self.dropout(encoded)), dim=-1)


def model_config(args, step_size, sample_rate):
    """What --predict needs to rebuild the model and its features, saved with the weights."""
    return {"step_size": step_size, "cell": args.cell, "hidden": args.hidden, "layers": args.layers,
            "bidirectional": args.bidirectional, "dropout": args.dropout, "num_mels": args.num_mels,
            "deltas": args.deltas, "frames_per_step": args.frames_per_step, "sample_rate": sample_rate,
            "normalise": args.normalise, "feature_mean": np.asarray(args.feature_mean).tolist(),
            "feature_std": np.asarray(args.feature_std).tolist()}


def build_model(config):
    return AcousticModel(config["step_size"], config["cell"], config["hidden"], config["layers"],
                         config["bidirectional"], config["dropout"])


# ---------------------------------------------------------------------------------------------
# 4. Training
# ---------------------------------------------------------------------------------------------


def learning_rate(progress, peak):
    """Constant for the first half of training, then falling linearly to zero; progress is the
    fraction of training done, in [0, 1]."""
    return peak * min(1.0, 2.0 * (1.0 - progress))


def train(model, train_recordings, valid, sample_rate, config, args, checkpoint):
    """Adam on the mean CTC loss with gradient clipping; every epoch new training strings. After
    every epoch the digit error rate on the validation strings (greedy); the best epoch's
    parameters are saved to `checkpoint` and loaded back at the end."""
    from tqdm import tqdm

    optimizer = ts.optim.Adam(model.parameters(), lr=args.lr)
    history = {"batch_loss": [], "epoch_loss": [], "valid_der": []}
    best_der, started = np.inf, time.perf_counter()
    recent = collections.deque(maxlen=args.average)  # the last epochs' weights, for averaging
    for epoch in range(1, args.epochs + 1):
        rng = np.random.default_rng([args.seed, epoch])
        strings = fsdd.make_strings(train_recordings, rng, perturb_speed=args.speed_perturb)
        inputs, lengths = featurise([s.samples for s in strings], sample_rate, args, rng if args.mask else None)
        labels = [fsdd.digit_labels(s.digits) for s in strings]
        model.train()
        total, count = 0.0, 0
        progress = tqdm(list(batches(inputs, lengths, labels, args.batch_size, shuffle=True, seed=args.seed + epoch)),
                        desc=f"epoch {epoch}", leave=False, file=sys.stdout, disable=args.smoke)
        for number, (_, steps, step_lengths, targets, target_lengths) in enumerate(progress):
            # Strings differ in number from epoch to epoch, so the schedule follows the epoch's fraction done.
            for group in optimizer.param_groups:
                group["lr"] = learning_rate((epoch - 1 + number / len(progress)) / args.epochs, args.lr)
            log_probs = model(ts.tensor(steps), step_lengths)
            loss = F.ctc_loss(log_probs, targets, step_lengths, target_lengths, blank=fsdd.BLANK)
            optimizer.zero_grad()
            loss.backward()
            if args.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            total, count = total + loss.item(), count + 1
            history["batch_loss"].append(loss.item())
            progress.set_postfix(loss=f"{total / count:.4f}")
        recent.append(model.state_dict())
        valid_der = validation_der(model, valid)
        history["epoch_loss"].append(total / count)
        history["valid_der"].append(valid_der)
        marker = ""
        if valid_der < best_der:
            best_der, marker = valid_der, "  (best so far, saved)"
            ts.save(model.state_dict(), checkpoint, extra=config)
        print(f"epoch {epoch:2d}  train CTC loss {total / count:.4f}  valid digit error rate "
              f"{100 * valid_der:5.2f}%  ({time.perf_counter() - started:.0f} s){marker}", flush=True)
    if args.average > 1:
        # Checkpoint averaging: the mean of the last epochs' weights, taken while the learning rate
        # falls to zero, can beat each of them. It is kept only if validation agrees.
        model.load_state_dict({name: np.mean([state[name] for state in recent], axis=0) for name in recent[0]})
        valid_der = validation_der(model, valid)
        kept = valid_der <= best_der
        if kept:
            best_der = valid_der
            ts.save(model.state_dict(), checkpoint, extra=config)
        print(f"mean of the last {len(recent)} epochs' weights: valid digit error rate {100 * valid_der:5.2f}%  "
              f"({'kept' if kept else 'not better, the best epoch kept'})")
    model.load_state_dict(ts.load(checkpoint))
    return history


def validation_der(model, valid):
    """The digit error rate of greedy decoding on the validation strings."""
    return ts.metrics.cer(valid["texts"], decode_all(log_prob_list(model, valid["inputs"]), "greedy", 1))


# ---------------------------------------------------------------------------------------------
# 5. Evaluation
# ---------------------------------------------------------------------------------------------


@ts.no_grad()
def log_prob_list(model, inputs, batch_size=64):
    """Per utterance, its (length, 11) array of log-probabilities, in the given order."""
    model.eval()
    lengths = np.array([len(x) for x in inputs], dtype=np.int64)
    labels = [[] for _ in inputs]
    result = [None] * len(inputs)
    for indices, steps, step_lengths, _, _ in batches(inputs, lengths, labels, batch_size, shuffle=False):
        log_probs = model(ts.tensor(steps), step_lengths).data
        for column, index in enumerate(indices):
            result[index] = log_probs[: step_lengths[column], column]
    return result


def decode_all(log_probs, decoder, beam_width):
    """The digit string of every utterance, with decoder "greedy" or "beam"."""
    texts = []
    for utterance in log_probs:
        if decoder == "greedy":
            labels = ts.ctc.greedy_decode(utterance, blank=fsdd.BLANK)
        else:
            labels = ts.ctc.beam_search_decode(utterance, beam_width=beam_width, blank=fsdd.BLANK)[0][0]
        texts.append(fsdd.labels_to_text(labels))
    return texts


@ts.no_grad()
def classify_isolated(log_probs):
    """The digit d whose one-symbol label has the lowest CTC loss, -log p(d | utterance), summed
    over every alignment: recognition under the known grammar "exactly one digit", for isolated
    recordings. log_probs: list of (length, 11) arrays -> (n,) digits."""
    digits = []
    for utterance in log_probs:
        copies = np.repeat(utterance[:, None, :], 10, axis=1)  # (T, 10, 11): one copy per candidate digit
        losses = F.ctc_loss(ts.tensor(copies), np.arange(1, 11)[:, None], np.full(10, len(utterance)),
                            np.ones(10, dtype=np.int64), blank=fsdd.BLANK, reduction="none")
        digits.append(int(np.argmin(losses.data)))
    return np.array(digits)


def string_accuracy(references, hypotheses):
    return float(np.mean([ref == hyp for ref, hyp in zip(references, hypotheses)]))


# ---------------------------------------------------------------------------------------------
# 6. Pictures
# ---------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _log_mel_image(samples, sample_rate, num_mels):
    """The log-mel energies to draw: (num_mels, num_frames), before normalisation."""
    energies = audio.mel_power_spectrogram(audio.pre_emphasis(samples), sample_rate, num_mels=num_mels)
    return audio.log_compress(energies).T


def plot_posteriors(string, log_probs, decoded, sample_rate, args, path):
    """A test string's log-mel spectrogram with its digits' true extents, and under it every
    step's posterior: the blank almost everywhere, a spike per spoken digit, labelled."""
    plt = _pyplot()
    image = _log_mel_image(string.samples, sample_rate, args.num_mels)
    probs = np.exp(log_probs)
    frame_seconds = args.frames_per_step * 0.010  # one step = frames_per_step hops of 10 ms
    step_times = (np.arange(len(probs)) + 0.5) * frame_seconds
    figure, (image_axis, prob_axis) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True,
                                                    gridspec_kw={"height_ratios": [1.2, 1]})
    image_axis.imshow(image, origin="lower", aspect="auto", cmap="magma",
                      extent=(0, image.shape[1] * 0.010, 0, args.num_mels))
    for digit, (start, end) in zip(string.digits, string.segments):
        image_axis.axvspan(start / sample_rate, end / sample_rate, ymin=0.93, ymax=1.0, color="white", alpha=0.6)
        image_axis.text((start + end) / 2 / sample_rate, args.num_mels * 0.965, str(digit), ha="center",
                        va="center", fontsize=10, weight="bold")
    image_axis.set(ylabel="mel band", title=f"speaker {string.speaker}: said {string.text}, "
                                            f"decoded {decoded or '(nothing)'}")
    prob_axis.fill_between(step_times, probs[:, fsdd.BLANK], step="mid", color="lightgray", label="blank")
    best = probs.argmax(axis=1)
    colours = plt.cm.tab10(np.arange(10))
    for label in range(1, fsdd.NUM_CLASSES):
        if probs[:, label].max() < 0.05:
            continue
        prob_axis.step(step_times, probs[:, label], where="mid", color=colours[label - 1], lw=1.5)
        wins = np.flatnonzero(best == label)
        for run in np.split(wins, np.flatnonzero(np.diff(wins) > 1) + 1) if len(wins) else []:
            peak = run[np.argmax(probs[run, label])]
            prob_axis.annotate(str(label - 1), (step_times[peak], probs[peak, label]), textcoords="offset points",
                               xytext=(0, 3), ha="center", fontsize=10, color=colours[label - 1], weight="bold")
    prob_axis.set(xlabel="time (s)", ylabel="posterior", ylim=(0, 1.15))
    prob_axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_alignment(string, log_probs, sample_rate, args, path):
    """The most probable CTC alignment (Viterbi over the lattice) of the true digits: over the
    spectrogram, the steps it gives each digit; below, the lattice (steps x extended target,
    shaded by each node's posterior) with the path drawn over it."""
    plt = _pyplot()
    target = fsdd.digit_labels(string.digits)
    states, path_log_prob = viterbi_alignment(log_probs, target, fsdd.BLANK)
    extended = np.full(2 * len(target) + 1, fsdd.BLANK, dtype=np.int64)
    extended[1::2] = target
    step_seconds = args.frames_per_step * 0.010
    image = _log_mel_image(string.samples, sample_rate, args.num_mels)
    figure, (image_axis, lattice_axis) = plt.subplots(
        2, 1, figsize=(10, 3.2 + 0.22 * len(extended)), sharex=True,
        gridspec_kw={"height_ratios": [1, 0.12 * len(extended) + 0.6]})
    image_axis.imshow(image, origin="lower", aspect="auto", cmap="magma",
                      extent=(0, image.shape[1] * 0.010, 0, args.num_mels))
    for t, state in enumerate(states):
        if extended[state] != fsdd.BLANK:
            image_axis.axvspan(t * step_seconds, (t + 1) * step_seconds, color="cyan", alpha=0.35, lw=0)
    for number, digit in enumerate(string.digits):
        steps = np.flatnonzero(states == 2 * number + 1)
        image_axis.text((steps.mean() + 0.5) * step_seconds, args.num_mels * 0.9, str(digit), color="white",
                        ha="center", fontsize=11, weight="bold")
    image_axis.set(ylabel="mel band", title="CTC alignment of the true digits (cyan: steps given to a digit)")
    node_probs = np.exp(log_probs[:, extended]).T
    lattice_axis.imshow(node_probs, cmap="Blues", vmin=0, vmax=1, aspect="auto",
                        extent=(0, len(states) * step_seconds, len(extended) - 0.5, -0.5))
    lattice_axis.plot((np.arange(len(states)) + 0.5) * step_seconds, states, color="crimson", marker="o",
                      markersize=2.5, lw=1.2, label=f"Viterbi path, log p = {path_log_prob:.2f}")
    lattice_axis.set_yticks(np.arange(len(extended)))
    lattice_axis.set_yticklabels(["∅" if s == fsdd.BLANK else str(s - 1) for s in extended], family="monospace",
                                 fontsize=7)
    lattice_axis.set(xlabel="time (s)", ylabel="extended target")
    lattice_axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_curves(history, path):
    plt = _pyplot()
    figure, (loss_axis, der_axis) = plt.subplots(1, 2, figsize=(10, 4))
    batches_per_epoch = len(history["batch_loss"]) / len(history["epoch_loss"])
    loss_axis.plot(np.arange(1, len(history["batch_loss"]) + 1) / batches_per_epoch, history["batch_loss"],
                   color="lightsteelblue", lw=0.8, label="per batch")
    epochs = np.arange(1, len(history["epoch_loss"]) + 1)
    loss_axis.plot(epochs - 0.5, history["epoch_loss"], marker="o", color="navy", label="epoch mean")
    loss_axis.set(title="training CTC loss (per digit)", xlabel="epoch", yscale="log")
    der_axis.plot(epochs, 100 * np.array(history["valid_der"]), marker="o", color="darkorange")
    der_axis.set(title="validation digit error rate (%), greedy", xlabel="epoch", xticks=epochs)
    for axis in (loss_axis, der_axis):
        axis.grid(alpha=0.3)
    loss_axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ---------------------------------------------------------------------------------------------
# --predict: one file with the saved model
# ---------------------------------------------------------------------------------------------


def predict(args):
    checkpoint = Path(args.out) / MODEL_FILE
    if not checkpoint.is_file():
        raise UsageError(f"no saved model at {checkpoint}: train first (python demos/spoken_digits.py --data DIR "
                         f"--out {args.out}), then --predict")
    try:
        samples, rate = audio.read_wav(args.predict)
    except (FileNotFoundError, ValueError) as error:
        raise UsageError(str(error)) from None
    state, config = ts.load(checkpoint, return_extra=True)
    if rate != config["sample_rate"]:
        raise UsageError(f"{args.predict} is sampled at {rate} Hz; the model was trained on {config['sample_rate']} Hz")
    for name in ("num_mels", "deltas", "frames_per_step"):
        setattr(args, name, config[name])
    # Models saved before --normalise existed were trained on features normalised per utterance.
    args.normalise = config.get("normalise", "utterance")
    args.feature_mean = np.array(config.get("feature_mean", 0.0))
    args.feature_std = np.array(config.get("feature_std", 1.0))
    steps = features(samples, rate, args)
    if len(steps) == 0:
        raise UsageError(f"{args.predict} is too short: {len(samples)} samples, less than one step of features")
    model = build_model(config)
    model.load_state_dict(state)
    log_probs = log_prob_list(model, [steps])[0]
    greedy = decode_all([log_probs], "greedy", args.beam_width)[0]
    beam = decode_all([log_probs], "beam", args.beam_width)[0]
    print(f"{args.predict}: {len(samples) / rate:.2f} s")
    print(f"greedy decoding: {greedy or '(nothing)'}")
    print(f"beam search (width {args.beam_width}): {beam or '(nothing)'}")


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
    if args.predict is not None:
        predict(args)
        return
    started = time.perf_counter()
    ts.manual_seed(args.seed)

    # 1. Data: FSDD's recordings, split; test and validation strings fixed by their seeds.
    if args.smoke:
        args.data = fsdd.write_tone_recordings(out / "smoke_recordings")
        print(f"smoke run: synthetic keypad tones written to {args.data}, not speech")
    splits = load_data(args.data, args.speaker_out)
    sample_rate = splits.train[0].sample_rate
    valid_strings = fsdd.make_strings(splits.valid, np.random.default_rng(args.test_seed + 1), passes=2)
    test_strings = fsdd.make_strings(splits.test, np.random.default_rng(args.test_seed), passes=args.test_passes)
    print(f"data: {len(splits.train)} train, {len(splits.valid)} valid, {len(splits.test)} test recordings "
          f"({splits.description}); {len(valid_strings)} valid and {len(test_strings)} test strings of 1-7 digits "
          f"(mean {np.mean([len(s.digits) for s in test_strings]):.1f}), speakers "
          f"{', '.join(fsdd.speakers(splits.train + splits.test))}")

    # 2. Features: 40 log-mel energies per 10 ms, normalised with the training strings' mean and
    #    variance (per utterance instead, a one-digit recording loses part of what tells its digit
    #    apart: its own mean spectrum), 4 frames stacked per step.
    if args.normalise == "training":
        args.feature_mean, args.feature_std = training_statistics(splits.train, sample_rate, args)
    valid_inputs, _ = featurise([s.samples for s in valid_strings], sample_rate, args)
    valid = {"inputs": valid_inputs, "texts": [s.text for s in valid_strings]}
    test_inputs, test_lengths = featurise([s.samples for s in test_strings], sample_rate, args)
    # Isolated digits: every test recording alone, as a one-digit string (edge silence, gain,
    # noise drawn as for every string), so that it sounds like what the model was trained on.
    isolated_rng = np.random.default_rng(args.test_seed + 2)
    isolated_strings = [fsdd.join_recordings([recording], isolated_rng) for recording in splits.test]
    isolated_inputs, _ = featurise([s.samples for s in isolated_strings], sample_rate, args)
    step_size = test_inputs[0].shape[1]
    print(f"features: {args.num_mels} log-mel energies x {1 + args.deltas} per 10 ms frame, {args.frames_per_step} "
          f"frames per step -> {step_size} numbers per step; a test string has {test_lengths.mean():.0f} steps "
          f"on average ({time.perf_counter() - started:.0f} s)")

    # 3. Model
    config = model_config(args, step_size, sample_rate)
    model = build_model(config)
    print(model)
    print(f"{sum(p.size for p in model.parameters())} parameters")

    # 4. Training, keeping the best epoch on the validation strings
    checkpoint = out / MODEL_FILE
    history = train(model, splits.train, valid, sample_rate, config, args, checkpoint)
    print(f"best model saved to {checkpoint} ({time.perf_counter() - started:.0f} s)")

    # 5. Evaluation: single test recordings, then the test strings with both decoders
    # Isolated digits: read as the one digit with the lowest CTC loss (the grammar "exactly one
    # digit"), and for comparison with the free greedy decoding, which may say nothing or two digits.
    isolated_log_probs = log_prob_list(model, isolated_inputs)
    truth = np.array([r.digit for r in splits.test])
    isolated_accuracy = np.mean(classify_isolated(isolated_log_probs) == truth)
    greedy_isolated = decode_all(isolated_log_probs, "greedy", args.beam_width)
    greedy_isolated_accuracy = np.mean([text == str(digit) for text, digit in zip(greedy_isolated, truth)])
    print(f"isolated-digit accuracy ({len(splits.test)} test recordings): {100 * isolated_accuracy:.2f}% as the "
          f"one digit of lowest CTC loss; {100 * greedy_isolated_accuracy:.2f}% by free greedy decoding")
    test_log_probs = log_prob_list(model, test_inputs)
    references = [s.text for s in test_strings]
    greedy_texts = decode_all(test_log_probs, "greedy", args.beam_width)
    beam_texts = decode_all(test_log_probs, "beam", args.beam_width)
    greedy_der, beam_der = ts.metrics.cer(references, greedy_texts), ts.metrics.cer(references, beam_texts)
    print(f"test strings ({len(test_strings)}, {sum(map(len, references))} digits):")
    print(f"  digit error rate, greedy decoding:        {100 * greedy_der:.2f}%   "
          f"string accuracy {100 * string_accuracy(references, greedy_texts):.2f}%")
    print(f"  digit error rate, beam search (width {args.beam_width:2d}): {100 * beam_der:.2f}%   "
          f"string accuracy {100 * string_accuracy(references, beam_texts):.2f}%")
    if args.speaker_out:
        print(f"unseen speaker {args.speaker_out}: digit error rate {100 * beam_der:.2f}% (beam search)")

    # 6. Pictures: the first test string of 4 or more digits
    shown = next((i for i, s in enumerate(test_strings) if len(s.digits) >= 4), 0)
    pictures = {"posteriors": out / "posteriors.png", "alignment": out / "alignment.png",
                "curves": out / "curves.png"}
    plot_posteriors(test_strings[shown], test_log_probs[shown], beam_texts[shown], sample_rate, args,
                    pictures["posteriors"])
    plot_alignment(test_strings[shown], test_log_probs[shown], sample_rate, args, pictures["alignment"])
    plot_curves(history, pictures["curves"])
    for picture in pictures.values():
        print(f"wrote {picture}")

    # 7. The digit error rate of the default decoder, beam search
    print(f"{time.perf_counter() - started:.0f} s in all")
    print(f"test CER: {100 * beam_der:.2f}%")


if __name__ == "__main__":
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.formatwarning = lambda message, category, *rest: f"warning: {message}\n"
            main()
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
