"""Speech features: from a PCM WAV file to per-frame log-mel filterbank vectors, in numpy.

Where this sits: before any model. A recording is a long 1-D signal (8,000 samples per second for
telephone-quality speech); a recurrent network reads a much shorter sequence of feature vectors,
one per 10 ms frame, each describing the short-time spectrum the way the ear roughly does (fine
resolution at low frequencies, coarse at high ones). demos/spoken_digits.py feeds these frames to a
BiLSTM trained with ctc_loss.

The pipeline, one short function per step (log_mel_features runs them in order):

    read_wav            file -> samples in [-1, 1], sample rate
    pre_emphasis        y[n] = x[n] - a x[n-1]                 (lifts the high frequencies)
    frame_signal        (num_samples,) -> (num_frames, frame_length), 25 ms windows every 10 ms
    hann_window         w[n] = 0.5 - 0.5 cos(2 pi n / L)        (tapers each frame's edges)
    power_spectrum      |rfft(w * frame, n_fft)|^2              (num_frames, n_fft // 2 + 1)
    mel_filterbank      triangles equally spaced on the HTK mel scale m = 2595 log10(1 + f / 700)
    log_compress        log(max(E, floor))                       (the ear hears ratios, not differences)
    normalise           per coefficient, (x - mean) / std over the utterance
    deltas              d_t = sum_n n (c_{t+n} - c_{t-n}) / (2 sum_n n^2)   (optional slopes)

Shapes follow the rest of tinyseq's data code: time first within an utterance, (num_frames,
num_features). Everything is float64 inside and float32 out of log_mel_features.
"""

import wave

import numpy as np

SAMPLE_WIDTHS = {1: "8-bit", 2: "16-bit", 4: "32-bit"}


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_wav(path):
    """Read a mono 16-bit PCM WAV file.

    Returns (samples, sample_rate): samples (num_samples,) float32 in [-1, 1), the 16-bit integers
    divided by 32768; sample_rate an int (samples per second).

    Raises ValueError naming the path and what was found for a file that is not a PCM WAV (a
    corrupt or truncated file, or another format), that has more than one channel, or whose
    samples are not 16-bit; FileNotFoundError for a missing file.
    """
    try:
        with wave.open(str(path), "rb") as reader:
            channels, width, rate = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
            num_samples = reader.getnframes()
            raw = reader.readframes(num_samples)
    except FileNotFoundError:
        raise FileNotFoundError(f"read_wav: no such file: {path}") from None
    except (wave.Error, EOFError) as error:
        # The wave module reads only uncompressed PCM; anything else (a compressed WAV, an MP3
        # renamed .wav, a cut-off header) arrives here.
        raise ValueError(f"read_wav: {path} is not a PCM WAV file ({error})") from None
    if channels != 1:
        raise ValueError(f"read_wav: {path} has {channels} channels, expected 1 (mono)")
    if width != 2:
        found = SAMPLE_WIDTHS.get(width, f"{8 * width}-bit")
        raise ValueError(f"read_wav: {path} has {found} samples, expected 16-bit")
    if len(raw) != 2 * num_samples:
        raise ValueError(f"read_wav: {path} is truncated: its header says {num_samples} samples, "
                         f"the file holds {len(raw) // 2}")
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return samples, rate


# ---------------------------------------------------------------------------------------------
# The feature steps
# ---------------------------------------------------------------------------------------------


def pre_emphasis(signal, coefficient=0.97):
    """y[0] = x[0],  y[n] = x[n] - coefficient * x[n - 1].

    A first-order high-pass filter: voiced speech loses about 6 dB per octave, and this gives the
    weak high-frequency energy (consonants) more weight in the log spectrum.
    signal: (num_samples,)  ->  (num_samples,).
    """
    signal = np.asarray(signal, dtype=np.float64)
    emphasised = signal.copy()
    emphasised[1:] -= coefficient * signal[:-1]
    return emphasised


def num_frames(num_samples, frame_length, hop_length):
    """How many whole frames fit: 1 + floor((num_samples - frame_length) / hop_length), and 0
    when the signal is shorter than one frame. The tail that does not fill a frame is dropped (no
    padding), as with librosa's center=False."""
    if num_samples < frame_length:
        return 0
    return 1 + (num_samples - frame_length) // hop_length


