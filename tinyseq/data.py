"""From lists of tokens to padded integer batches: Vocab, pad_sequences, BucketBatchSampler.

Where this sits: before the model. A corpus is lists of string tokens of different lengths; a
model eats integer arrays of one shape. The three steps, in the order a training script uses them:

    vocab = Vocab.build(train_sentences, min_freq=2)            # strings -> ids, fixed at train time
    ids = [vocab.encode(sentence) for sentence in train_sentences]
    sampler = BucketBatchSampler([len(s) for s in ids], batch_size=32, seed=0)
    for batch_indices in sampler:                              # one epoch, each example once
        x, lengths = pad_sequences([ids[i] for i in batch_indices])   # x: (N, T_max)

A Vocab belongs to the model it was trained with: save it next to the weights (vocab.save(path),
JSON) and load it with them, or the ids mean nothing.
"""

import json
from collections import Counter

import numpy as np

PAD = "<pad>"
UNK = "<unk>"


class Vocab:
    """A bijection between token strings and ids 0..len-1.

    When present, the padding token has id 0 and the unknown token comes right after it, then any
    extra specials, then the corpus tokens. Vocab.build() makes one from data; Vocab(tokens) wraps
    an existing list, where tokens[i] gets id i.

    tokens: the id-ordered token list, without repeats.
    pad_token: the padding token, which must be tokens[0]; None for a vocabulary without one.
    unk_token: what encode() maps unknown tokens to; None makes unknown tokens an error (right for
        a closed set such as slot tags).
    """

    def __init__(self, tokens, pad_token=PAD, unk_token=UNK):
        if isinstance(tokens, str) or not hasattr(tokens, "__iter__"):
            raise TypeError(f"tokens must be a list of strings, got {type(tokens).__name__}")
        tokens = list(tokens)
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"tokens must be strings, got {token!r} ({type(token).__name__})")
        if len(set(tokens)) != len(tokens):
            repeated = sorted(token for token, n in Counter(tokens).items() if n > 1)
            raise ValueError(f"tokens must not repeat, but these do: {repeated[:10]}")
        if pad_token is not None and (not tokens or tokens[0] != pad_token):
            first = tokens[0] if tokens else None
            raise ValueError(f"pad_token {pad_token!r} must be tokens[0], got {first!r}")
        if unk_token is not None and unk_token not in tokens:
            raise ValueError(f"unk_token {unk_token!r} is not among the tokens")
        self.itos = tokens
        self.stoi = {token: index for index, token in enumerate(tokens)}
        self.pad_token = pad_token
        self.unk_token = unk_token

    @classmethod
    def build(cls, sequences, min_freq=1, max_size=None, specials=(), pad_token=PAD, unk_token=UNK):
        """Count the tokens of an iterable of token sequences and keep the frequent ones.

        The order is: pad_token, unk_token, specials, then corpus tokens by decreasing count, ties
        broken alphabetically, so the same corpus gives the same ids whatever order it comes in.
        min_freq: drop tokens seen fewer times (they will encode as unk_token).
        max_size: keep at most this many tokens in total, specials included.
        """
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq must be an int >= 1, got {min_freq!r}")
        if isinstance(sequences, str) or not hasattr(sequences, "__iter__"):
            raise TypeError(f"sequences must be an iterable of token sequences, got {type(sequences).__name__}")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)):
            raise TypeError(f"max_size must be an int or None, got {max_size!r}")
        counts = Counter()
        for sequence in sequences:
            if isinstance(sequence, str):
                raise TypeError(
                    f"sequences must hold token sequences (lists of str), got the str {sequence!r}"
                )
            counts.update(sequence)
        reserved = [token for token in (pad_token, unk_token, *specials) if token is not None]
        frequent = sorted(
            (token for token, count in counts.items() if count >= min_freq and token not in reserved),
            key=lambda token: (-counts[token], token),
        )
        tokens = reserved + frequent
        if max_size is not None:
            if max_size < len(reserved):
                raise ValueError(
                    f"max_size must be at least the {len(reserved)} special tokens, got {max_size}"
                )
            tokens = tokens[:max_size]
        return cls(tokens, pad_token=pad_token, unk_token=unk_token)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"Vocab({len(self)} tokens, pad_token={self.pad_token!r}, unk_token={self.unk_token!r})"

    @property
    def pad_index(self):
        return None if self.pad_token is None else self.stoi[self.pad_token]

    @property
    def unk_index(self):
        return None if self.unk_token is None else self.stoi[self.unk_token]

    def encode(self, tokens):
        """Token strings -> list of ids; unknown tokens become unk_index (an error without one)."""
        if isinstance(tokens, str):
            raise TypeError(f"encode takes a sequence of tokens, got the str {tokens!r}; split it first")
        if not hasattr(tokens, "__iter__"):
            raise TypeError(f"encode takes a sequence of tokens, got {type(tokens).__name__}")
        if self.unk_token is not None:
            unk_index = self.stoi[self.unk_token]
            return [self.stoi.get(token, unk_index) for token in tokens]
        ids = []
        for position, token in enumerate(tokens):
            if token not in self.stoi:
                raise ValueError(f"token {token!r} at position {position} is not in this vocabulary "
                                 "(which has no unk_token)")
            ids.append(self.stoi[token])
        return ids

    def decode(self, ids):
        """Ids (a list or 1-D integer array) -> list of token strings."""
        ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
        tokens = []
        for position, index in enumerate(ids):
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self):
                raise ValueError(f"id {index!r} at position {position} is not in [0, {len(self)})")
            tokens.append(self.itos[index])
        return tokens

    def to_dict(self):
        """A JSON-ready description: {"tokens": [...], "pad_token": ..., "unk_token": ...}."""
        return {"tokens": list(self.itos), "pad_token": self.pad_token, "unk_token": self.unk_token}

    @classmethod
    def from_dict(cls, description):
        """The Vocab that to_dict() described."""
        if not isinstance(description, dict):
            raise TypeError(f"a Vocab description must be a dict, got {type(description).__name__}")
        missing = {"tokens", "pad_token", "unk_token"} - set(description)
        if missing:
            raise ValueError(f"a Vocab description needs the keys {sorted(missing)}")
        return cls(description["tokens"], description["pad_token"], description["unk_token"])

    def save(self, path):
        """Write the vocabulary to path as JSON (UTF-8)."""
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.to_dict(), file, ensure_ascii=False, indent=0)

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by save(); ValueError naming path if it is not one."""
        with open(path, "rb") as file:
            raw = file.read()
        try:
            description = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise ValueError(f"Vocab.load: {path} is not UTF-8 text (byte {error.start}): not a saved vocabulary") from None
        except json.JSONDecodeError as error:
            raise ValueError(
                f"Vocab.load: {path} is not JSON (line {error.lineno}, column {error.colno}: {error.msg}): "
                "not a saved vocabulary"
            ) from None
        try:
            return cls.from_dict(description)
        except (TypeError, ValueError) as error:
            raise ValueError(f"Vocab.load: {path} is not a saved vocabulary: {error}") from None


def pad_sequences(sequences, pad_value=0, dtype=None):
    """Stack sequences of different lengths into one array, padding each at its end.

    sequences: N sequences; sequence i has shape (T_i,) or (T_i, *feature_shape), with the same
        feature_shape for all (lists of ids, or arrays of feature frames).
    pad_value: what fills positions t >= T_i (0 is Vocab's pad id; -100 suits targets that
        cross_entropy should ignore).
    dtype: of the result; None infers it from the data (int64 for an empty batch).
    Returns (padded, lengths): padded has shape (N, T_max, *feature_shape), lengths (N,) int64.

    Unlike torch.nn.utils.rnn.pad_sequence, whose default is time-major (T, N), the result is
    batch-major, the layout a list of examples suggests; use padded.swapaxes(0, 1) for (T, N, ...).
    Like it, and unlike Keras' pad_sequences, padding goes at the end.
    """
    if isinstance(sequences, (str, np.ndarray)) or not hasattr(sequences, "__iter__"):
        raise TypeError(f"sequences must be a list of sequences, got {type(sequences).__name__}")
    arrays = []
    for index, sequence in enumerate(sequences):
        try:
            array = np.asarray(sequence)
        except ValueError as error:  # ragged nested lists
            raise ValueError(f"sequences[{index}] is not a rectangular array: {error}") from None
        if array.ndim == 0:
            raise ValueError(f"sequences[{index}] is a scalar ({array!r}); each item must be a sequence")
        if array.dtype.kind not in "biuf" and array.size:
            raise TypeError(f"sequences[{index}] must hold numbers, got dtype {array.dtype} (encode tokens with a Vocab first)")
        arrays.append(array)
    feature_shapes = {array.shape[1:] for array in arrays if array.shape[0] > 0}
    if len(feature_shapes) > 1:
        raise ValueError(f"sequences must share their trailing shape, got {sorted(feature_shapes)}")
    feature_shape = feature_shapes.pop() if feature_shapes else ()
    if dtype is None:
        non_empty = [array.dtype for array in arrays if array.size > 0]
        dtype = np.result_type(*non_empty) if non_empty else np.int64
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a numpy dtype or None, got {dtype!r}") from None
    _check_pad_value(pad_value, dtype)
    lengths = np.array([array.shape[0] for array in arrays], dtype=np.int64)
    max_length = int(lengths.max()) if len(arrays) else 0
    padded = np.full((len(arrays), max_length, *feature_shape), pad_value, dtype=dtype)
    for index, array in enumerate(arrays):
        padded[index, : array.shape[0]] = array
    return padded, lengths


def _check_pad_value(pad_value, dtype):
    """pad_value must be stored exactly: 0.5 in an int64 array would silently become 0."""
    if not isinstance(pad_value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"pad_value must be a number, got {type(pad_value).__name__} {pad_value!r}")
    with np.errstate(invalid="ignore", over="ignore"):
        try:
            stored = np.array(pad_value).astype(dtype)
        except OverflowError:
            stored = None
    if stored is None or not (stored == pad_value or (np.isnan(pad_value) and np.isnan(stored))):
        raise ValueError(f"pad_value {pad_value!r} does not fit the padded array's dtype {dtype}")


class BucketBatchSampler:
    """Batches of example indices in which examples have similar lengths, reshuffled each epoch.

    Padding wastes work in proportion to the length spread within a batch, so: shuffle all indices,
    cut them into pools of pool_size batches, sort each pool by length, cut it into batches, and
    shuffle the order of all the batches. Batches hold similar lengths but vary from epoch to epoch.
    A pool is a whole number of batches, so only the epoch's last batch can be short.

    lengths: the length of each example (a list or 1-D array of N ints).
    batch_size: examples per batch; the last batch of a pool may be smaller unless drop_last.
    shuffle: False gives the examples in order 0..N-1, cut into batches (for evaluation).
    pool_size: batches per sorting pool; 1 means no bucketing, a huge value means sorting the
        whole epoch by length.
    seed: iterating gives a new shuffle each epoch, the same sequence of epochs for the same seed.

    Every example appears exactly once per epoch (drop_last=False). len(sampler) is the number of
    batches per epoch.
    """

    def __init__(self, lengths, batch_size, shuffle=True, pool_size=50, drop_last=False, seed=0):
        lengths = np.asarray(lengths)
        if lengths.ndim != 1 or (lengths.size and not np.issubdtype(lengths.dtype, np.integer)):
            raise ValueError(f"lengths must be a 1-D list of ints, got shape {lengths.shape} "
                             f"and dtype {lengths.dtype}")
        if lengths.size and lengths.min() < 0:
            raise ValueError(f"lengths must be >= 0, got {lengths.min()} at index {int(np.argmin(lengths))}")
        for name, value in (("batch_size", batch_size), ("pool_size", pool_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be an int >= 0 or None, got {seed!r}")
        self.lengths = lengths.astype(np.int64)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.pool_size = int(pool_size)
        self.drop_last = drop_last
        self.rng = np.random.default_rng(seed)

    def _batches_of(self, indices):
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        return [indices[start : start + self.batch_size] for start in range(0, stop, self.batch_size)]

    def __iter__(self):
        if not self.shuffle:
            yield from self._batches_of(np.arange(len(self.lengths)))
            return
        order = self.rng.permutation(len(self.lengths))
        pool_examples = self.pool_size * self.batch_size
        batches = []
        for start in range(0, len(order), pool_examples):
            pool = order[start : start + pool_examples]
            # A stable sort keeps the random order among equal lengths.
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches.extend(self._batches_of(pool))
        for batch_index in self.rng.permutation(len(batches)):
            yield batches[batch_index]

    def __len__(self):
        # Pools hold whole batches, so only the epoch's last batch can be short.
        full_batches, remainder = divmod(len(self.lengths), self.batch_size)
        return full_batches + (remainder > 0 and not self.drop_last)
