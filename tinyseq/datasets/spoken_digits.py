"""Spoken digits: the Free Spoken Digit Dataset (FSDD) read from a folder, and connected digit strings made from it.

This is the data behind demos/spoken_digits.py. FSDD (github.com/Jakobovski/free-spoken-digit-dataset,
CC BY-SA 4.0) holds 3,000 recordings of isolated digits: 6 speakers, 50 of each digit per speaker,
8 kHz mono 16-bit WAV, named ``{digit}_{speaker}_{index}.wav`` in its ``recordings/`` folder. The
data is not shipped with tinyseq: point index_recordings at a copy.

Splits (split_recordings):
  * FSDD's README rule: indices 0-4 of every digit and speaker are the test set, 5-49 training.
  * Validation (our choice, so that model selection never sees a test recording): indices 5-9 of
    every digit and speaker are held out of training, leaving 10-49 to train on. 2,400 / 300 / 300.
  * Unseen speaker (speaker_out="theo"): every recording of that speaker is the test set; the
    other five speakers' indices 5-9 are validation and all their other indices training.

Connected digit strings (make_strings): what a CTC recogniser learns from. 1 to 7 recordings of one
speaker are joined with random short gaps of silence, each with its own random gain, and a little
Gaussian noise is added over the whole string, so the recogniser has to find where each digit is on
its own. make_strings uses every given recording once per pass, so calling it with a fresh random
generator every epoch gives new strings that cover the training set; with a fixed seed it gives the
same test strings every time. For training it can also play every recording at a random speed
(perturb_speed).

Digits are CTC labels with the blank at 0: digit d is label d + 1 (digit_labels).
"""

import re
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import read_wav

FSDD_WHERE = ("the Free Spoken Digit Dataset: git clone https://github.com/Jakobovski/free-spoken-digit-dataset "
              "and pass --data free-spoken-digit-dataset (or its recordings/ folder)")
FILE_PATTERN = re.compile(r"^(?P<digit>\d)_(?P<speaker>[A-Za-z0-9-]+)_(?P<index>\d+)\.wav$")
TEST_INDICES = range(0, 5)  # FSDD's README
VALID_INDICES = range(5, 10)  # ours: held out of FSDD's training indices 5-49
BLANK = 0
NUM_CLASSES = 11  # the blank and the ten digits

# The ranges every random choice of make_strings is drawn from.
DIGITS_PER_STRING = (1, 7)  # inclusive
GAP_SECONDS = (0.03, 0.25)  # silence between two digits
EDGE_SECONDS = (0.0, 0.2)  # silence before the first and after the last digit
GAIN_DB = (-6.0, 6.0)  # per recording
SNR_DB = (25.0, 45.0)  # per string: the noise's level below the speech's mean power
SPEED = (0.9, 1.1)  # per recording, when make_strings is asked to perturb the speed (training)


@dataclass(frozen=True)
class Recording:
    """One FSDD file read into memory: samples (num_samples,) float32 in [-1, 1]."""

    path: Path
    digit: int
    speaker: str
    index: int
    samples: np.ndarray
    sample_rate: int


@dataclass(frozen=True)
class DigitString:
    """A connected digit string: samples (num_samples,) float32, its digits (0-9, in spoken order),
    its speaker, and for every digit the (start, end) sample range of its recording."""

    samples: np.ndarray
    digits: tuple
    speaker: str
    segments: tuple

    @property
    def text(self):
        return "".join(str(digit) for digit in self.digits)


@dataclass(frozen=True)
class Splits:
    """Recordings for training, validation and test, and how they were chosen (a sentence)."""

    train: list
    valid: list
    test: list
    description: str


def digit_labels(digits):
    """CTC labels of a digit sequence: digit d -> d + 1 (0 is the blank)."""
    return [int(digit) + 1 for digit in digits]


def labels_to_text(labels):
    """The inverse of digit_labels, as a string: [2, 1, 10] -> "109"."""
    return "".join(str(int(label) - 1) for label in labels)


# ---------------------------------------------------------------------------------------------
# Reading a folder
# ---------------------------------------------------------------------------------------------


