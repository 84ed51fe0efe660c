"""Scoring predictions against references: span F1 for taggers, intent and sentence accuracy for
joint intent and slot models, edit distance, CER and WER.

Where this sits: after a model has made its predictions (the argmax tags of a slot tagger, the
decoded label sequences of a CTC model), these functions compare them with the references. They
are plain Python over lists; nothing here needs gradients.

Every score is returned as a fraction (0.87, not 87.0), as in scikit-learn, seqeval, jiwer and
torchmetrics. Only the printed report shows percentages, the way conlleval prints them.

Span F1 follows conlleval, the CoNLL shared tasks' evaluation script that ATIS and SNIPS results
are reported with. Tags are BIO tags: ``O``, ``B-<type>`` (begins a chunk) and ``I-<type>``
(inside a chunk). A chunk starts

    at every B-;
    at an I- that follows O or the start of a sentence;
    at an I- whose type differs from the tag before it;

and it ends just before the next tag that does not continue it (O, B-, or an I- of another type)
or at the end of the sentence. A predicted chunk is correct when its start, end and type all match
a gold chunk. Then, with conlleval's convention that 0/0 counts as 0 (never NaN),

    precision = correct / predicted chunks
    recall    = correct / gold chunks
    f1        = 2 * precision * recall / (precision + recall) = 2 * correct / (gold + predicted)
"""

from dataclasses import dataclass

# ----------------------------------------------------------------------------------------------
# Chunks


def split_bio_tag(tag):
    """Split a BIO tag into its prefix and type: "B-toloc.city_name" -> ("B", "toloc.city_name").

    "O" gives ("O", ""). The type is everything after the first "-", as in conlleval, so types
    may themselves contain dashes. Anything else (a bare type, "S-x", "B-", a non-string) raises
    ValueError.
    """
    if tag == "O":
        return "O", ""
    prefix, dash, slot_type = tag.partition("-") if isinstance(tag, str) else ("", "", "")
    if prefix not in ("B", "I") or not dash or not slot_type:
        raise ValueError(f"tag {tag!r} is not a BIO tag: expected 'O', 'B-<type>' or 'I-<type>'")
    return prefix, slot_type


def extract_chunks(tags):
    """The chunks of one sentence's BIO tags, as (type, start, end) with end exclusive.

    extract_chunks(["B-city", "I-city", "O", "I-day"]) == [("city", 0, 2), ("day", 3, 4)]
    """
    if isinstance(tags, str):
        raise TypeError(f"extract_chunks: tags must be a sequence of tags, got the str {tags!r}; split it first")
    chunks = []
    chunk_type, chunk_start = None, 0
    for position, tag in enumerate(tags):
        prefix, slot_type = split_bio_tag(tag)
        continues_chunk = prefix == "I" and slot_type == chunk_type
        if chunk_type is not None and not continues_chunk:
            chunks.append((chunk_type, chunk_start, position))
            chunk_type = None
        if prefix != "O" and not continues_chunk:
            chunk_type, chunk_start = slot_type, position
    if chunk_type is not None:
        chunks.append((chunk_type, chunk_start, len(tags)))
    return chunks


def _as_sentences(tags, name):
    """Accept a flat list of tags (one sentence) or a list of sentences; return a list of lists."""
    if isinstance(tags, str):
        raise TypeError(f"{name} must be a list of tags or a list of sentences of tags, got a str")
    if not hasattr(tags, "__iter__"):
        raise TypeError(f"{name} must be a list of tags or a list of sentences of tags, got {type(tags).__name__}")
    tags = list(tags)
    if all(isinstance(tag, str) for tag in tags):
        return [tags] if tags else []
    if any(isinstance(sentence, str) for sentence in tags):
        raise TypeError(
            f"{name} mixes tags and sentences; give a flat list of tags or a list of lists"
        )
    for index, sentence in enumerate(tags):
        if not hasattr(sentence, "__iter__"):
            raise TypeError(f"{name}[{index}] must be a tag string or a sentence of tags, got {type(sentence).__name__}")
    return [list(sentence) for sentence in tags]


# ----------------------------------------------------------------------------------------------
# Span F1


