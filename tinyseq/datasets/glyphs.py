"""Glyph strings: a synthetic text-line recognition task whose alignment nobody gives.

This is the data behind demos/ctc_recognition.py. A label string of digits and a few capital
letters is drawn from a small built-in 5x7 bitmap font onto an image of fixed height, with random
character widths (horizontal stretch), gaps, slant (shear), stroke thickness, vertical jitter, ink
level and noise. Slant makes neighbouring glyphs share columns, and a bold stroke can close a
one-column gap, so a frame often holds parts of two characters. The image is read column by column, left to
right, as a sequence of frames: a line of width W becomes frames of shape (W, height). The only
target is the label string, so how many frames each character spans, and where it starts, is
exactly what CTC has to work out.

Labels use CTC's convention: the blank is index 0 and ``ALPHABET[k]`` is index ``k + 1``.

Everything is deterministic under a seed. The test split is held out: no label string of the test
set occurs in the training or validation split, so a model cannot score by memorising strings.

    data = make_glyph_strings(seed=0)
    data.train.frames          # (N, T_max, height) float32, zero past each frame_lengths[i]
    data.train.targets         # (N, S_max) int64, padded with the blank past each target_lengths[i]
    decode(data.train.targets[0, : data.train.target_lengths[0]]) == data.train.texts[0]
"""

from dataclasses import dataclass

import numpy as np

ALPHABET = "0123456789ACEHKPX"
BLANK = 0
NUM_CLASSES = len(ALPHABET) + 1

# The font: one 5-column, 7-row bitmap per character, '#' for ink.
_FONT_ART = {
    "0": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "A": ("..#..", ".#.#.", "#...#", "#...#", "#####", "#...#", "#...#"),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
}
GLYPH_ROWS, GLYPH_COLUMNS = 7, 5
FONT = {
    char: np.array([[cell == "#" for cell in row] for row in art], dtype=np.float32)
    for char, art in _FONT_ART.items()
}

# The ranges every random choice is drawn from; the demo's task difficulty lives here.
WIDTH_SCALE = (1.2, 1.8)  # glyph width = 5 * scale columns; >= 1 so no font column is skipped
HEIGHT_SCALE = (1.5, 2.0)  # glyph height = 7 * scale rows, drawn once per line
HEIGHT_JITTER = 0.08  # each glyph's height varies by this fraction around the line's
GAP = (1, 2)  # columns between neighbouring glyph boxes, inclusive (slant still makes columns overlap)
SLANT = (-0.25, 0.25)  # horizontal shift per row, drawn once per line (italic either way)
VERTICAL_JITTER = 1.5  # each glyph's top moves up to this many rows from the line's baseline
NOISE_STD = (0.05, 0.2)  # Gaussian pixel noise, drawn once per line
INK = (0.6, 1.0)  # ink intensity, drawn once per line
BOLD_PROBABILITY = 0.5  # chance that a line's strokes are thickened by one column
SPECKLE_RATE = 0.01  # fraction of pixels replaced by random speckles
MARGIN = (1, 3)  # blank columns at each end of the line, inclusive
_SUPERSAMPLE = 2  # subpixels per pixel side, so strokes get grey anti-aliased edges


