"""Slot filling as sequence labelling: tag every word of a flight request with a BIO slot tag.

    python demos/slot_filling.py                      # the synthetic ATIS-style corpus, a BiLSTM
    python demos/slot_filling.py --data path/to/atis  # an ATIS/SNIPS folder: train/ valid/ test/
    python demos/slot_filling.py --predict "i want to arrive in taipei on november second"

"arrive Taipei on November 2nd" makes Taipei the destination and the date an arrival date; "leave
Taipei on November 2nd" makes it the departure. The words around "Taipei" and the date can be the
same in both; only a word further away decides. A feed-forward tagger that sees a fixed window of
words cannot tell them apart when that word lies outside its window; a recurrent tagger carries it
in its state. This script trains the recurrent tagger (and, for comparison, a window tagger) and
shows the difference.

Reads like a lab notebook: 1. data, 2. model, 3. training, 4. evaluation, 5. pictures, 6. the
arrive/leave contrast, 7. test results.
"""

import os

# The matrices here are small (batch x hidden), where a multi-threaded BLAS only adds contention;
# on a busy machine it can be tens of times slower. Must be set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402
import tinyseq.nn.functional as F  # noqa: E402
from tinyseq.data import BucketBatchSampler, Vocab, pad_sequences  # noqa: E402
from tinyseq.datasets.atis_format import read_slot_folder  # noqa: E402
from tinyseq.datasets.flights import contrast_pairs, make_flights_corpus  # noqa: E402
from tinyseq.metrics import span_report  # noqa: E402


class UsageError(Exception):
    """A problem with the user's input: printed as one line, exit status 2, no traceback."""