@dataclass(frozen=True)
class SpanCounts:
    """Chunk counts for one slot type (or all of them) and the scores they give, as fractions."""

    correct: int
    gold: int
    predicted: int

    @property
    def precision(self):
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self):
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self):
        # Equal to 2PR / (P + R), written so that it needs no special case when P = R = 0 but
        # gold or predicted chunks exist.
        total = self.gold + self.predicted
        return 2 * self.correct / total if total else 0.0

    def scores(self):
        """{"precision": ..., "recall": ..., "f1": ...} as fractions in [0, 1]."""
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True)
class SpanReport:
    """What span_report() found: overall counts, counts per slot type, and token accuracy.

    str(report) is a table with percentages, one line per slot type and an overall line.
    """

    overall: SpanCounts
    by_type: dict
    tokens: int
    correct_tokens: int

    @property
    def token_accuracy(self):
        return self.correct_tokens / self.tokens if self.tokens else 0.0

    def table(self):
        """The report as text: one line per slot type, an overall line (scores in percent) and the token
        accuracy."""
        width = max([len("slot type")] + [len(slot_type) for slot_type in self.by_type])
        header = (
            f"{'slot type':<{width}}  {'gold':>5}  {'pred':>5}  {'correct':>7}  "
            f"{'prec':>6}  {'recall':>6}  {'f1':>6}"
        )
        lines = [header, "-" * len(header)]
        rows = list(self.by_type.items()) + [("overall", self.overall)]
        for slot_type, counts in rows:
            if slot_type == "overall":
                lines.append("-" * len(header))
            lines.append(
                f"{slot_type:<{width}}  {counts.gold:>5}  {counts.predicted:>5}  {counts.correct:>7}  "
                f"{100 * counts.precision:>6.2f}  {100 * counts.recall:>6.2f}  {100 * counts.f1:>6.2f}"
            )
        lines.append(f"token accuracy: {100 * self.token_accuracy:.2f}% over {self.tokens} tokens")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def span_report(gold_tags, pred_tags):
    """Compare predicted chunks with gold chunks, overall and per slot type (conlleval semantics).

    gold_tags, pred_tags: a list of sentences, each a list of BIO tag strings, or one flat list of
        tags (read as a single sentence). Sentence i of both must have the same length. Chunks never
        run across a sentence boundary.
    Returns a SpanReport; report.by_type maps each slot type seen in gold or predictions (sorted by
    name) to its SpanCounts.
    """
    gold_sentences = _as_sentences(gold_tags, "gold_tags")
    pred_sentences = _as_sentences(pred_tags, "pred_tags")
    if len(gold_sentences) != len(pred_sentences):
        raise ValueError(
            f"gold_tags has {len(gold_sentences)} sentences but pred_tags has {len(pred_sentences)}"
        )
    gold_chunks, pred_chunks = set(), set()
    tokens = correct_tokens = 0
    for index, (gold, pred) in enumerate(zip(gold_sentences, pred_sentences)):
        if len(gold) != len(pred):
            raise ValueError(
                f"sentence {index}: gold_tags has {len(gold)} tags but pred_tags has {len(pred)}"
            )
        gold_chunks.update((index, *chunk) for chunk in extract_chunks(gold))
        pred_chunks.update((index, *chunk) for chunk in extract_chunks(pred))
        tokens += len(gold)
        correct_tokens += sum(g == p for g, p in zip(gold, pred))

    correct_chunks = gold_chunks & pred_chunks
    slot_types = sorted({chunk[1] for chunk in gold_chunks | pred_chunks})

    def count(slot_type=None):
        def of_type(chunks):
            return sum(1 for chunk in chunks if slot_type is None or chunk[1] == slot_type)

        return SpanCounts(of_type(correct_chunks), of_type(gold_chunks), of_type(pred_chunks))

    return SpanReport(
        overall=count(),
        by_type={slot_type: count(slot_type) for slot_type in slot_types},
        tokens=tokens,
        correct_tokens=correct_tokens,
    )


def span_f1(gold_tags, pred_tags):
    """Chunk precision, recall and F1 with conlleval semantics, as fractions in [0, 1].

    gold_tags, pred_tags: a list of sentences of BIO tags, or one flat list (see span_report).
    Returns {"precision": p, "recall": r, "f1": f}. With no predicted chunks precision is 0, with no
    gold chunks recall is 0, and F1 is 0 whenever no chunk is correct: never NaN.
    conlleval prints these numbers times 100.
    """
    return span_report(gold_tags, pred_tags).overall.scores()


# ----------------------------------------------------------------------------------------------
# Intent and sentence accuracy (joint intent detection and slot filling)


def _as_labels(labels, name):
    if isinstance(labels, str):
        raise TypeError(f"{name} must be a list of intent labels, got a str")
    if not hasattr(labels, "__iter__"):
        raise TypeError(f"{name} must be a list of intent labels, got {type(labels).__name__}")
    return list(labels)


def intent_accuracy(gold_intents, pred_intents):
    """The fraction of utterances whose predicted intent equals the gold label exactly.

    gold_intents, pred_intents: lists of labels (strings), one per utterance, of equal length. A
    multi-intent label such as "atis_flight#atis_airfare" is one class: only that exact string is
    correct. 0.0 for empty lists (never NaN).
    """
    gold, pred = _as_labels(gold_intents, "gold_intents"), _as_labels(pred_intents, "pred_intents")
    if len(gold) != len(pred):
        raise ValueError(f"gold_intents has {len(gold)} labels but pred_intents has {len(pred)}")
    return sum(g == p for g, p in zip(gold, pred)) / len(gold) if gold else 0.0