def frame_signal(signal, frame_length, hop_length):
    """Cut the signal into overlapping frames: frame t is signal[t * hop_length : t * hop_length + frame_length].

    signal: (num_samples,)  ->  (num_frames(num_samples, frame_length, hop_length), frame_length).
    """
    signal = np.asarray(signal)
    count = num_frames(len(signal), frame_length, hop_length)
    starts = hop_length * np.arange(count)[:, None]
    return signal[starts + np.arange(frame_length)[None, :]]


def hann_window(length):
    """w[n] = 0.5 - 0.5 cos(2 pi n / length), n = 0 .. length - 1.

    The periodic Hann window (as torch.hann_window and librosa use by default): it falls to zero
    at the frame's start, so cutting the signal does not smear energy over all frequencies.
    Returns (length,).
    """
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def power_spectrum(frames, n_fft):
    """E[t, k] = |sum_n frames[t, n] exp(-2 pi i k n / n_fft)|^2, k = 0 .. n_fft // 2.

    Each (already windowed) frame is zero-padded to n_fft samples; bin k is frequency
    k * sample_rate / n_fft. frames: (num_frames, frame_length <= n_fft)  ->  (num_frames, n_fft // 2 + 1).
    """
    return np.abs(np.fft.rfft(frames, n=n_fft, axis=-1)) ** 2


def hz_to_mel(hz):
    """The HTK mel scale: m = 2595 log10(1 + f / 700). Linear below about 1 kHz, logarithmic above."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    """The inverse of hz_to_mel: f = 700 (10^(m / 2595) - 1)."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(num_filters, n_fft, sample_rate, f_min=0.0, f_max=None):
    """Triangular filters whose corners are equally spaced on the HTK mel scale.

    num_filters + 2 corner frequencies f_0 < f_1 < ... < f_{M+1} are equally spaced in mel between
    f_min and f_max (default sample_rate / 2). Filter m (1-based) is a triangle in Hz of height 1:

        H_m(f) = (f - f_{m-1}) / (f_m - f_{m-1})   for f_{m-1} <= f <= f_m
               = (f_{m+1} - f) / (f_{m+1} - f_m)   for f_m <= f <= f_{m+1}
               = 0                                 elsewhere

    evaluated at the FFT bin frequencies k * sample_rate / n_fft. Each filter rises over exactly
    the interval where its left neighbour falls, so the filters sum to 1 at every frequency
    between the first filter's peak f_1 and the last one's f_M, fall linearly to 0 towards f_0 and
    f_{M+1}, and are 0 outside [f_0, f_{M+1}]. (No area normalisation: librosa's norm=None.)

    Returns (num_filters, n_fft // 2 + 1).
    """
    f_max = sample_rate / 2.0 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2.0:
        raise ValueError(f"mel_filterbank: need 0 <= f_min < f_max <= sample_rate / 2 = {sample_rate / 2.0}, "
                         f"got f_min={f_min}, f_max={f_max}")
    if num_filters < 1:
        raise ValueError(f"mel_filterbank: num_filters must be at least 1, got {num_filters}")
    corners = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), num_filters + 2))
    bin_hz = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    left, peak, right = corners[:-2, None], corners[1:-1, None], corners[2:, None]
    rising = (bin_hz - left) / (peak - left)
    falling = (right - bin_hz) / (right - peak)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_compress(energies, floor=1e-10):
    """log(max(E, floor)): the floor keeps silent (or digitally zero) bands at a finite value
    instead of -inf. energies: any shape -> the same shape."""
    return np.log(np.maximum(energies, floor))


def normalise(features, eps=1e-8):
    """Per-utterance mean and variance normalisation: for every coefficient d,
    x'[t, d] = (x[t, d] - mean_t x[:, d]) / (std_t x[:, d] + eps).

    It removes what is constant over the utterance (microphone, level, the speaker's average
    spectrum) and leaves how the spectrum changes. features: (num_frames, D) -> (num_frames, D).
    """
    features = np.asarray(features, dtype=np.float64)
    return (features - features.mean(axis=0)) / (features.std(axis=0) + eps)


