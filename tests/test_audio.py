"""Tests for tinyseq/audio.py: WAV reading and its errors, every feature step against a formula
worked by hand or an independent computation, and the mel power spectrogram against librosa's
(when librosa is installed; it is not a dependency)."""

import wave

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyseq import audio


def write_wav(path, samples, sample_rate=8000, channels=1, sample_width=2):
    """A WAV file written with the standard library: samples are integers already in the width's range."""
    dtype = {1: np.uint8, 2: "<i2", 4: "<i4"}[sample_width]
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_width)
        writer.setframerate(sample_rate)
        writer.writeframes(np.asarray(samples).astype(dtype).tobytes())
    return path


# ---------------------------------------------------------------------------------------------
# read_wav
# ---------------------------------------------------------------------------------------------


def test_read_wav_scales_16_bit_integers_to_minus_one_one(tmp_path):
    path = write_wav(tmp_path / "ok.wav", [0, 16384, -16384, 32767, -32768], sample_rate=8000)
    samples, rate = audio.read_wav(path)
    assert rate == 8000
    assert samples.dtype == np.float32
    np.testing.assert_array_equal(samples, [0.0, 0.5, -0.5, 32767 / 32768, -1.0])


def test_read_wav_refuses_stereo_naming_the_path_and_the_channels(tmp_path):
    path = write_wav(tmp_path / "stereo.wav", np.zeros(20), channels=2)
    with pytest.raises(ValueError, match=r"stereo\.wav has 2 channels, expected 1"):
        audio.read_wav(path)


def test_read_wav_refuses_another_sample_width(tmp_path):
    path = write_wav(tmp_path / "eight.wav", np.full(10, 128), sample_width=1)
    with pytest.raises(ValueError, match=r"eight\.wav has 8-bit samples, expected 16-bit"):
        audio.read_wav(path)