def encode(text):
    """Map a string over ALPHABET to label indices (blank = 0 is never produced)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    unknown = sorted(set(text) - set(ALPHABET))
    if unknown:
        raise ValueError(f"text must use only characters of {ALPHABET!r}, got {''.join(unknown)!r}")
    return [ALPHABET.index(char) + 1 for char in text]


def decode(labels):
    """Map label indices back to a string; blanks (index 0) are skipped."""
    if isinstance(labels, str) or not hasattr(labels, "__iter__"):
        raise TypeError(f"labels must be a sequence of integer label indices, got {type(labels).__name__}")
    labels = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
    for label in labels:
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
            raise TypeError(f"labels must be integer label indices, got {label!r} ({type(label).__name__})")
    bad = [label for label in labels if not 0 <= label < NUM_CLASSES]
    if bad:
        raise ValueError(f"labels must lie in [0, {NUM_CLASSES}), got {bad[0]}")
    return "".join(ALPHABET[label - 1] for label in labels if label != BLANK)


def render_text(text, rng, height=18):
    """Draw one line of text with random style; returns the image, shape (height, W), float32.

    Each glyph is a 5x7 bitmap mapped onto the canvas by an affine map: stretched by its own width
    and height scale, shifted by its gap and vertical jitter, and sheared by the line's slant
    (x_canvas = x_glyph + slant * (row_centre - y)). Pixels are sampled at 2x2 subpixels, the
    strokes optionally thickened by one column, then ink level, noise and speckles are applied and
    the result clipped to [0, 1]. Each glyph box is at least 5 * WIDTH_SCALE[0] columns wide and
    boxes are GAP[0] or more columns apart, so W >= len(text) * (5 * WIDTH_SCALE[0] + GAP[0]).

    rng: a numpy Generator; the same generator state gives the same image.
    """
    encode(text)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    if not isinstance(height, (int, np.integer)) or height < 12:
        raise ValueError(f"height must be an int >= 12 so a stretched 7-row glyph fits, got {height!r}")
    if len(text) == 0:
        raise ValueError("text must hold at least one character, got ''")

    line_height_scale = rng.uniform(*HEIGHT_SCALE)
    slant = rng.uniform(*SLANT)
    bold = rng.random() < BOLD_PROBABILITY
    ink = rng.uniform(*INK)
    noise_std = rng.uniform(*NOISE_STD)

    width_scales = rng.uniform(*WIDTH_SCALE, size=len(text))
    height_scales = line_height_scale * (1 + rng.uniform(-HEIGHT_JITTER, HEIGHT_JITTER, size=len(text)))
    height_scales = np.minimum(height_scales, (height - 1) / GLYPH_ROWS)
    gaps = rng.integers(GAP[0], GAP[1] + 1, size=len(text))
    gaps[0] = 0
    margin_left, margin_right = rng.integers(MARGIN[0], MARGIN[1] + 1, size=2)
    # A sheared glyph leans past its box by up to |slant| * height / 2 on either side.
    overhang = int(np.ceil(abs(slant) * height / 2))

    glyph_widths = GLYPH_COLUMNS * width_scales
    lefts = margin_left + overhang + np.cumsum(gaps) + np.concatenate([[0.0], np.cumsum(glyph_widths)[:-1]])
    width = int(np.ceil(lefts[-1] + glyph_widths[-1])) + overhang + margin_right

    glyph_heights = GLYPH_ROWS * height_scales
    baseline_top = (height - glyph_heights.mean()) / 2
    tops = baseline_top + rng.uniform(-VERTICAL_JITTER, VERTICAL_JITTER, size=len(text))
    tops = np.clip(tops, 0.0, height - glyph_heights)

    sub = _SUPERSAMPLE
    canvas = np.zeros((height * sub, width * sub), dtype=np.float32)
    subpixel_rows = (np.arange(height * sub) + 0.5)[:, None] / sub
    for char, left, top, x_scale, y_scale, glyph_width in zip(text, lefts, tops, width_scales, height_scales,
                                                              glyph_widths):
        # Only the columns the sheared glyph can reach: its box widened by the overhang.
        first = max(int(np.floor(left - overhang)), 0) * sub
        last = min(int(np.ceil(left + glyph_width + overhang)), width) * sub
        subpixel_columns = (np.arange(first, last) + 0.5)[None, :] / sub
        centre_row = top + GLYPH_ROWS * y_scale / 2
        glyph_x = (subpixel_columns - left - slant * (centre_row - subpixel_rows)) / x_scale
        glyph_y = np.broadcast_to((subpixel_rows - top) / y_scale, glyph_x.shape)
        inside = (glyph_x >= 0) & (glyph_x < GLYPH_COLUMNS) & (glyph_y >= 0) & (glyph_y < GLYPH_ROWS)
        ink_here = np.zeros(glyph_x.shape, dtype=np.float32)
        ink_here[inside] = FONT[char][glyph_y[inside].astype(np.int64), glyph_x[inside].astype(np.int64)]
        canvas[:, first:last] = np.maximum(canvas[:, first:last], ink_here)
    image = canvas.reshape(height, sub, width, sub).mean(axis=(1, 3))

    if bold:
        image[:, 1:] = np.maximum(image[:, 1:], image[:, :-1])
    image = ink * image + rng.normal(0.0, noise_std, size=image.shape)
    speckles = rng.random(image.shape) < SPECKLE_RATE
    image[speckles] = rng.random(int(speckles.sum()))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


@dataclass
class GlyphSplit:
    """One split: padded frames and targets with their lengths, and the label strings.

    frames: (N, T_max, height) float32; frames[i, t] is column t of line i's image, zero for
        t >= frame_lengths[i].
    frame_lengths: (N,) int64.
    targets: (N, S_max) int64 label indices in [1, NUM_CLASSES), padded with BLANK past
        target_lengths[i] (PyTorch's ctc_loss reads only the first target_lengths[i] entries).
    target_lengths: (N,) int64.
    texts: the N label strings.
    """

    frames: np.ndarray
    frame_lengths: np.ndarray
    targets: np.ndarray
    target_lengths: np.ndarray
    texts: list

    def __len__(self):
        return len(self.texts)


@dataclass
class GlyphStrings:
    """The three splits and the label set (``alphabet[k]`` is label ``k + 1``; blank is 0)."""

    train: GlyphSplit
    valid: GlyphSplit
    test: GlyphSplit
    alphabet: str = ALPHABET
    blank: int = BLANK
    num_classes: int = NUM_CLASSES
    height: int = 18


def _random_texts(rng, count, min_length, max_length, excluded):
    texts = []
    while len(texts) < count:
        length = int(rng.integers(min_length, max_length + 1))
        text = "".join(rng.choice(list(ALPHABET), size=length))
        if text not in excluded:
            texts.append(text)
    return texts


def _make_split(texts, rng, height):
    images = [render_text(text, rng, height) for text in texts]
    frame_lengths = np.array([image.shape[1] for image in images], dtype=np.int64)
    target_lengths = np.array([len(text) for text in texts], dtype=np.int64)
    frames = np.zeros((len(texts), frame_lengths.max(), height), dtype=np.float32)
    targets = np.full((len(texts), target_lengths.max()), BLANK, dtype=np.int64)
    for i, (image, text) in enumerate(zip(images, texts)):
        frames[i, : image.shape[1]] = image.T
        targets[i, : len(text)] = encode(text)
    return GlyphSplit(frames, frame_lengths, targets, target_lengths, list(texts))


def _check_count(name, value, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def make_glyph_strings(num_train=20000, num_valid=500, num_test=1000, min_length=3, max_length=8,
                       height=18, seed=0):
    """Generate the train, valid and test splits of the glyph-string task.

    Label strings have a length drawn uniformly from [min_length, max_length] and characters drawn
    uniformly from ALPHABET (so repeated neighbours such as "77" occur, and CTC needs a blank
    between them). Test strings are drawn first and excluded from train and valid. Each split uses
    its own random stream derived from ``seed``, so the result depends only on the arguments.

    Returns a GlyphStrings whose splits hold frames (N, T_max, height).
    """
    _check_count("num_train", num_train, 1)
    _check_count("num_valid", num_valid, 1)
    _check_count("num_test", num_test, 1)
    _check_count("min_length", min_length, 1)
    _check_count("max_length", max_length, min_length)
    _check_count("height", height, 12)
    _check_count("seed", seed, 0)
    possible = sum(len(ALPHABET) ** length for length in range(min_length, max_length + 1))
    if num_test > possible // 2:
        # Train and valid must still have strings left to draw from once test's are held out.
        raise ValueError(f"num_test must be at most half of the {possible} possible strings of "
                         f"length {min_length}..{max_length}, got {num_test}")

    streams = [np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(3)]
    test_rng, train_rng, valid_rng = streams
    test_texts = _random_texts(test_rng, num_test, min_length, max_length, excluded=set())
    held_out = set(test_texts)
    train_texts = _random_texts(train_rng, num_train, min_length, max_length, excluded=held_out)
    valid_texts = _random_texts(valid_rng, num_valid, min_length, max_length, excluded=held_out)
    return GlyphStrings(
        train=_make_split(train_texts, train_rng, height),
        valid=_make_split(valid_texts, valid_rng, height),
        test=_make_split(test_texts, test_rng, height),
        height=height,
    )