def recordings_folder(path):
    """The folder that holds the WAV files: `path` itself, or its recordings/ subfolder (FSDD's
    layout) when `path` has one. Raises FileNotFoundError naming the path and where to get FSDD."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"FSDD folder {folder} does not exist (or is not a folder); get {FSDD_WHERE}")
    if (folder / "recordings").is_dir():
        return folder / "recordings"
    return folder


def index_recordings(path, min_seconds=0.025):
    """Read every ``{digit}_{speaker}_{index}.wav`` of an FSDD folder (or its recordings/).

    Files with other names are ignored. A recording shorter than min_seconds (by default one 25 ms
    feature frame, which it could not fill) is skipped with a warning that names it.
    Returns a list of Recording, sorted by (speaker, digit, index).
    Raises FileNotFoundError for a missing folder; ValueError for a folder with no matching file,
    for a file that is not a mono 16-bit PCM WAV (naming it), or for files of different sample rates.
    """
    folder = recordings_folder(path)
    matches = [(FILE_PATTERN.match(file.name), file) for file in sorted(folder.iterdir())]
    matches = [(match.groupdict(), file) for match, file in matches if match is not None]
    if not matches:
        raise ValueError(f"no {{digit}}_{{speaker}}_{{index}}.wav files in {folder}; expected {FSDD_WHERE}")
    recordings = []
    for fields, file in matches:
        samples, rate = read_wav(file)
        min_samples = int(round(min_seconds * rate))
        if len(samples) < min_samples:
            warnings.warn(f"skipping {file}: {len(samples)} samples, shorter than one {1000 * min_seconds:g} ms "
                          f"frame ({min_samples} samples at {rate} Hz)", stacklevel=2)
            continue
        recordings.append(Recording(file, int(fields["digit"]), fields["speaker"], int(fields["index"]), samples, rate))
    rates = {recording.sample_rate for recording in recordings}
    if len(rates) > 1:
        first = recordings[0]
        other = next(r for r in recordings if r.sample_rate != first.sample_rate)
        raise ValueError(f"recordings of different sample rates: {first.path} has {first.sample_rate} Hz, "
                         f"{other.path} has {other.sample_rate} Hz")
    if not recordings:
        raise ValueError(f"every {{digit}}_{{speaker}}_{{index}}.wav file in {folder} is shorter than "
                         f"{1000 * min_seconds:g} ms")
    return sorted(recordings, key=lambda r: (r.speaker, r.digit, r.index))


def speakers(recordings):
    """The speakers' names, sorted."""
    return sorted({recording.speaker for recording in recordings})


def split_recordings(recordings, speaker_out=None):
    """Train, validation and test recordings (see the module docstring for the rules).

    speaker_out: None for FSDD's split by index, or a speaker's name to test on that speaker only
    and train on the others. Raises ValueError for a speaker not in the recordings, naming those
    that are, and for a split that comes out empty.
    """
    if speaker_out is None:
        test = [r for r in recordings if r.index in TEST_INDICES]
        valid = [r for r in recordings if r.index in VALID_INDICES]
        train = [r for r in recordings if r.index not in TEST_INDICES and r.index not in VALID_INDICES]
        description = (f"FSDD's split: indices {TEST_INDICES.start}-{TEST_INDICES.stop - 1} test; of its training "
                       f"indices, {VALID_INDICES.start}-{VALID_INDICES.stop - 1} validation, the rest training")
    else:
        names = speakers(recordings)
        if speaker_out not in names:
            raise ValueError(f"speaker_out {speaker_out!r} is not in the data; its speakers are {', '.join(names)}")
        test = [r for r in recordings if r.speaker == speaker_out]
        others = [r for r in recordings if r.speaker != speaker_out]
        valid = [r for r in others if r.index in VALID_INDICES]
        train = [r for r in others if r.index not in VALID_INDICES]
        description = (f"unseen speaker: all of {speaker_out}'s recordings test; the other speakers' indices "
                       f"{VALID_INDICES.start}-{VALID_INDICES.stop - 1} validation, the rest training")
    for name, split in (("train", train), ("valid", valid), ("test", test)):
        if not split:
            raise ValueError(f"the {name} split is empty ({description}); the folder has too few recordings")
    return Splits(train, valid, test, description)


# ---------------------------------------------------------------------------------------------
# Connected digit strings
# ---------------------------------------------------------------------------------------------


def make_strings(recordings, rng, passes=1, digits_per_string=DIGITS_PER_STRING, perturb_speed=False):
    """Connected digit strings that use every recording `passes` times.

    Per pass and per speaker, the speaker's recordings are shuffled and cut into consecutive runs
    of 1 to 7 (digits_per_string, inclusive) recordings; each run becomes one string (join_recordings).
    rng: a numpy Generator; the same seed gives the same strings.
    perturb_speed: play every recording at a random speed in SPEED (change_speed), a common
    augmentation for training: a faster or slower speaker, with a higher or lower voice.
    Returns a list of DigitString, shuffled across speakers.
    """
    low, high = digits_per_string
    by_speaker = {}
    for recording in recordings:
        by_speaker.setdefault(recording.speaker, []).append(recording)
    strings = []
    for _ in range(passes):
        for speaker in sorted(by_speaker):
            pool = by_speaker[speaker]
            order = rng.permutation(len(pool))
            start = 0
            while start < len(order):
                count = int(rng.integers(low, high + 1))
                strings.append(join_recordings([pool[i] for i in order[start: start + count]], rng, perturb_speed))
                start += count
    return [strings[i] for i in rng.permutation(len(strings))]