def test_read_wav_refuses_a_file_that_is_not_a_wav(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(b"ID3 this is an mp3 pretending to be a wav")
    with pytest.raises(ValueError, match=r"noise\.wav is not a PCM WAV file"):
        audio.read_wav(path)


def test_read_wav_refuses_a_truncated_file(tmp_path):
    path = write_wav(tmp_path / "cut.wav", np.arange(100))
    path.write_bytes(path.read_bytes()[:-51])  # cut the last 25.5 samples off, keep the header
    with pytest.raises(ValueError, match=r"cut\.wav is (truncated|not a PCM WAV)"):
        audio.read_wav(path)


def test_read_wav_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        audio.read_wav(tmp_path / "missing.wav")


# ---------------------------------------------------------------------------------------------
# The steps, against hand-worked values
# ---------------------------------------------------------------------------------------------


def test_pre_emphasis_subtracts_the_scaled_previous_sample():
    np.testing.assert_allclose(audio.pre_emphasis([1.0, 2.0, 4.0], coefficient=0.5), [1.0, 1.5, 3.0])


@pytest.mark.parametrize("num_samples, expected", [
    (0, 0), (199, 0), (200, 1), (279, 1), (280, 2), (8000, 98), (8039, 98), (8040, 99),
])
def test_frame_count_is_one_plus_the_whole_hops_after_the_first_window(num_samples, expected):
    # 25 ms windows and 10 ms hops at 8 kHz: 200 and 80 samples; 1 + floor((n - 200) / 80), worked by hand.
    assert audio.num_frames(num_samples, 200, 80) == expected
    assert audio.frame_signal(np.zeros(num_samples), 200, 80).shape == (expected, 200)
    assert audio.log_mel_features(np.random.default_rng(0).normal(size=num_samples), 8000).shape == (expected, 40)


@given(st.integers(1, 60), st.integers(1, 12), st.integers(1, 12))
def test_frame_t_is_the_slice_starting_at_t_hops(num_samples, frame_length, hop_length):
    signal = np.arange(num_samples)
    frames = audio.frame_signal(signal, frame_length, hop_length)
    assert len(frames) == audio.num_frames(num_samples, frame_length, hop_length)
    for t, frame in enumerate(frames):
        np.testing.assert_array_equal(frame, signal[t * hop_length: t * hop_length + frame_length])
    # One more frame would run past the end.
    assert len(frames) * hop_length + frame_length > num_samples


def test_frame_sizes_at_8_khz_are_200_80_and_256():
    assert audio.frame_sizes(8000) == (200, 80, 256)
    assert audio.frame_sizes(16000) == (400, 160, 512)


def test_hann_window_of_length_four_is_zero_half_one_half():
    np.testing.assert_allclose(audio.hann_window(4), [0.0, 0.5, 1.0, 0.5], atol=1e-15)


def test_power_spectrum_is_the_squared_magnitude_of_the_dft_sum():
    rng = np.random.default_rng(1)
    frames = rng.normal(size=(3, 6))
    n_fft = 8
    n = np.arange(6)
    expected = np.array([[abs(np.sum(frame * np.exp(-2j * np.pi * k * n / n_fft))) ** 2 for k in range(n_fft // 2 + 1)]
                         for frame in frames])
    np.testing.assert_allclose(audio.power_spectrum(frames, n_fft), expected, rtol=1e-12)


def test_htk_mel_scale_maps_1000_hz_near_1000_mel_and_inverts():
    # HTK's definition is fitted so that 1000 Hz is (almost exactly) 1000 mel.
    assert audio.hz_to_mel(1000.0) == pytest.approx(999.99, abs=0.01)
    hz = np.array([0.0, 100.0, 440.0, 3999.0])
    np.testing.assert_allclose(audio.mel_to_hz(audio.hz_to_mel(hz)), hz, atol=1e-9)


def test_log_compress_floors_zero_energy_to_a_finite_value():
    np.testing.assert_allclose(audio.log_compress(np.array([0.0, 1.0, np.e]), floor=1e-10),
                               [np.log(1e-10), 0.0, 1.0])


def test_normalise_gives_every_coefficient_mean_zero_and_unit_spread():
    features = np.random.default_rng(2).normal(3.0, 5.0, size=(50, 4))
    normalised = audio.normalise(features)
    np.testing.assert_allclose(normalised.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(normalised.std(axis=0), 1.0, atol=1e-6)


def test_deltas_of_a_straight_line_are_its_slope_away_from_the_ends():
    t = np.arange(10.0)[:, None]
    features = np.hstack([3.0 * t + 1.0, -0.5 * t])
    slopes = audio.deltas(features, width=2)
    np.testing.assert_allclose(slopes[2:-2], [[3.0, -0.5]] * 6)
    # At t = 0 the repeated first frame gives (1 * (c1 - c0) + 2 * (c2 - c0)) / 10 = 5 a / 10.
    np.testing.assert_allclose(slopes[0], [1.5, -0.25])


def test_silence_gives_finite_features():
    features = audio.log_mel_features(np.zeros(800), 8000, delta_order=2)
    assert features.shape == (8, 120)
    assert np.isfinite(features).all()


# ---------------------------------------------------------------------------------------------
# The mel filterbank
# ---------------------------------------------------------------------------------------------


def _htk_corners(num_filters, f_min, f_max):
    """The num_filters + 2 corner frequencies, computed here from HTK's formula independently."""
    mels = np.linspace(2595 * np.log10(1 + f_min / 700), 2595 * np.log10(1 + f_max / 700), num_filters + 2)
    return 700 * (10 ** (mels / 2595) - 1)


def test_mel_filters_peak_at_one_and_sum_to_one_between_the_first_and_last_peaks():
    num_filters, n_fft, rate = 40, 512, 8000
    filters = audio.mel_filterbank(num_filters, n_fft, rate)
    corners = _htk_corners(num_filters, 0.0, rate / 2)
    bin_hz = np.arange(n_fft // 2 + 1) * rate / n_fft
    total = filters.sum(axis=0)
    inside = (bin_hz >= corners[1]) & (bin_hz <= corners[-2])
    np.testing.assert_allclose(total[inside], 1.0, atol=1e-12)
    assert (total <= 1.0 + 1e-12).all()
    assert filters.max() <= 1.0 + 1e-12 and (filters >= 0).all()
    # Each filter is zero outside its own band (left corner, right corner).
    for m in range(num_filters):
        outside = (bin_hz <= corners[m]) | (bin_hz >= corners[m + 2])
        assert (filters[m, outside] == 0).all()


def test_mel_filters_are_zero_outside_f_min_f_max():
    filters = audio.mel_filterbank(10, 256, 8000, f_min=300.0, f_max=3400.0)
    bin_hz = np.arange(129) * 8000 / 256
    assert (filters[:, (bin_hz <= 300.0) | (bin_hz >= 3400.0)] == 0).all()


def test_mel_filterbank_refuses_a_band_past_nyquist():
    with pytest.raises(ValueError, match="f_max <= sample_rate / 2 = 4000.0"):
        audio.mel_filterbank(10, 256, 8000, f_max=5000.0)


@pytest.mark.parametrize("frequency", [180.0, 440.0, 1000.0, 2500.0, 3600.0])
def test_a_pure_tone_lands_in_the_filter_whose_band_contains_its_frequency(frequency):
    rate, num_filters = 8000, 40
    t = np.arange(rate) / rate
    energies = audio.mel_power_spectrogram(np.sin(2 * np.pi * frequency * t), rate, num_mels=num_filters)
    strongest = energies.mean(axis=0).argmax()
    corners = _htk_corners(num_filters, 0.0, rate / 2)
    assert corners[strongest] < frequency < corners[strongest + 2]
    # And of the (at most two) filters whose bands contain it, the one whose triangle is higher there.
    assert abs(corners[strongest + 1] - frequency) <= 0.5 * (corners[strongest + 2] - corners[strongest])


# ---------------------------------------------------------------------------------------------
# Against librosa (optional)
# ---------------------------------------------------------------------------------------------


def test_mel_power_spectrogram_matches_librosa():
    librosa = pytest.importorskip("librosa")
    rate = 8000
    signal = np.random.default_rng(3).normal(size=4000) * np.hanning(4000)
    ours = audio.mel_power_spectrogram(signal, rate, num_mels=40)  # 200-sample Hann windows, hop 80, n_fft 256
    # librosa centres a win_length window inside each n_fft frame: with 28 zeros on both sides of
    # the signal its frame t windows the same samples [80 t, 80 t + 200) as ours (the circular
    # shift inside the FFT does not change |X|^2), and it makes the same number of frames.
    pad = (256 - 200) // 2
    theirs = librosa.feature.melspectrogram(
        y=np.pad(signal, pad), sr=rate, n_fft=256, hop_length=80, win_length=200, window="hann", center=False,
        power=2.0, n_mels=40, fmin=0.0, fmax=rate / 2, htk=True, norm=None, dtype=np.float64)
    assert theirs.T.shape == ours.shape
    np.testing.assert_allclose(ours, theirs.T, rtol=1e-6, atol=1e-9 * theirs.max())