# ---------------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="ATIS/SNIPS-layout folder (default: the built-in synthetic corpus)")
    parser.add_argument("--cell", choices=["none", "rnn", "lstm", "gru"], default="lstm",
                        help="recurrent cell; 'none' is a feed-forward tagger over a window of words")
    parser.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--emb", type=int, default=100, help="word embedding size")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units per direction")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--window", type=int, default=2, help="words either side, for --cell none")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10, help="stop after this many epochs without a better valid F1")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: no clipping)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/slot_filling", help="folder for the model, predictions and PNGs")
    parser.add_argument("--predict", metavar="SENTENCE", help="tag SENTENCE with the model saved in --out")
    parser.add_argument("--smoke", action="store_true", help="a tiny run of a few seconds, for tests")
    args = parser.parse_args(argv)
    for name in ("layers", "emb", "hidden", "epochs", "batch_size", "patience"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not 0.0 <= args.dropout < 1.0:
        raise UsageError(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.lr <= 0 or args.clip < 0 or args.window < 0:
        raise UsageError("--lr must be positive, --clip and --window non-negative")
    if args.smoke:
        args.epochs, args.emb, args.hidden = min(args.epochs, 2), 16, 16
    return args


# ---------------------------------------------------------------------------------------------
# 1. Data
# ---------------------------------------------------------------------------------------------


def load_corpus(args):
    """train/valid/test lists of SlotExample(tokens, tags, intent)."""
    if args.data:
        try:
            return read_slot_folder(args.data)
        except (OSError, ValueError) as error:
            raise UsageError(str(error)) from None
    if args.smoke:
        return make_flights_corpus(n_train=200, n_valid=50, n_test=50, seed=args.seed)
    return make_flights_corpus(seed=args.seed)


def encode(examples, word_vocab, tag_vocab):
    words = [word_vocab.encode(example.tokens) for example in examples]
    tags = [tag_vocab.encode(example.tags) for example in examples]
    return words, tags


def batches(words, tags, batch_size, shuffle, seed=0):
    """Padded batches: tokens (B, T) with 0 for padding, tags (B, T) with -100 there, lengths (B,)."""
    sampler = BucketBatchSampler([len(w) for w in words], batch_size, shuffle=shuffle, seed=seed)
    for indices in sampler:
        token_ids, lengths = pad_sequences([words[i] for i in indices], pad_value=0, dtype=np.int64)
        tag_ids, _ = pad_sequences([tags[i] for i in indices], pad_value=-100, dtype=np.int64)
        yield indices, token_ids, tag_ids, lengths


def replace_rare_words(token_ids, singletons, rng, probability=0.5):
    """Replace words seen once in training by <unk> half the time, so the model learns what to do
    with words it has never seen (the <unk> id is 1)."""
    replace = singletons[token_ids] & (rng.random(token_ids.shape) < probability)
    return np.where(replace, 1, token_ids)


# ---------------------------------------------------------------------------------------------
# 2. Model
# ---------------------------------------------------------------------------------------------


class Tagger(nn.Module):
    """Embedding -> (bi)RNN/LSTM/GRU, or a window of neighbouring words -> Linear: one tag score
    vector per word.  tokens: (B, T) ids, lengths: (B,)  ->  scores: (B, T, num_tags)."""

    def __init__(self, vocab_size, num_tags, cell, emb, hidden, layers, bidirectional, dropout, window):
        super().__init__()
        self.cell, self.window = cell, window
        self.embedding = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        if cell == "none":
            # A feed-forward tagger: each word sees the embeddings of `window` words either side.
            self.hidden = nn.Linear(emb * (2 * window + 1), hidden)
            features = hidden
        else:
            layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
            self.encoder = layer(emb, hidden, num_layers=layers, bidirectional=bidirectional, batch_first=True,
                                 dropout=dropout if layers > 1 else 0.0)
            features = hidden * (2 if bidirectional else 1)
        self.output = nn.Linear(features, num_tags)

    def forward(self, tokens, lengths):
        x = self.dropout(self.embedding(tokens))  # (B, T, emb)
        if self.cell == "none":
            seq_len = x.shape[1]
            padded = F.pad(x, (0, 0, self.window, self.window))  # pad the time axis
            windows = ts.concat([padded[:, k:k + seq_len] for k in range(2 * self.window + 1)], dim=-1)
            features = F.relu(self.hidden(windows))
        else:
            features, _ = self.encoder(x, lengths=lengths)  # (B, T, D * hidden)
        return self.output(self.dropout(features))


def build_model(config, vocab_size, num_tags):
    return Tagger(vocab_size, num_tags, config["cell"], config["emb"], config["hidden"], config["layers"],
                  config["bidirectional"], config["dropout"], config["window"])


# ---------------------------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------------------------


def train(model, train_data, valid_data, tag_vocab, singletons, args, out, label):
    """Adam with gradient clipping; halves the learning rate after 3 epochs without a better valid
    F1, stops after `patience` such epochs, and keeps the parameters with the best valid F1."""
    from tqdm import tqdm

    optimizer = ts.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    history = {"train_loss": [], "valid_f1": []}
    best_f1, best_state, since_best = -1.0, None, 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, count = 0.0, 0
        progress = tqdm(list(batches(*train_data, args.batch_size, shuffle=True, seed=args.seed + epoch)),
                        desc=f"{label} epoch {epoch:2d}", leave=False, file=sys.stdout, disable=args.smoke)
        for _, token_ids, tag_ids, lengths in progress:
            token_ids = replace_rare_words(token_ids, singletons, rng)
            scores = model(token_ids, lengths)
            loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), tag_ids.reshape(-1), ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()
            if args.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            total, count = total + loss.item(), count + 1
            progress.set_postfix(loss=f"{total / count:.4f}")
        valid_f1 = evaluate(model, valid_data, tag_vocab, args.batch_size).overall.f1
        history["train_loss"].append(total / count)
        history["valid_f1"].append(valid_f1)
        marker = ""
        if valid_f1 > best_f1:
            best_f1, best_state, since_best, marker = valid_f1, model.state_dict(), 0, "  (best so far)"
        else:
            since_best += 1
            if since_best % 3 == 0:
                for group in optimizer.param_groups:
                    group["lr"] /= 2
                marker = f"  (learning rate halved to {optimizer.param_groups[0]['lr']:.2g})"
        print(f"{label} epoch {epoch:2d}  train loss {total / count:.4f}  valid F1 {100 * valid_f1:6.2f}{marker}")
        if since_best >= args.patience:
            print(f"{label}: no better valid F1 for {args.patience} epochs, stopping early")
            break
    model.load_state_dict(best_state)
    return history


# ---------------------------------------------------------------------------------------------
# 4. Evaluation
# ---------------------------------------------------------------------------------------------


@ts.no_grad()
def predict_tags(model, words, tag_vocab, batch_size=256):
    """The most likely tag of every word, as lists of tag strings in the examples' order."""
    model.eval()
    predictions = [None] * len(words)
    dummy_tags = [[0] * len(w) for w in words]
    for indices, token_ids, _, lengths in batches(words, dummy_tags, batch_size, shuffle=False):
        best = model(token_ids, lengths).data.argmax(axis=-1)
        for row, index in enumerate(indices):
            predictions[index] = tag_vocab.decode(best[row, : lengths[row]])
    return predictions


def evaluate(model, data, tag_vocab, batch_size):
    words, tags = data
    predicted = predict_tags(model, words, tag_vocab, batch_size)
    gold = [tag_vocab.decode(t) for t in tags]
    return span_report(gold, predicted)


# ---------------------------------------------------------------------------------------------
# 5. Pictures
# ---------------------------------------------------------------------------------------------


def plot_curves(histories, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (loss_axis, f1_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for label, history in histories.items():
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        loss_axis.plot(epochs, history["train_loss"], marker="o", label=label)
        f1_axis.plot(epochs, 100 * np.array(history["valid_f1"]), marker="o", label=label)
    loss_axis.set(title="training loss (cross-entropy per word)", xlabel="epoch", yscale="log")
    f1_axis.set(title="valid slot F1 (%)", xlabel="epoch")
    for axis in (loss_axis, f1_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_tagged_examples(rows, path):
    """rows: (title, tokens, tags) triples, drawn as words over coloured slot labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    slot_types = sorted({tag[2:] for _, _, tags in rows for tag in tags if tag != "O"})
    colours = {slot: plt.cm.tab20(i % 20) for i, slot in enumerate(slot_types)}
    figure, axis = plt.subplots(figsize=(14, 0.9 * len(rows) + 0.5))
    axis.set_axis_off()
    axis.set_xlim(0, 1)
    axis.set_ylim(len(rows), 0)
    for row, (title, tokens, tags) in enumerate(rows):
        axis.text(0.0, row + 0.25, title, fontsize=8, color="dimgray", va="center")
        x = 0.0
        for token, tag in zip(tokens, tags):
            width = 0.012 * (len(token) + 1)
            style = dict(boxstyle="round,pad=0.2", fc=colours[tag[2:]], alpha=0.6) if tag != "O" else None
            axis.text(x, row + 0.55, token, fontsize=9, va="center", bbox=style)
            if tag != "O":
                axis.text(x, row + 0.85, tag, fontsize=5.5, va="center", color="black")
            x += max(width, 0.0065 * len(tag) + 0.01 if tag != "O" else width)
    figure.tight_layout()
    figure.savefig(path, dpi=130)
    plt.close(figure)


# ---------------------------------------------------------------------------------------------
# Saving, loading and --predict
# ---------------------------------------------------------------------------------------------


def save_model(model, config, word_vocab, tag_vocab, out):
    extra = {"config": config, "words": word_vocab.to_dict(), "tags": tag_vocab.to_dict()}
    ts.save(model.state_dict(), out / "model.npz", extra=extra)


def load_model(out):
    path = out / "model.npz"
    if not path.exists():
        raise UsageError(f"no trained model at {path}: train one first (python demos/slot_filling.py --out {out})")
    state, extra = ts.load(path, return_extra=True)
    word_vocab, tag_vocab = Vocab.from_dict(extra["words"]), Vocab.from_dict(extra["tags"])
    model = build_model(extra["config"], len(word_vocab), len(tag_vocab))
    model.load_state_dict(state)
    return model, word_vocab, tag_vocab


def show_tags(tokens, tags):
    width = [max(len(a), len(b)) for a, b in zip(tokens, tags)]
    return "  " + " ".join(t.ljust(w) for t, w in zip(tokens, width)) + "\n  " + " ".join(
        t.ljust(w) for t, w in zip(tags, width))


def tag_sentence(model, word_vocab, tag_vocab, sentence):
    tokens = sentence.lower().split()
    if not tokens:
        raise UsageError("--predict needs a non-empty sentence")
    return tokens, predict_tags(model, [word_vocab.encode(tokens)], tag_vocab)[0]


# ---------------------------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    if args.predict is not None:
        model, word_vocab, tag_vocab = load_model(out)
        print(show_tags(*tag_sentence(model, word_vocab, tag_vocab, args.predict)))
        return
    started = time.perf_counter()
    ts.manual_seed(args.seed)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Data: words and tags to ids. The tag set comes from training, padding is ignored by the loss.
    corpus = load_corpus(args)
    word_vocab = Vocab.build([example.tokens for example in corpus.train])
    tag_vocab = Vocab.build([example.tags for example in corpus.train], pad_token=None, unk_token="O")
    unseen_tags = sorted({t for e in corpus.valid + corpus.test for t in e.tags} - set(tag_vocab.itos))
    train_data = encode(corpus.train, word_vocab, tag_vocab)
    valid_data = encode(corpus.valid, word_vocab, tag_vocab)
    word_counts = np.bincount(np.concatenate([np.asarray(w) for w in train_data[0]]), minlength=len(word_vocab))
    singletons = word_counts == 1
    print(f"data: {len(corpus.train)} train, {len(corpus.valid)} valid, {len(corpus.test)} test utterances; "
          f"{len(word_vocab)} words, {len(tag_vocab)} tags" + (f" ({len(unseen_tags)} test tags never seen in training)"
                                                              if unseen_tags else ""))

    # 2. Model
    config = {key: getattr(args, key) for key in ("cell", "emb", "hidden", "layers", "bidirectional", "dropout", "window")}
    model = build_model(config, len(word_vocab), len(tag_vocab))
    print(model)
    print(f"{sum(p.size for p in model.parameters())} parameters")

    # 3. Training, keeping the best model on valid
    histories = {args.cell: train(model, train_data, valid_data, tag_vocab, singletons, args, out, args.cell)}
    save_model(model, config, word_vocab, tag_vocab, out)
    print(f"saved the best-on-valid model to {out / 'model.npz'}")

    # For comparison: a feed-forward window tagger, which has no memory beyond its window.
    window_model = None
    if args.cell != "none":
        window_config = dict(config, cell="none")
        window_args = argparse.Namespace(**{**vars(args), "epochs": min(args.epochs, 10)})
        ts.manual_seed(args.seed)
        window_model = build_model(window_config, len(word_vocab), len(tag_vocab))
        histories["window (feed-forward)"] = train(window_model, train_data, valid_data, tag_vocab, singletons,
                                                   window_args, out, "window")

    # 4.-5. Pictures
    plot_curves(histories, out / "curves.png")
    print(f"wrote {out / 'curves.png'}")
    test_words = [word_vocab.encode(e.tokens) for e in corpus.test]
    test_predictions = predict_tags(model, test_words, tag_vocab)
    examples = []  # the first test sentences, gold over predicted
    for example, predicted in list(zip(corpus.test, test_predictions))[:3]:
        examples.append(("gold: " + " ".join(example.tokens), example.tokens, example.tags))
        examples.append((f"{args.cell} tagger", example.tokens, predicted))

    # 6. The lecture's point: arrive vs leave, to vs from, decided by a word outside the window.
    print("\nContext decides the slot: the same words around the city and date, different tags.")
    for first, second in contrast_pairs():
        for example in (first, second):
            print("gold:")
            print(show_tags(example.tokens, example.tags))
            for label, tagger in ((args.cell, model), ("window", window_model)):
                if tagger is None:
                    continue
                predicted = predict_tags(tagger, [word_vocab.encode(example.tokens)], tag_vocab)[0]
                verdict = "correct" if list(predicted) == list(example.tags) else "wrong"
                print(f"{label} tagger ({verdict}):")
                print(show_tags(example.tokens, predicted))
                examples.append((f"{label} tagger ({verdict})", example.tokens, predicted))
    plot_tagged_examples(examples, out / "tagged_examples.png")
    print(f"wrote {out / 'tagged_examples.png'}")

    # 7. Test results, conlleval-style, and the predictions in the seq.out format.
    gold_test = [list(e.tags) for e in corpus.test]
    report = span_report(gold_test, test_predictions)
    (out / "test.pred").write_text("".join(" ".join(tags) + "\n" for tags in test_predictions))
    print(f"\nwrote the test predictions to {out / 'test.pred'}")
    print(report.table())
    print(f"test precision {100 * report.overall.precision:.2f}  recall {100 * report.overall.recall:.2f}  "
          f"({time.perf_counter() - started:.0f} s in all)")
    (out / "metrics.json").write_text(json.dumps({"test_f1": report.overall.f1, **report.overall.scores()}))
    print(f"test slot F1: {100 * report.overall.f1:.2f}")


if __name__ == "__main__":
    try:
        main()
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
