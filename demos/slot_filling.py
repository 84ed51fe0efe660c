"""Joint intent detection and slot filling: the intent of a flight request and a BIO slot tag for every word.

    python demos/slot_filling.py                      # the synthetic ATIS-style corpus
    python demos/slot_filling.py --data path/to/atis  # an ATIS/SNIPS folder: train/ valid/ test/
    python demos/slot_filling.py --predict "i want to arrive in taipei on november second"

"arrive Taipei on November 2nd" makes Taipei the destination and the date an arrival date; "leave
Taipei on November 2nd" makes it the departure. The words around "Taipei" and the date can be the
same in both; only a word further away decides. A feed-forward tagger that sees a fixed window of
words cannot tell them apart when that word lies outside its window; a recurrent tagger carries it
in its state. On the synthetic corpus this script also trains a window tagger to show the difference.

The model (the defaults are the best configuration found; each part can be switched off):
  * words: an embedding of the words seen at least twice in training (--min-count; the others are
    read as <unk>, and any word becomes <unk> now and then in training, so the model learns what to
    do with words it has never seen; on SNIPS this keeps 4,400 of 11,400 words, and an epoch took
    18 s instead of 26 on one thread of a busy machine) and, for every word, features from its
    characters (a small convolution over character trigrams, max-pooled), which still see a name
    or a number the embedding has never met;
  * a bidirectional LSTM over the sentence, and one head of self-attention over its states
    (--attention): every word's state is followed by a mix of the other words' states, weighted
    by how well they match, so a word anywhere in the sentence can inform the intent and any tag
    directly ("... and their fares" asks for fares as well as flights);
  * slots: a score per word and tag, decoded by a linear-chain CRF (--crf) whose BIO constraints
    forbid an I-x after O or B-y in training and decoding alike; --no-crf picks each tag on its own;
  * intent (--intent, when the data has intents), two voices added together: the sentence's (a
    linear layer over the LSTM states and the word features, each max-pooled over the words; the
    word features are a shortcut for keywords that decide rare intents) and every word's own vote
    (a linear layer over its LSTM state, averaged over the words, as in Stack-Propagation, Qin et
    al. 2019). A label that joins several intents ("atis_flight#atis_airfare") scores the sum of
    its parts' scores, so a rare combination learns from every utterance of each part. Trained
    jointly: loss = slot loss + --intent-weight * (sentence loss + per-word vote loss);
  * training: Adam on batches of 64 sentences of similar lengths, the learning rate at 3e-3 for the
    first half of the epochs and then falling linearly to a tenth of it; 24 epochs, or fewer when
    --max-updates (3,300 steps) comes first, as on SNIPS (16 epochs of 205 batches), a corpus three
    times ATIS's that would otherwise take three times as long (an explicit --epochs is trained in
    full, unless --max-updates is given too). On ATIS valid (four members), the mean of slot F1,
    intent and sentence accuracy is 95.53 and 95.52 for seeds 0 and 1, against 95.19 and 95.30
    with 16 epochs of 32 sentences at 2e-3; 22 epochs of 64 gave 95.07 and 95.36, 20 gave 95.04
    and 95.26 (all with dropout 0.5). Dropout (--dropout, on the word features, the encoder states
    and between stacked layers) is 0.3: valid 95.95 and 95.66 on ATIS (0.4: 95.81 and 95.71; 0.5:
    95.53 and 95.52) and 93.92 and 93.83 on SNIPS (0.5: 93.45 and 93.38);
  * an ensemble (--members; 4 by default on a --data folder): the same model trained from different
    seeds, each keeping its best epoch on valid, predicting as a product of experts. The slots are
    the path with the highest sum of the members' CRF scores (Viterbi on their summed emissions
    and transition tables, under the same constraints: exact, not an approximation), the intent
    the one with the highest mean log-score. The members never talk to each other, so --jobs of
    them train at once, each in its own single-threaded process (default: one per CPU core); a
    member depends only on its own seed, so the predictions do not depend on --jobs. Four members
    on two cores take the time of two on one;
  * joint decoding (--joint-decoding; auto by default: kept when it scores better on valid): the
    intent and the slots are picked together, as the best pair whose slot types were seen with that
    intent in training (in SNIPS a movie_name slot occurs only with SearchScreeningEvent, an
    object_name only with SearchCreativeWork and RateBook). For each sentence's three best
    intents, Viterbi runs over the tags that intent allows, and the pair scores the members' summed
    log-scores of intent and path: the product of experts over consistent pairs. Valid keeps it on
    SNIPS and turns it down on ATIS, whose intents share most slot types and whose rare intents saw
    few of them (docs/crf.md).

Reads like a lab notebook: 1. data, 2. model, 3. training, 4. evaluation, 5. pictures, 6. the
arrive/leave contrast (synthetic corpus), 7. test results.
"""

import os

if __name__ == "__main__":
    # The matrices here are small (batch x hidden), where a multi-threaded BLAS only adds
    # contention: on a busy machine it can be tens of times slower. This must happen before numpy
    # is imported, and only when run as a script, not when a test imports the file.
    # Numba's threads likewise: the CRF kernels' batch of ~32 sentences is too small to share.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
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
from tinyseq.crf.decode import viterbi_decode  # noqa: E402
from tinyseq.metrics import intent_accuracy, sentence_accuracy, span_report  # noqa: E402
from tinyseq.nn.crf import allowed_transitions  # noqa: E402

DATA_HELP = ("an ATIS/SNIPS folder holds train/, valid/ (or dev/) and test/, each with seq.in, seq.out and label; "
             "public copies are in the repository of Goo et al. 2018, github.com/MiuLab/SlotGated-SLU, under data/")