def deltas(features, width=2):
    """The slope of every coefficient over time, by regression on +-width frames:

        d[t] = sum_{n=1}^{width} n (c[t + n] - c[t - n]) / (2 sum_{n=1}^{width} n^2)

    with the first and last frames repeated past the ends. A straight line c[t] = a t + b gets
    d[t] = a away from the ends. features: (num_frames, D) -> (num_frames, D).
    """
    features = np.asarray(features, dtype=np.float64)
    length = len(features)
    padded = np.concatenate([np.repeat(features[:1], width, axis=0), features,
                             np.repeat(features[-1:], width, axis=0)])
    slope = np.zeros_like(features)
    for n in range(1, width + 1):
        slope += n * (padded[width + n: width + n + length] - padded[width - n: width - n + length])
    return slope / (2.0 * sum(n * n for n in range(1, width + 1)))


# ---------------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------------


def frame_sizes(sample_rate, window_ms=25.0, hop_ms=10.0, n_fft=None):
    """(frame_length, hop_length, n_fft) in samples: 25 ms and 10 ms by default, and n_fft the
    smallest power of two that holds a frame (200, 80 and 256 at 8 kHz)."""
    frame_length = int(round(sample_rate * window_ms / 1000.0))
    hop_length = int(round(sample_rate * hop_ms / 1000.0))
    if frame_length < 1 or hop_length < 1:
        raise ValueError(f"frame_sizes: a {window_ms} ms window and {hop_ms} ms hop at {sample_rate} Hz "
                         f"give {frame_length} and {hop_length} samples; both must be at least 1")
    if n_fft is None:
        n_fft = 1 << (frame_length - 1).bit_length()
    if n_fft < frame_length:
        raise ValueError(f"frame_sizes: n_fft ({n_fft}) must be at least the frame length ({frame_length})")
    return frame_length, hop_length, n_fft


def mel_power_spectrogram(signal, sample_rate, num_mels=40, window_ms=25.0, hop_ms=10.0, n_fft=None,
                          f_min=0.0, f_max=None):
    """Frames -> Hann window -> power spectrum -> mel filters, without pre-emphasis or log.

    signal: (num_samples,)  ->  (num_frames, num_mels), the energy in every mel band of every frame.
    """
    frame_length, hop_length, n_fft = frame_sizes(sample_rate, window_ms, hop_ms, n_fft)
    frames = frame_signal(np.asarray(signal, dtype=np.float64), frame_length, hop_length)
    spectrum = power_spectrum(frames * hann_window(frame_length), n_fft)
    return spectrum @ mel_filterbank(num_mels, n_fft, sample_rate, f_min, f_max).T


def log_mel_features(signal, sample_rate, num_mels=40, window_ms=25.0, hop_ms=10.0, n_fft=None,
                     pre_emphasis_coefficient=0.97, floor=1e-10, normalise_utterance=True, delta_order=0):
    """The whole pipeline: pre-emphasis, framing, Hann window, power spectrum, mel filters, log
    with a floor, per-utterance normalisation, and delta_order (0, 1 or 2) orders of deltas
    appended (the deltas, then the deltas of the deltas).

    signal: (num_samples,)  ->  (num_frames, num_mels * (1 + delta_order)) float32, where
    num_frames = num_frames(num_samples, frame_length, hop_length); (0, ...) for a signal
    shorter than one frame.
    """
    if delta_order not in (0, 1, 2):
        raise ValueError(f"log_mel_features: delta_order must be 0, 1 or 2, got {delta_order}")
    emphasised = pre_emphasis(signal, pre_emphasis_coefficient)
    features = log_compress(mel_power_spectrogram(emphasised, sample_rate, num_mels, window_ms, hop_ms, n_fft),
                            floor)
    if normalise_utterance and len(features):
        features = normalise(features)
    blocks = [features]
    for _ in range(delta_order):
        blocks.append(deltas(blocks[-1]) if len(features) else blocks[-1])
    return np.concatenate(blocks, axis=1).astype(np.float32)