def join_recordings(recordings, rng, perturb_speed=False):
    """One connected string from recordings of one speaker:

        [edge silence] g_1 x_1 [gap] g_2 x_2 [gap] ... g_n x_n [edge silence]  +  noise

    with each gain g_i drawn in GAIN_DB, each gap in GAP_SECONDS, each edge in EDGE_SECONDS, and
    Gaussian noise whose power is SNR_DB (drawn once) below the mean power of the speech. Samples
    are clipped to [-1, 1] as a 16-bit recording would be. With perturb_speed every recording is
    first played at a speed drawn in SPEED.
    Returns a DigitString.
    """
    rate = recordings[0].sample_rate

    def silence(seconds_range):
        return np.zeros(int(rate * rng.uniform(*seconds_range)), dtype=np.float32)

    pieces, segments = [silence(EDGE_SECONDS)], []
    position = len(pieces[0])
    for number, recording in enumerate(recordings):
        if number:
            pieces.append(silence(GAP_SECONDS))
            position += len(pieces[-1])
        gain = 10.0 ** (rng.uniform(*GAIN_DB) / 20.0)
        samples = change_speed(recording.samples, rng.uniform(*SPEED)) if perturb_speed else recording.samples
        pieces.append(gain * samples)
        segments.append((position, position + len(samples)))
        position += len(samples)
    pieces.append(silence(EDGE_SECONDS))
    samples = np.concatenate(pieces)
    speech_power = np.mean(np.concatenate([samples[start:end] for start, end in segments]) ** 2)
    noise_power = speech_power * 10.0 ** (-rng.uniform(*SNR_DB) / 10.0)
    samples = samples + rng.normal(0.0, np.sqrt(noise_power), size=len(samples))
    return DigitString(np.clip(samples, -1.0, 1.0).astype(np.float32), tuple(r.digit for r in recordings),
                       recordings[0].speaker, tuple(segments))


def change_speed(samples, factor):
    """Play samples `factor` times faster (shorter and higher for factor > 1), by linear
    interpolation: y[n] = x(n * factor), n = 0 .. floor((len(x) - 1) / factor).
    samples: (num_samples,) -> (1 + floor((num_samples - 1) / factor),)."""
    positions = np.arange(0.0, len(samples) - 1 + 1e-9, factor)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# A stand-in for FSDD, for smoke runs and tests
# ---------------------------------------------------------------------------------------------

# The telephone keypad's tone pairs (DTMF): digit -> (row Hz, column Hz).
TONE_PAIRS = {1: (697, 1209), 2: (697, 1336), 3: (697, 1477), 4: (770, 1209), 5: (770, 1336),
              6: (770, 1477), 7: (852, 1209), 8: (852, 1336), 9: (852, 1477), 0: (941, 1336)}


def write_tone_recordings(folder, speaker_names=("alice", "bob"), indices=range(12), sample_rate=8000, seed=0):
    """Write an FSDD-shaped folder of tiny synthetic recordings: for every speaker, digit and
    index, ``{digit}_{speaker}_{index}.wav`` holding the digit's two keypad tones (TONE_PAIRS),
    0.12-0.3 s long with a smooth rise and fall, each speaker's tones shifted by a few percent,
    plus a little noise. Mono 16-bit PCM, written with the standard library's wave module.

    Not speech: an easy task with the same layout, so the FSDD code paths can run in seconds.
    Returns the folder as a Path.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for number, speaker in enumerate(speaker_names):
        shift = 1.0 + 0.03 * number
        for digit, (low, high) in TONE_PAIRS.items():
            for index in indices:
                length = int(sample_rate * rng.uniform(0.12, 0.3))
                t = np.arange(length) / sample_rate
                envelope = np.sin(np.pi * np.arange(length) / length) ** 0.5
                tone = np.sin(2 * np.pi * low * shift * t) + 0.7 * np.sin(2 * np.pi * high * shift * t)
                samples = 0.4 * envelope * tone + rng.normal(0.0, 0.01, size=length)
                with wave.open(str(folder / f"{digit}_{speaker}_{index}.wav"), "wb") as writer:
                    writer.setnchannels(1)
                    writer.setsampwidth(2)
                    writer.setframerate(sample_rate)
                    writer.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return folder