def sentence_accuracy(gold_tags, pred_tags, gold_intents=None, pred_intents=None):
    """The fraction of utterances with every slot tag and the intent right (the "semantic frame"
    or "overall" accuracy of joint models, e.g. Goo et al. 2018).

    gold_tags, pred_tags: lists of sentences of tags, as for span_report. A sentence counts only if
        its predicted tag sequence equals the gold one tag for tag (stricter than chunk matching:
        an I- that conlleval would read as B- is still wrong).
    gold_intents, pred_intents: the intents, compared as exact strings; leave both None to score
        the slots alone. 0.0 for no utterances.
    """
    gold_sentences = _as_sentences(gold_tags, "gold_tags")
    pred_sentences = _as_sentences(pred_tags, "pred_tags")
    if len(gold_sentences) != len(pred_sentences):
        raise ValueError(f"gold_tags has {len(gold_sentences)} sentences but pred_tags has {len(pred_sentences)}")
    if (gold_intents is None) != (pred_intents is None):
        raise ValueError("give both gold_intents and pred_intents, or neither")
    right = [list(g) == list(p) for g, p in zip(gold_sentences, pred_sentences)]
    if gold_intents is not None:
        gold, pred = _as_labels(gold_intents, "gold_intents"), _as_labels(pred_intents, "pred_intents")
        if not len(gold) == len(pred) == len(right):
            raise ValueError(f"{len(right)} sentences of tags but {len(gold)} gold and {len(pred)} predicted intents")
        right = [r and g == p for r, g, p in zip(right, gold, pred)]
    return sum(right) / len(right) if right else 0.0


# ----------------------------------------------------------------------------------------------
# Edit distance, CER, WER


def _as_symbols(sequence, name):
    if hasattr(sequence, "tolist"):  # numpy arrays: compare Python scalars, not numpy ones
        sequence = sequence.tolist()
    if not hasattr(sequence, "__len__") or not hasattr(sequence, "__iter__"):
        raise TypeError(
            f"{name} must be a sequence (str, list, tuple or 1-D array), got {type(sequence).__name__}"
        )
    return sequence


def edit_distance(a, b):
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning a into b.

    a, b: sequences of comparable symbols: strings (compared character by character), lists of
        words, lists of label ids, 1-D integer arrays.
    Returns an int. With d[i][j] the distance between a[:i] and b[:j]:

        d[i][0] = i,  d[0][j] = j
        d[i][j] = min(d[i-1][j] + 1,                     delete a[i-1]
                      d[i][j-1] + 1,                     insert b[j-1]
                      d[i-1][j-1] + (a[i-1] != b[j-1]))  substitute, free when equal

    Time O(len(a) * len(b)); only two rows of d are kept.
    """
    a, b = _as_symbols(a, "a"), _as_symbols(b, "b")
    previous_row = list(range(len(b) + 1))
    for i, symbol_a in enumerate(a, start=1):
        current_row = [i]
        for j, symbol_b in enumerate(b, start=1):
            current_row.append(
                min(
                    previous_row[j] + 1,
                    current_row[j - 1] + 1,
                    previous_row[j - 1] + (symbol_a != symbol_b),
                )
            )
        previous_row = current_row
    return previous_row[-1]


def _error_rate(refs, hyps, to_symbols, name):
    """Total edit distance over total reference length: the corpus-level rate sclite reports."""
    if isinstance(refs, str) and isinstance(hyps, str):
        refs, hyps = [refs], [hyps]
    for argument, value in (("refs", refs), ("hyps", hyps)):
        if isinstance(value, str):
            raise TypeError(
                f"{name}: {argument} is a str but the other argument is not; give both as lists"
            )
    for argument, value in (("refs", refs), ("hyps", hyps)):
        if not hasattr(value, "__iter__"):
            raise TypeError(f"{name}: {argument} must be a list of strings or symbol sequences, got {type(value).__name__}")
    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"{name}: refs has {len(refs)} items but hyps has {len(hyps)}")
    total_edits = total_reference_length = 0
    for index, (ref, hyp) in enumerate(zip(refs, hyps)):
        ref_symbols = to_symbols(_as_symbols(ref, f"refs[{index}]"))
        hyp_symbols = to_symbols(_as_symbols(hyp, f"hyps[{index}]"))
        total_edits += edit_distance(ref_symbols, hyp_symbols)
        total_reference_length += len(ref_symbols)
    if total_reference_length == 0:
        # Nothing to divide by: no errors is a perfect 0, any insertion is an unbounded rate.
        return 0.0 if total_edits == 0 else float("inf")
    return total_edits / total_reference_length


def cer(refs, hyps):
    """Character error rate over a corpus: sum of edit distances / sum of reference lengths.

    refs, hyps: lists of the same length whose items are strings (compared character by
        character, spaces included) or sequences of symbols such as label ids. A single pair of
        strings may be given as two strings.
    Returns a float >= 0 (above 1 when the hypotheses insert a lot). An empty reference is allowed:
    it contributes its hypothesis length as insertions and nothing to the denominator. If every
    reference is empty the rate is 0.0 when every hypothesis is empty too, and inf otherwise.
    """
    return _error_rate(refs, hyps, list, "cer")


def wer(refs, hyps):
    """Word error rate over a corpus: sum of word-level edit distances / sum of reference words.

    refs, hyps: lists of the same length whose items are strings (split on whitespace into words)
        or sequences of words. A single pair of strings may be given as two strings.
    Returns a float >= 0; empty references are handled as in cer().
    """
    return _error_rate(refs, hyps, _words, "wer")


def _words(sequence):
    return sequence.split() if isinstance(sequence, str) else list(sequence)