DEFAULT_EPOCHS, DEFAULT_MAX_UPDATES = 24, 3300


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
    parser.add_argument("--data", help="ATIS/SNIPS-layout folder (default: the built-in synthetic corpus)")
    parser.add_argument("--cell", choices=["none", "rnn", "lstm", "gru"], default="lstm",
                        help="recurrent cell; 'none' is a feed-forward tagger over a window of words")
    parser.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--crf", action=argparse.BooleanOptionalAction, default=True,
                        help="decode the slots with a BIO-constrained linear-chain CRF")
    parser.add_argument("--intent", action=argparse.BooleanOptionalAction, default=True,
                        help="predict the intent too (when the data has label files)")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--emb", type=int, default=100, help="word embedding size")
    parser.add_argument("--min-count", type=int, default=2,
                        help="words seen fewer times in training get no embedding of their own: they are read as "
                             "<unk> plus their character features (1: every training word has one)")
    parser.add_argument("--char-emb", type=int, default=24, help="character embedding size")
    parser.add_argument("--char-filters", type=int, default=64, help="character features per word (0: none)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units per direction")
    parser.add_argument("--attention", type=int, default=32,
                        help="size of the self-attention over the recurrent encoder's states (0: none)")
    parser.add_argument("--dropout", type=float, default=0.3,
                        help="dropout on the word features, on the encoder states and between stacked layers")
    parser.add_argument("--word-dropout", type=float, default=0.05,
                        help="probability of replacing any training word by <unk> (words seen once: 0.5)")
    parser.add_argument("--intent-weight", type=float, default=3.0, help="weight of the intent loss")
    parser.add_argument("--window", type=int, default=2, help="words either side, for --cell none")
    parser.add_argument("--members", type=int,
                        help="an ensemble of this many models, each trained on its own from its own seed (--seed + "
                             "1000 m), predicting together: their CRF scores summed, their intent log-scores "
                             "averaged (default: 4 with --data; 1 on the synthetic corpus, which one model "
                             "already tags almost perfectly)")
    parser.add_argument("--jobs", type=int,
                        help="train this many members at once, each in its own single-threaded process (default: "
                             "min(--members, the number of CPU cores)); the results do not depend on it")
    parser.add_argument("--joint-decoding", choices=["auto", "on", "off"], default="auto",
                        help="pick intent and slots together, as the best pair whose slot types were seen with "
                             "that intent in training, with --crf and intents (auto: when it scores better on valid)")
    parser.add_argument("--epochs", type=int,
                        help=f"passes over the training data (default {DEFAULT_EPOCHS}, fewer when --max-updates "
                             "comes first; a given --epochs is capped only by a given --max-updates)")
    parser.add_argument("--max-updates", type=int,
                        help=f"at most this many optimizer steps in all (default {DEFAULT_MAX_UPDATES} without "
                             "--epochs, none with it): fewer epochs for a large training set (SNIPS, 205 batches "
                             "an epoch: 16), so that it trains in the time of a small one")
    parser.add_argument("--patience", type=int, default=5, help="stop after this many epochs without a better valid score")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=5.0, help="max gradient norm (0: no clipping)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/slot_filling", help="folder for the model, predictions and PNGs")
    parser.add_argument("--predict", metavar="SENTENCE", help="tag SENTENCE with the model saved in --out")
    parser.add_argument("--smoke", action="store_true", help="a tiny run of a few seconds, for tests")
    args = parser.parse_args(argv)
    # The default schedule is 24 epochs capped at 3,300 updates; an --epochs the user asks for is
    # trained in full, unless they also ask for a cap.
    if args.max_updates is None and args.epochs is None:
        args.max_updates = DEFAULT_MAX_UPDATES
    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS
    if args.members is None:
        args.members = 4 if args.data else 1
    if args.jobs is None:
        args.jobs = min(args.members, os.cpu_count() or 1)
    for name in ("layers", "emb", "min_count", "char_emb", "hidden", "members", "jobs", "epochs", "max_updates",
                 "batch_size", "patience"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    for name in ("char_filters", "attention", "window", "seed"):
        if getattr(args, name) < 0:
            raise UsageError(f"--{name.replace('_', '-')} must be non-negative, got {getattr(args, name)}")
    for name, low, high in (("dropout", 0.0, 1.0), ("word_dropout", 0.0, 1.0)):
        if not low <= getattr(args, name) < high:  # False for nan too
            raise UsageError(f"--{name.replace('_', '-')} must be in [{low:g}, {high:g}), got {getattr(args, name)}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be positive and finite, got {args.lr}")
    for name in ("clip", "intent_weight"):
        if not (math.isfinite(getattr(args, name)) and getattr(args, name) >= 0):
            raise UsageError(f"--{name.replace('_', '-')} must be non-negative and finite, got {getattr(args, name)}")
    if args.smoke:
        args.epochs, args.emb, args.hidden, args.char_filters = min(args.epochs, 2), 16, 16, min(args.char_filters, 8)
        args.attention = min(args.attention, 8)
    return args


# ---------------------------------------------------------------------------------------------
# 1. Data
# ---------------------------------------------------------------------------------------------


def load_corpus(args):
    """train/valid/test lists of SlotExample(tokens, tags, intent)."""
    if args.data:
        try:
            return read_slot_folder(args.data)
        except FileNotFoundError as error:
            raise UsageError(f"{error} ({DATA_HELP})") from None
        except (OSError, ValueError) as error:
            raise UsageError(str(error)) from None
    if args.smoke:
        return make_flights_corpus(n_train=200, n_valid=50, n_test=50, seed=args.seed)
    return make_flights_corpus(seed=args.seed)


class Vocabularies:
    """Everything that turns strings into ids: words (training words only), characters, tags and
    intents (None when the model predicts no intent). Saved with the model."""

    def __init__(self, words, chars, tags, intents):
        self.words, self.chars, self.tags, self.intents = words, chars, tags, intents

    @classmethod
    def build(cls, train, with_intents, min_count=1):
        words = Vocab.build([example.tokens for example in train], min_freq=min_count)
        chars = Vocab.build([list(token) for example in train for token in example.tokens])
        tags = Vocab.build([example.tags for example in train], pad_token=None, unk_token="O")
        intents = Vocab.build([[example.intent] for example in train], pad_token=None, unk_token=None) \
            if with_intents else None
        return cls(words, chars, tags, intents)

    def to_dict(self):
        return {"words": self.words.to_dict(), "chars": self.chars.to_dict(), "tags": self.tags.to_dict(),
                "intents": self.intents.to_dict() if self.intents else None}

    @classmethod
    def from_dict(cls, state):
        intents = Vocab.from_dict(state["intents"]) if state["intents"] else None
        return cls(Vocab.from_dict(state["words"]), Vocab.from_dict(state["chars"]), Vocab.from_dict(state["tags"]),
                   intents)


class Encoded:
    """A split as ids: words[i] (T_i,), tokens[i] (the strings, for character features), tags[i]
    (T_i,) (training tags; -1 where unknown), intents (N,) (-1 where unknown or absent)."""

    def __init__(self, examples, vocabularies):
        self.tokens = [example.tokens for example in examples]
        self.words = [np.array(vocabularies.words.encode(tokens), dtype=np.int64) for tokens in self.tokens]
        self.tags = [np.array(vocabularies.tags.encode(example.tags), dtype=np.int64) for example in examples]
        intents = vocabularies.intents
        self.intents = np.array([intents.stoi.get(example.intent, -1) if intents else -1 for example in examples])

    def __len__(self):
        return len(self.words)


def character_ids(tokens, chars):
    """The distinct token strings of a batch as padded character ids, one empty column either side
    (for the trigram windows), and where each token of the batch sits among them.

    tokens: list of token tuples.  Returns char_ids (U, W + 2) int64 (0 = padding) and
    form_index (B, T_max) int64 into the U forms (padding positions point at form 0)."""
    forms = {"": 0}
    for sentence in tokens:
        for token in sentence:
            forms.setdefault(token, len(forms))
    width = max(len(form) for form in forms) + 2
    char_ids = np.zeros((len(forms), width), dtype=np.int64)
    for form, row in forms.items():
        char_ids[row, 1 : len(form) + 1] = chars.encode(list(form))
    form_index = np.zeros((len(tokens), max(len(s) for s in tokens)), dtype=np.int64)
    for row, sentence in enumerate(tokens):
        form_index[row, : len(sentence)] = [forms[token] for token in sentence]
    return char_ids, form_index


def batches(data, batch_size, shuffle, seed=0):
    """Padded batches: (indices, word ids (B, T) with 0 for padding, tags (B, T) with 0 there,
    lengths (B,), the tokens of the batch).

    shuffle=True (training): bucketed, reshuffled batches of similar lengths (BucketBatchSampler).
    shuffle=False (prediction): the examples sorted by length, cut into batches. The network computes
    every padded step, and ATIS sentences of 3 to 46 words in file order would pad a batch to its
    longest sentence; callers put each result back by its index."""
    sentence_lengths = [len(w) for w in data.words]
    if shuffle:
        sampler = BucketBatchSampler(sentence_lengths, batch_size, shuffle=True, seed=seed)
    else:
        by_length = np.argsort(sentence_lengths, kind="stable")
        sampler = [by_length[start : start + batch_size] for start in range(0, len(by_length), batch_size)]
    for indices in sampler:
        word_ids, lengths = pad_sequences([data.words[i] for i in indices], pad_value=0, dtype=np.int64)
        tag_ids, _ = pad_sequences([data.tags[i] for i in indices], pad_value=0, dtype=np.int64)
        yield indices, word_ids, tag_ids, lengths, [data.tokens[i] for i in indices]


def drop_words(word_ids, singletons, word_dropout, rng):
    """Replace words seen once in training by <unk> half the time (there are none in the vocabulary
    unless --min-count is 1), and any word with probability word_dropout, so the model learns what
    to do with words it has never seen (the <unk> id is 1)."""
    draw = rng.random(word_ids.shape)
    replace = (singletons[word_ids] & (draw < 0.5)) | (draw < word_dropout)
    return np.where(replace & (word_ids > 0), 1, word_ids)


# ---------------------------------------------------------------------------------------------
# 2. Model
# ---------------------------------------------------------------------------------------------


class JointTagger(nn.Module):
    """Words (+ character trigram features) -> (bi)RNN/LSTM/GRU, or a window of neighbouring words
    -> slot scores per word (decoded by a CRF or per word) and intent scores per sentence.

    forward(word_ids (B, T), char_ids (U, W), form_index (B, T), lengths (B,))
        -> emissions (B, T, num_tags), intent scores (B, num_intents) and word votes (B, T, num_intents)
           (log-probabilities, zero at padding), or None and None without intents
    """

    def __init__(self, config, num_words, num_chars, tag_labels, intent_labels):
        super().__init__()
        self.cell, self.window, self.use_crf = config["cell"], config["window"], config["crf"]
        self.embedding = nn.Embedding(num_words, config["emb"], padding_idx=0)
        features_in = config["emb"]
        self.char_filters = config["char_filters"]
        if self.char_filters:
            self.char_embedding = nn.Embedding(num_chars, config["char_emb"], padding_idx=0)
            self.char_conv = nn.Linear(3 * config["char_emb"], self.char_filters)  # a width-3 convolution
            features_in += self.char_filters
        self.dropout = nn.Dropout(config["dropout"])
        if self.cell == "none":
            # A feed-forward tagger: each word sees the embeddings of `window` words either side.
            self.hidden = nn.Linear(features_in * (2 * self.window + 1), config["hidden"])
            features = config["hidden"]
        else:
            layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[self.cell]
            self.encoder = layer(features_in, config["hidden"], num_layers=config["layers"],
                                 bidirectional=config["bidirectional"], batch_first=True,
                                 dropout=config["dropout"] if config["layers"] > 1 else 0.0)
            features = config["hidden"] * (2 if config["bidirectional"] else 1)
        # Self-attention: every word's state is extended by a mix of all the sentence's words
        # (see attend). Never in the window tagger, whose point is that it sees only its window; an
        # old checkpoint without the key had none.
        self.attention = config.get("attention", 0) if self.cell != "none" else 0
        if self.attention:
            self.query = nn.Linear(features, self.attention)
            self.key = nn.Linear(features, self.attention)
            self.value = nn.Linear(features, self.attention)
            features += self.attention
        self.slot_output = nn.Linear(features, len(tag_labels))
        self.intent_output = self.word_intent_output = None
        if intent_labels:
            # An intent label may join several atomic intents ("atis_flight#atis_airfare"): the heads
            # score the atoms, and a label scores the sum of its atoms' scores (label_atoms[a, l] = 1
            # when label l contains atom a).
            atoms = sorted({atom for label in intent_labels for atom in label.split("#")})
            self.label_atoms = np.array([[atom in label.split("#") for label in intent_labels] for atom in atoms],
                                        dtype=np.float32)
            # The sentence's voice sees the pooled encoder states and, as a shortcut for keywords that
            # decide a rare intent ("meals", "flight numbers"), the pooled word features themselves.
            self.intent_output = nn.Linear(features + features_in, len(atoms))
            self.word_intent_output = nn.Linear(features, len(atoms))  # every word's vote
        if self.use_crf:
            self.crf = nn.CRF(len(tag_labels), batch_first=True, constraints=allowed_transitions(tag_labels))

    def word_features(self, char_ids, form_index):
        """Character trigram features of each distinct word form, max-pooled over its characters,
        then looked up for every token: (B, T, char_filters)."""
        chars = self.char_embedding(char_ids)  # (U, W, char_emb)
        width = char_ids.shape[1]
        windows = ts.concat([chars[:, k : width - 2 + k] for k in range(3)], dim=-1)  # (U, W - 2, 3 char_emb)
        activations = F.relu(self.char_conv(windows))
        real = (char_ids[:, 1 : width - 1] > 0)[:, :, None]  # windows centred on a real character
        pooled = (activations * real.astype(activations.dtype)).amax(dim=1)  # (U, char_filters); relu >= 0
        return F.embedding(form_index, pooled)

    def attend(self, states, lengths):
        """One head of scaled dot-product self-attention (Vaswani et al. 2017) over the real words:
        states (B, T, D) -> (B, T, D + A), each word's state h_t followed by its context

            a_tj = softmax_j(q_t . k_j / sqrt(A)),  c_t = sum_j a_tj v_j,  q, k, v = W_q h, W_k h, W_v h

        with j over the words of the sentence only (padding's logits sit 10^4 below). The LSTM
        carries a word's context along the chain; attention lets the word at t look at any other
        word directly ("fares" at the end of "flights from denver to boston and their fares"),
        which is what the self-attentive joint models of Li et al. 2018 and Qin et al. 2021 add to
        the encoder. On ATIS (four members, seeds 0 and 1) the valid mean of slot F1, intent and
        sentence accuracy is 95.19 and 95.30 with A = 32, 94.77 and 94.87 with A = 64, 94.32 and
        94.84 without; test intent accuracy 97.54 and 97.42 with A = 32, 96.64 and 96.86 without."""
        real = (np.arange(states.shape[1])[None, :] < lengths[:, None])[:, None, :]  # (B, 1, T): key j real
        logits = self.query(states) @ self.key(states).transpose(1, 2) / math.sqrt(self.attention)  # (B, T, T)
        weights = F.softmax(logits + np.where(real, 0.0, -1e4).astype(states.dtype), dim=-1)
        return ts.concat([states, weights @ self.value(states)], dim=-1)

    def forward(self, word_ids, char_ids, form_index, lengths):
        x = self.embedding(word_ids)
        if self.char_filters:
            x = ts.concat([x, self.word_features(char_ids, form_index)], dim=-1)
        x = self.dropout(x)
        words = x
        if self.cell == "none":
            seq_len = x.shape[1]
            padded = F.pad(x, (0, 0, self.window, self.window))  # pad the time axis
            windows = ts.concat([padded[:, k:k + seq_len] for k in range(2 * self.window + 1)], dim=-1)
            states = F.relu(self.hidden(windows))
        else:
            states, _ = self.encoder(x, lengths=lengths)  # (B, T, D * hidden), zero past each end
        if self.attention:
            states = self.attend(states, lengths)
        states = self.dropout(states)
        emissions = self.slot_output(states)
        if self.intent_output is None:
            return emissions, None, None
        real = (np.arange(states.shape[1])[None, :] < lengths[:, None])[:, :, None]  # (B, T, 1)
        # Max over the real words only: padding gets a score far below any state.
        padding = np.where(real, 0.0, -1e4).astype(states.dtype)
        pooled = ts.concat([(states + padding).amax(dim=1), (words + padding).amax(dim=1)], dim=-1)
        to_labels = ts.tensor(self.label_atoms)  # atom scores (.., A) @ (A, L) -> label scores (.., L)
        sentence = F.log_softmax(self.intent_output(pooled) @ to_labels, dim=-1)  # (B, L)
        word_logits = self.word_intent_output(states) @ to_labels  # (B, T, L)
        votes = F.log_softmax(word_logits, dim=-1) * real.astype(states.dtype)  # (B, T, L), zero at padding
        intent_scores = sentence + votes.sum(dim=1) / ts.tensor(lengths[:, None].astype(states.dtype))
        return emissions, intent_scores, votes

    def slot_loss(self, emissions, tag_ids, lengths):
        """Mean over sentences of -log p(tags) (CRF), or mean cross-entropy per word (no CRF)."""
        if self.use_crf:
            return -self.crf(emissions, tag_ids, lengths=lengths, reduction="mean")
        real = np.arange(tag_ids.shape[1])[None, :] < lengths[:, None]
        targets = np.where(real, tag_ids, -100)
        return F.cross_entropy(emissions.reshape(-1, emissions.shape[-1]), targets.reshape(-1), ignore_index=-100)

    @staticmethod
    def intent_loss(intent_scores, votes, intents, lengths):
        """Cross-entropy of the sentence's intent scores plus the mean over words of -log(the word's
        vote for the gold intent). intents: (B,) gold label ids."""
        gold = np.eye(votes.shape[-1], dtype=votes.dtype)[intents][:, None, :]  # (B, 1, L) one-hot
        return F.cross_entropy(intent_scores, intents) - (votes * gold).sum() / float(lengths.sum())

    def decode(self, emissions, lengths):
        """Tag ids per sentence: Viterbi under the constraints, or the best tag of each word."""
        if self.use_crf:
            return self.crf.decode(emissions, lengths=lengths)
        best = emissions.data.argmax(axis=-1)
        return [best[row, : lengths[row]].tolist() for row in range(len(lengths))]


class Ensemble(nn.Module):
    """Several JointTaggers, each trained on its own from its own seed, predicting together as a
    product of experts: the probability of an answer is proportional to the product of the members'.

    Slots: a member's CRF scores a tag path y with s_m(y) (its emissions plus its start, transition
    and end scores), so the product of the members' CRFs scores it with sum_m s_m(y): a CRF whose
    emissions and score tables are the sums of the members'. Viterbi on those sums, under the same
    BIO constraints, is therefore exact decoding of the product. Without a CRF the members'
    per-word log-probabilities are added. Intent: the mean of the members' intent log-scores.

    forward(word_ids (B, T), char_ids (U, W), form_index (B, T), lengths (B,))
        -> slot scores (B, T, num_tags), intent scores (B, num_intents) or None, and None (no votes)
    """

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.use_crf = members[0].use_crf
        self.joint_masks = None  # (num_intents, num_tags) bool when decoding jointly: see decode_jointly

    def forward(self, word_ids, char_ids, form_index, lengths):
        outputs = [member(word_ids, char_ids, form_index, lengths) for member in self.members]
        slot_scores = intent_scores = None
        for emissions, member_intents, _ in outputs:
            if not self.use_crf:
                emissions = F.log_softmax(emissions, dim=-1)
            slot_scores = emissions if slot_scores is None else slot_scores + emissions
            if member_intents is not None:
                member_intents = member_intents / float(len(self.members))
                intent_scores = member_intents if intent_scores is None else intent_scores + member_intents
        return slot_scores, intent_scores, None

    def transition_scores(self):
        """The summed (start (K,), end (K,), transitions (K, K)) score tables of the members' CRFs."""
        return tuple(sum(getattr(member.crf, name).data.astype(np.float64) for member in self.members)
                     for name in ("start_transitions", "end_transitions", "transitions"))

    def decode(self, slot_scores, lengths):
        """Tag ids per sentence: Viterbi with the summed tables (CRF), or the best tag of each word."""
        if not self.use_crf:
            return self.members[0].decode(slot_scores, lengths)
        return viterbi_decode(slot_scores.data.transpose(1, 0, 2), lengths, *self.transition_scores(),
                              allowed=self.members[0].crf.allowed)

    def decode_jointly(self, slot_scores, intent_scores, lengths):
        """Tag ids and intent ids per sentence: the best consistent pair. For each of a sentence's
        JOINT_CANDIDATES best intents k, Viterbi over the tags joint_masks[k] allows (O and the slot
        types seen with k in training), and the pair scores M * intent_score(k) + the path's score:
        the sum over the M members of their log-scores of the intent and of the path, so the product
        of experts again, now over (intent, slots) pairs restricted to consistent ones.
        slot_scores (B, T, K), intent_scores (B, L), lengths (B,)."""
        scores = intent_scores.data.astype(np.float64)
        emissions = slot_scores.data.astype(np.float64).transpose(1, 0, 2)  # (T, B, K)
        tables, allowed = self.transition_scores(), self.members[0].crf.allowed
        best = [(-np.inf, None, None)] * len(lengths)  # (score, path, intent) per sentence
        for intents in np.argsort(-scores, axis=1)[:, :JOINT_CANDIDATES].T:  # every sentence's r-th best intent
            masked = np.where(self.joint_masks[intents][None, :, :], emissions, -1e9)  # O is always allowed
            for row, ((path, path_score),) in enumerate(viterbi_decode(masked, lengths, *tables, allowed=allowed,
                                                                       top_k=1)):
                total = len(self.members) * scores[row, intents[row]] + path_score
                if total > best[row][0]:
                    best[row] = (total, path, intents[row])
        return [path for _, path, _ in best], [intent for _, _, intent in best]


JOINT_CANDIDATES = 3  # intents tried per sentence by Ensemble.decode_jointly


def consistent_tags(train, vocabularies):
    """joint_masks: (num_intents, num_tags) bool, mask[k, j] true when tag j is O or its slot type
    occurs in training in an utterance whose intent shares an atom with intent k ("atis_flight#atis_airfare"
    allows the types of both)."""
    types = {}  # atom -> slot types seen with it
    for example in train:
        for atom in example.intent.split("#"):
            types.setdefault(atom, set()).update(tag[2:] for tag in example.tags if tag != "O")
    masks = np.zeros((len(vocabularies.intents), len(vocabularies.tags)), dtype=bool)
    for k, label in enumerate(vocabularies.intents.itos):
        seen = set().union(*(types.get(atom, set()) for atom in label.split("#")))
        masks[k] = [tag == "O" or tag[2:] in seen for tag in vocabularies.tags.itos]
    return masks


def build_model(config, vocabularies):
    """One JointTagger."""
    intents = vocabularies.intents
    return JointTagger(config, len(vocabularies.words), len(vocabularies.chars), vocabularies.tags.itos,
                       intents.itos if intents else [])


def member_seed(seed, member):
    """Member m of the ensemble of --seed S starts from seed S + 1000 m (member 0 from S itself)."""
    return seed + 1000 * member


def build_ensemble(config, vocabularies):
    """config["members"] JointTaggers, each initialised from its own seed, in an Ensemble."""
    members = []
    for member in range(config["members"]):
        ts.manual_seed(member_seed(config["seed"], member))
        members.append(build_model(config, vocabularies))
    return Ensemble(members)


def train_member(index, config, train_data, valid_examples, vocabularies, singletons, args):
    """Member `index` of the ensemble, built and trained from its own seed alone (initial weights,
    dropout masks, word dropout and batch order), so it comes out the same whether it is trained
    in this process or in a worker, first or last. Returns its best-on-valid state dict and history."""
    seed = member_seed(args.seed, index)
    ts.manual_seed(seed)
    member = build_model(config, vocabularies)
    label = args.cell if args.members == 1 else f"{args.cell} {index + 1}/{args.members}"
    history = train(member, train_data, valid_examples, vocabularies, singletons,
                    argparse.Namespace(**{**vars(args), "seed": seed}), label)
    return member.state_dict(), label, history


def train_members(model, config, train_data, valid_examples, vocabularies, singletons, args):
    """Train the ensemble's members, --jobs at a time, and load their best parameters into `model`.

    With --jobs > 1 each member trains in a fresh worker process ("spawn": it inherits no threads
    or locks from this one, and the environment that keeps numpy and Numba single-threaded); the
    members never talk to each other, so a 2-core machine trains two at once in the time of one."""
    work = (config, train_data, valid_examples, vocabularies, singletons, args)
    if args.jobs == 1 or args.members == 1:
        results = [train_member(index, *work) for index in range(args.members)]
    else:
        import concurrent.futures
        import multiprocessing

        with concurrent.futures.ProcessPoolExecutor(min(args.jobs, args.members), initializer=exit_with_parent,
                                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(train_member, range(args.members), *([item] * args.members for item in work)))
    histories = {}
    for member, (state, label, history) in zip(model.members, results):
        member.load_state_dict(state)
        histories[label] = history
    return histories


def exit_with_parent(poll_seconds=1.0):
    """Run in each worker as it starts: a background thread ends the worker when the process that
    started it is gone. Killed with SIGTERM or SIGKILL (by `kill`, `timeout`, a test's time limit),
    the demo cannot tell its workers, which would otherwise train on, orphaned, for minutes."""
    import threading

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:  # an orphan is handed to another parent (init, pid 1)
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


# ---------------------------------------------------------------------------------------------
# 3. Training
# ---------------------------------------------------------------------------------------------


def train(model, train_data, valid_examples, vocabularies, singletons, args, label):
    """Adam with gradient clipping and a learning rate that stays at --lr for the first half of the
    epochs, then falls linearly to a tenth of it; stops after `patience` epochs without a better valid score, and keeps the
    parameters with the best valid score (the mean of slot F1, intent accuracy and sentence
    accuracy; slot F1 alone without intents)."""
    from tqdm import tqdm

    optimizer = ts.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    history = {"train_loss": [], "valid_score": []}
    best_score, best_state, since_best = -1.0, None, 0
    for epoch in range(1, args.epochs + 1):
        decay_epochs = args.epochs - args.epochs // 2
        progress_in_decay = max(0, epoch - args.epochs // 2) / decay_epochs
        for group in optimizer.param_groups:
            group["lr"] = args.lr * (1 - 0.9 * progress_in_decay)
        model.train()
        total, count = 0.0, 0
        progress = tqdm(list(batches(train_data, args.batch_size, shuffle=True, seed=args.seed + epoch)),
                        desc=f"{label} epoch {epoch:2d}", leave=False, file=sys.stdout,
                        disable=args.smoke or args.jobs > 1)  # bars from parallel workers would overwrite each other
        for indices, word_ids, tag_ids, lengths, tokens in progress:
            word_ids = drop_words(word_ids, singletons, args.word_dropout, rng)
            emissions, intent_scores, votes = model(word_ids, *character_ids(tokens, vocabularies.chars), lengths)
            loss = model.slot_loss(emissions, tag_ids, lengths)
            if intent_scores is not None:
                loss = loss + args.intent_weight * model.intent_loss(intent_scores, votes,
                                                                     train_data.intents[indices], lengths)
            optimizer.zero_grad()
            loss.backward()
            if args.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            total, count = total + loss.item(), count + 1
            progress.set_postfix(loss=f"{total / count:.4f}")
        scores = evaluate(model, valid_examples, vocabularies)
        score = mean_score(scores)
        history["train_loss"].append(total / count)
        history["valid_score"].append(score)
        marker = ""
        if score > best_score:
            best_score, best_state, since_best, marker = score, model.state_dict(), 0, "  (best so far)"
        else:
            since_best += 1
        shown = "  ".join(f"{name} {100 * value:6.2f}" for name, value in scores.items() if value is not None)
        print(f"{label} epoch {epoch:2d}  train loss {total / count:.4f}  valid {shown}{marker}", flush=True)
        if since_best >= args.patience:
            print(f"{label}: no better valid score for {args.patience} epochs, stopping early", flush=True)
            break
    model.load_state_dict(best_state)
    return history


# ---------------------------------------------------------------------------------------------
# 4. Evaluation
# ---------------------------------------------------------------------------------------------


@ts.no_grad()
def predict(model, token_lists, vocabularies, batch_size=128):
    """Tag strings per sentence and intent strings (None without an intent head), in order."""
    model.eval()
    data = Encoded([_Unlabelled(tokens) for tokens in token_lists], Vocabularies(
        vocabularies.words, vocabularies.chars, vocabularies.tags, None))
    tags, intents = [None] * len(data), [None] * len(data)
    for indices, word_ids, _, lengths, tokens in batches(data, batch_size, shuffle=False):
        emissions, intent_scores, _ = model(word_ids, *character_ids(tokens, vocabularies.chars), lengths)
        if getattr(model, "joint_masks", None) is not None and intent_scores is not None:  # an Ensemble's
            paths, best_intents = model.decode_jointly(emissions, intent_scores, lengths)
        else:
            paths = model.decode(emissions, lengths)
            best_intents = None if intent_scores is None else intent_scores.data.argmax(axis=-1)
        for row, path in zip(indices, paths):
            tags[row] = vocabularies.tags.decode(path)
        if best_intents is not None:
            for row, best in zip(indices, best_intents):
                intents[row] = vocabularies.intents.itos[best]
    return tags, intents


class _Unlabelled:
    """A sentence without gold tags, shaped like a SlotExample for Encoded."""

    def __init__(self, tokens):
        self.tokens, self.tags, self.intent = tuple(tokens), ("O",) * len(tokens), None


def mean_score(scores):
    """The valid score that picks the best epoch: the mean of the scores evaluate() returns."""
    return float(np.mean([value for value in scores.values() if value is not None]))


def evaluate(model, examples, vocabularies):
    """{"slot F1", "intent acc", "sentence acc"} as fractions (the last two None without intents)."""
    tags, intents = predict(model, [e.tokens for e in examples], vocabularies)
    gold_tags = [list(e.tags) for e in examples]
    scores = {"slot F1": span_report(gold_tags, tags).overall.f1, "intent acc": None, "sentence acc": None}
    if vocabularies.intents is not None:
        gold_intents = [e.intent for e in examples]
        scores["intent acc"] = intent_accuracy(gold_intents, intents)
        scores["sentence acc"] = sentence_accuracy(gold_tags, tags, gold_intents, intents)
    return scores


# ---------------------------------------------------------------------------------------------
# 5. Pictures
# ---------------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(histories, path):
    plt = _pyplot()
    figure, (loss_axis, score_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for label, history in histories.items():
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        loss_axis.plot(epochs, history["train_loss"], marker="o", label=label)
        score_axis.plot(epochs, 100 * np.array(history["valid_score"]), marker="o", label=label)
    loss_axis.set(title="training loss (joint, per sentence)", xlabel="epoch", yscale="log")
    score_axis.set(title="valid score (%): mean of slot F1, intent and sentence acc.", xlabel="epoch")
    for axis in (loss_axis, score_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_transitions(ensemble, tag_labels, path):
    """The learned transition scores (summed over the members: what decoding uses), tag i (row)
    followed by tag j (column), forbidden ones blank; tags sorted by slot type so each B-x sits
    beside its I-x."""
    plt = _pyplot()
    order = sorted(range(len(tag_labels)), key=lambda i: (tag_labels[i] != "O", tag_labels[i][2:], tag_labels[i]))
    scores = ensemble.transition_scores()[2]
    scores[~ensemble.members[0].crf.allowed[2]] = np.nan
    scores = scores[np.ix_(order, order)]
    tag_labels = [tag_labels[i] for i in order]
    size = max(6.0, 0.11 * len(tag_labels) + 2)
    figure, axis = plt.subplots(figsize=(size + 1.5, size))
    limit = np.nanmax(np.abs(scores))
    image = axis.imshow(scores, cmap="coolwarm", vmin=-limit, vmax=limit)
    font = max(3.0, min(9.0, 600 / max(len(tag_labels), 1) / 6))
    axis.set_xticks(range(len(tag_labels)), tag_labels, rotation=90, fontsize=font)
    axis.set_yticks(range(len(tag_labels)), tag_labels, fontsize=font)
    axis.set(xlabel="next tag j", ylabel="tag i")
    members = len(ensemble.members)
    summed = f", summed over {members} members" if members > 1 else ""
    axis.set_title(f"learned CRF transition scores transitions[i, j]{summed}\n(blank: forbidden by BIO)", fontsize=10)
    figure.colorbar(image, ax=axis, fraction=0.04)
    figure.tight_layout()
    figure.savefig(path, dpi=130)
    plt.close(figure)


def plot_tagged_examples(rows, path):
    """rows: (title, tokens, tags) triples, drawn as words over coloured slot labels."""
    plt = _pyplot()
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


def save_model(model, config, vocabularies, out):
    masks = None if model.joint_masks is None else model.joint_masks.tolist()
    ts.save(model.state_dict(), out / "model.npz",
            extra={"config": config, "vocabularies": vocabularies.to_dict(), "joint_masks": masks})


def load_model(out):
    path = out / "model.npz"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; it must be the folder a model was trained into")
    if not path.exists():
        raise UsageError(f"no trained model at {path}: train one first (python demos/slot_filling.py --out {out})")
    try:
        state, extra = ts.load(path, return_extra=True)
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    try:
        vocabularies = Vocabularies.from_dict(extra["vocabularies"])
        model = build_ensemble(extra["config"], vocabularies)
        model.load_state_dict(state)
        if extra.get("joint_masks") is not None:
            model.joint_masks = np.array(extra["joint_masks"], dtype=bool)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UsageError(f"{path} is not a checkpoint of this demo ({type(error).__name__}: {error})") from None
    return model, vocabularies


def show_tags(tokens, tags):
    width = [max(len(a), len(b)) for a, b in zip(tokens, tags)]
    return "  " + " ".join(t.ljust(w) for t, w in zip(tokens, width)) + "\n  " + " ".join(
        t.ljust(w) for t, w in zip(tags, width))


def tag_sentence(model, vocabularies, sentence):
    tokens = sentence.lower().split()
    if not tokens:
        raise UsageError("--predict needs a non-empty sentence")
    tags, intents = predict(model, [tokens], vocabularies)
    return tokens, tags[0], intents[0]


# ---------------------------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    if args.predict is not None:
        model, vocabularies = load_model(out)
        tokens, tags, intent = tag_sentence(model, vocabularies, args.predict)
        if intent is not None:
            print(f"intent: {intent}")
        print(show_tags(tokens, tags))
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {args.out}: {error.strerror}") from None
    started = time.perf_counter()
    ts.manual_seed(args.seed)

    # 1. Data: words, characters, tags and intents to ids, from the training split.
    corpus = load_corpus(args)
    has_intents = all(e.intent for split in corpus for e in split)
    vocabularies = Vocabularies.build(corpus.train, with_intents=args.intent and has_intents, min_count=args.min_count)
    train_data = Encoded(corpus.train, vocabularies)
    batches_per_epoch = math.ceil(len(train_data) / args.batch_size)
    if args.max_updates is not None and args.epochs * batches_per_epoch > args.max_updates:
        args.epochs = max(1, args.max_updates // batches_per_epoch)
        print(f"--max-updates {args.max_updates}: {args.epochs} epochs of {batches_per_epoch} batches")
    word_counts = np.bincount(np.concatenate(train_data.words), minlength=len(vocabularies.words))
    singletons = word_counts == 1  # none when --min-count > 1: those words are all <unk> already
    unseen_tags = sorted({t for e in corpus.valid + corpus.test for t in e.tags} - set(vocabularies.tags.itos))
    intents_line = ""
    if vocabularies.intents:
        unseen = sum(e.intent not in vocabularies.intents for e in corpus.test)
        intents_line = f", {len(vocabularies.intents)} intents ({unseen} test utterances with an intent never seen in training)"
    elif args.intent and not has_intents:
        intents_line = ", no intents (no label files): slots only"
    print(f"data: {len(corpus.train)} train, {len(corpus.valid)} valid, {len(corpus.test)} test utterances; "
          f"{len(vocabularies.words)} words, {len(vocabularies.chars)} characters, {len(vocabularies.tags)} tags"
          + (f" ({len(unseen_tags)} test tags never seen in training)" if unseen_tags else "") + intents_line)

    # 2. Model
    config = {key: getattr(args, key) for key in ("cell", "emb", "char_emb", "char_filters", "hidden", "attention",
                                                  "layers", "bidirectional", "dropout", "window", "crf", "members", "seed")}
    model = build_ensemble(config, vocabularies)
    print(model.members[0] if args.members == 1 else f"{args.members} members, each {model.members[0]}")
    print(f"{sum(p.size for p in model.parameters())} parameters")

    # 3. Training, each member on its own from its own seed, keeping its best parameters on valid
    if args.jobs > 1 and args.members > 1:
        print(f"training the {args.members} members {min(args.jobs, args.members)} at a time, each in its own process")
    histories = train_members(model, config, train_data, corpus.valid, vocabularies, singletons, args)
    may_decode_jointly = vocabularies.intents and args.crf and args.joint_decoding != "off"
    if args.members > 1 or may_decode_jointly:
        scores = evaluate(model, corpus.valid, vocabularies)
    if args.members > 1:
        shown = "  ".join(f"{name} {100 * value:6.2f}" for name, value in scores.items() if value is not None)
        print(f"ensemble of {args.members}: valid {shown}  (mean {100 * mean_score(scores):.2f})")
    if may_decode_jointly:
        separate = mean_score(scores)
        model.joint_masks = consistent_tags(corpus.train, vocabularies)
        joint = mean_score(evaluate(model, corpus.valid, vocabularies))
        if args.joint_decoding == "auto" and joint <= separate:
            model.joint_masks = None
        print(f"joint decoding of intent and slots: valid mean {100 * joint:.2f}, against {100 * separate:.2f} "
              f"decoding them apart: {'on' if model.joint_masks is not None else 'off'}")
    save_model(model, config, vocabularies, out)
    print(f"saved the best-on-valid model to {out / 'model.npz'}")

    # For comparison on the synthetic corpus: a feed-forward window tagger, no memory beyond its window.
    window_model = None
    if args.cell != "none" and not args.data:
        window_args = argparse.Namespace(**{**vars(args), "epochs": min(args.epochs, 10)})
        ts.manual_seed(args.seed)
        window_model = Ensemble([build_model(dict(config, cell="none"), vocabularies)])
        histories["window (feed-forward)"] = train(window_model.members[0], train_data, corpus.valid, vocabularies,
                                                   singletons, window_args, "window")

    # 4.-5. Pictures
    pictures = [out / "curves.png", out / "tagged_examples.png"]
    plot_curves(histories, pictures[0])
    if args.crf:
        pictures.append(out / "transitions.png")
        plot_transitions(model, vocabularies.tags.itos, pictures[-1])
    test_tags, test_intents = predict(model, [e.tokens for e in corpus.test], vocabularies)
    examples = []  # the first test sentences, gold over predicted
    for example, predicted in list(zip(corpus.test, test_tags))[:3]:
        examples.append(("gold: " + " ".join(example.tokens), example.tokens, example.tags))
        examples.append((f"{args.cell} tagger", example.tokens, predicted))

    # 6. The point of memory: arrive vs leave, to vs from, decided by a word outside the window.
    if not args.data:
        print("\nContext decides the slot: the same words around the city and date, different tags.")
        for first, second in contrast_pairs():
            for example in (first, second):
                print("gold:")
                print(show_tags(example.tokens, example.tags))
                for label, tagger in ((args.cell, model), ("window", window_model)):
                    if tagger is None:
                        continue
                    predicted = predict(tagger, [example.tokens], vocabularies)[0][0]
                    verdict = "correct" if list(predicted) == list(example.tags) else "wrong"
                    print(f"{label} tagger ({verdict}):")
                    print(show_tags(example.tokens, predicted))
                    examples.append((f"{label} tagger ({verdict})", example.tokens, predicted))
    plot_tagged_examples(examples, pictures[1])
    for picture in pictures:
        print(f"wrote {picture}")

    # 7. Test results, conlleval-style, and the predictions in the seq.out and label formats.
    gold_tags = [list(e.tags) for e in corpus.test]
    report = span_report(gold_tags, test_tags)
    (out / "test.pred").write_text("".join(" ".join(tags) + "\n" for tags in test_tags))
    print(f"\nwrote the test predictions to {out / 'test.pred'}")
    metrics = {"test_f1": report.overall.f1, **report.overall.scores()}
    if vocabularies.intents:
        (out / "test.intent.pred").write_text("".join(intent + "\n" for intent in test_intents))
        print(f"wrote the test intents to {out / 'test.intent.pred'}")
        gold_intents = [e.intent for e in corpus.test]
        metrics["intent_accuracy"] = intent_accuracy(gold_intents, test_intents)
        metrics["sentence_accuracy"] = sentence_accuracy(gold_tags, test_tags, gold_intents, test_intents)
    else:
        metrics["sentence_accuracy"] = sentence_accuracy(gold_tags, test_tags)
    print(report.table())
    print(f"test slot precision {100 * report.overall.precision:.2f}  recall {100 * report.overall.recall:.2f}  "
          f"({time.perf_counter() - started:.0f} s in all)")
    (out / "metrics.json").write_text(json.dumps(metrics))
    if vocabularies.intents:
        print(f"test intent accuracy: {100 * metrics['intent_accuracy']:.2f}")
        print(f"test sentence accuracy: {100 * metrics['sentence_accuracy']:.2f}")
    else:
        print(f"test sentence accuracy (slots only, no intents): {100 * metrics['sentence_accuracy']:.2f}")
    print(f"test slot F1: {100 * report.overall.f1:.2f}")


if __name__ == "__main__":
    try:
        main()
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
