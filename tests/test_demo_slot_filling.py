"""The slot-filling demo end to end in --smoke mode: it trains the joint intent + slot model, saves
it, writes its pictures and predictions, tags a sentence with the saved model, and turns bad input
into a one-line message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO = REPO_ROOT / "demos" / "slot_filling.py"


def run_demo(*args, cwd=None):
    # The demo imports the tinyseq of this checkout, not whichever copy happens to be installed.
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(DEMO), *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=environment)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("slot_filling")
    # Two members (the default only with --data), so that saving, loading and --predict go through
    # an ensemble with a CRF and an intent head.
    result = run_demo("--smoke", "--members", "2", "--jobs", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_smoke_run_ends_with_intent_sentence_and_slot_f1_lines(trained):
    _, result = trained
    last_lines = result.stdout.strip().splitlines()[-3:]
    for line, prefix in zip(last_lines, ("test intent accuracy: ", "test sentence accuracy: ", "test slot F1: ")):
        assert line.startswith(prefix), line
        value = line.removeprefix(prefix)
        assert len(value.split(".")[1]) == 2 and 0.0 <= float(value) <= 100.0


def test_smoke_run_writes_model_pictures_and_predictions(trained):
    out, result = trained
    for name in ("model.npz", "curves.png", "tagged_examples.png", "transitions.png", "test.pred", "test.intent.pred"):
        assert (out / name).stat().st_size > 0, name
        assert str(out / name) in result.stdout, f"the demo should print where it wrote {name}"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predictions_are_in_the_seq_out_format(trained):
    out, _ = trained
    lines = (out / "test.pred").read_text().splitlines()
    assert len(lines) == 50  # the smoke corpus has 50 test utterances
    assert all(tag == "O" or tag[:2] in ("B-", "I-") for line in lines for tag in line.split())
    intents = (out / "test.intent.pred").read_text().splitlines()
    assert len(intents) == 50 and set(intents) <= {"atis_flight", "atis_airfare", "atis_flight_time"}


def test_members_train_and_the_ensemble_is_scored_on_valid(trained):
    _, result = trained
    assert "lstm 1/2 epoch" in result.stdout and "lstm 2/2 epoch" in result.stdout
    assert "ensemble of 2: valid" in result.stdout


def test_members_trained_in_parallel_workers_equal_members_trained_in_turn(trained, tmp_path):
    # The fixture trains its two members in two worker processes (--jobs 2); in turn in this process
    # (--jobs 1) every parameter and every prediction must come out bit for bit the same.
    import numpy as np

    parallel_out, parallel = trained
    assert "training the 2 members 2 at a time" in parallel.stdout
    result = run_demo("--smoke", "--members", "2", "--jobs", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "at a time" not in result.stdout
    with np.load(parallel_out / "model.npz") as a, np.load(tmp_path / "model.npz") as b:
        assert sorted(a.files) == sorted(b.files) and len(a.files) > 10
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    for name in ("test.pred", "test.intent.pred"):
        assert (parallel_out / name).read_text() == (tmp_path / name).read_text(), name


def test_both_taggers_are_shown_on_the_contrast_pairs(trained):
    _, result = trained
    assert "lstm tagger" in result.stdout and "window tagger" in result.stdout
    assert "i want to leave taipei on november second" in " ".join(result.stdout.split())


def test_predict_tags_a_sentence_with_the_saved_model(trained):
    out, _ = trained
    result = run_demo("--out", str(out), "--predict", "show me flights from boston to denver")
    assert result.returncode == 0, result.stderr
    intent_line, tokens_line, tags_line = result.stdout.rstrip("\n").splitlines()[-3:]
    assert intent_line.startswith("intent: atis_")
    assert tokens_line.split() == "show me flights from boston to denver".split()
    assert len(tags_line.split()) == 7


def test_predict_before_training_is_a_one_line_error(tmp_path):
    result = run_demo("--out", str(tmp_path / "empty"), "--predict", "fly to boston")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "no trained model" in result.stderr


def test_missing_data_folder_is_a_one_line_error(tmp_path):
    result = run_demo("--smoke", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "nowhere" in result.stderr


def test_bad_tags_in_data_are_a_one_line_error(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / split).mkdir()
        (tmp_path / split / "seq.in").write_text("fly to boston\n")
        (tmp_path / split / "seq.out").write_text("O O X-toloc.city_name\n")
    result = run_demo("--smoke", "--data", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "seq.out" in result.stderr


@pytest.mark.parametrize("flag, value", [("--dropout", "1.5"), ("--clip", "nan"), ("--lr", "nan"), ("--lr", "inf"),
                                         ("--intent-weight", "-1"), ("--word-dropout", "nan"), ("--epochs", "x"),
                                         ("--attention", "-1"), ("--max-updates", "0")])
def test_bad_flag_values_are_one_line_errors(tmp_path, flag, value):
    result = run_demo("--smoke", flag, value, "--out", str(tmp_path))
    assert result.returncode != 0 and flag in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_predict_with_a_corrupt_or_foreign_checkpoint_is_a_one_line_error(tmp_path):
    (tmp_path / "model.npz").write_bytes(b"not a checkpoint")
    corrupt = run_demo("--out", str(tmp_path), "--predict", "fly to boston")
    foreign_dir = tmp_path / "foreign"
    foreign_dir.mkdir()
    subprocess.run([sys.executable, "-c", f"import tinyseq as ts, numpy as np; "
                    f"ts.save({{'w': np.zeros(2)}}, {str(foreign_dir / 'model.npz')!r})"], check=True,
                   env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    foreign = run_demo("--out", str(foreign_dir), "--predict", "fly to boston")
    for result in (corrupt, foreign):
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert result.stderr.strip().count("\n") == 0 and "model.npz" in result.stderr


def test_out_pointing_at_a_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("")
    for extra in ([], ["--predict", "fly to boston"]):
        result = run_demo("--smoke", "--out", str(path), *extra)
        assert result.returncode != 0 and "Traceback" not in result.stderr and str(path) in result.stderr
        assert result.stderr.strip().count("\n") == 0


def test_smoke_run_on_an_atis_layout_folder_without_crf_or_intent(tmp_path):
    fixture = Path(__file__).resolve().parent / "fixtures" / "atis_tiny"
    result = run_demo("--smoke", "--cell", "rnn", "--no-crf", "--no-intent", "--jobs", "1", "--data", str(fixture),
                      "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    last_lines = result.stdout.strip().splitlines()[-2:]
    assert last_lines[0].startswith("test sentence accuracy (slots only, no intents): ")
    assert last_lines[1].startswith("test slot F1: ")
    assert len((tmp_path / "test.pred").read_text().splitlines()) == 2  # the fixture's test split
    assert not (tmp_path / "test.intent.pred").exists() and not (tmp_path / "transitions.png").exists()


def load_demo_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("slot_filling_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ensemble_decodes_the_best_path_of_the_product_of_its_members_crfs():
    # Brute force: every BIO-allowed tag path scored by the sum over members of each member's own
    # CRF path score (its emissions + start + transitions + end), the log of the product of experts.
    import itertools

    import numpy as np

    import tinyseq as ts
    from tinyseq.datasets.atis_format import SlotExample

    demo = load_demo_module()
    train = [SlotExample(("fly", "to", "new", "york"), ("O", "O", "B-city", "I-city"), "flight"),
             SlotExample(("on", "monday"), ("O", "B-day"), "flight")]
    vocabularies = demo.Vocabularies.build(train, with_intents=True)
    config = dict(cell="lstm", emb=4, char_emb=3, char_filters=2, hidden=3, layers=1, bidirectional=True,
                  dropout=0.0, window=1, crf=True, members=2, seed=3)
    ensemble = demo.build_ensemble(config, vocabularies)
    rng = np.random.default_rng(0)
    for member in ensemble.members:  # scores far from the initial +-0.1, so the members disagree
        for table in (member.crf.start_transitions, member.crf.end_transitions, member.crf.transitions):
            table.data[...] = rng.normal(size=table.shape)
    labels = vocabularies.tags.itos
    allowed_start, allowed_end, allowed = ensemble.members[0].crf.allowed
    lengths = np.array([4, 3])
    member_emissions = [rng.normal(size=(2, 4, len(labels))) for _ in ensemble.members]
    summed = ts.tensor(sum(member_emissions))
    decoded = ensemble.decode(summed, lengths)
    for row, length in enumerate(lengths):
        best_score, best_path = -np.inf, None
        for path in itertools.product(range(len(labels)), repeat=int(length)):
            if not (allowed_start[path[0]] and allowed_end[path[-1]]
                    and all(allowed[a, b] for a, b in zip(path, path[1:]))):
                continue
            score = 0.0
            for member, emissions in zip(ensemble.members, member_emissions):
                crf = member.crf
                score += crf.start_transitions.data[path[0]] + crf.end_transitions.data[path[-1]]
                score += sum(emissions[row, t, tag] for t, tag in enumerate(path))
                score += sum(crf.transitions.data[a, b] for a, b in zip(path, path[1:]))
            if score > best_score:
                best_score, best_path = score, list(path)
        assert decoded[row] == best_path



def test_joint_decoding_picks_the_best_consistent_intent_and_path():
    # Brute force over every intent and every BIO-allowed tag path whose slot types were seen with that
    # intent in training: the pair scoring highest in M * intent score + the summed members' path score.
    import itertools

    import numpy as np

    import tinyseq as ts
    from tinyseq.datasets.atis_format import SlotExample

    demo = load_demo_module()
    train = [SlotExample(("fly", "to", "new", "york"), ("O", "O", "B-city", "I-city"), "flight"),
             SlotExample(("on", "monday"), ("O", "B-day"), "flight"),
             SlotExample(("a", "snack"), ("O", "B-meal"), "meal"),
             SlotExample(("fares", "to", "rome"), ("O", "O", "B-city"), "fare#flight")]
    vocabularies = demo.Vocabularies.build(train, with_intents=True)
    masks = demo.consistent_tags(train, vocabularies)
    labels, intents = vocabularies.tags.itos, vocabularies.intents.itos
    allowed_types = {"flight": {"city", "day"}, "meal": {"meal"}, "fare#flight": {"city", "day"}}  # by hand
    for k, intent in enumerate(intents):
        assert [labels[j] for j in np.flatnonzero(masks[k])] == \
            [tag for tag in labels if tag == "O" or tag[2:] in allowed_types[intent]], intent
    config = dict(cell="lstm", emb=4, char_emb=3, char_filters=2, hidden=3, layers=1, bidirectional=True,
                  dropout=0.0, window=1, crf=True, members=2, seed=3)
    ensemble = demo.build_ensemble(config, vocabularies)
    ensemble.joint_masks = masks
    rng = np.random.default_rng(1)
    for member in ensemble.members:
        for table in (member.crf.start_transitions, member.crf.end_transitions, member.crf.transitions):
            table.data[...] = rng.normal(size=table.shape)
    allowed_start, allowed_end, allowed = ensemble.members[0].crf.allowed
    start, end, transitions = ensemble.transition_scores()
    for trial in range(20):
        lengths = np.array([3, 2, 1])
        emissions = rng.normal(0, 2, size=(3, 3, len(labels)))
        intent_scores = rng.normal(0, 1, size=(3, len(intents)))
        paths, chosen = ensemble.decode_jointly(ts.tensor(emissions), ts.tensor(intent_scores), lengths)
        for row, length in enumerate(lengths):
            best = (-np.inf, None, None)
            for k in range(len(intents)):  # three intents: all of them are candidates
                for path in itertools.product(np.flatnonzero(masks[k]), repeat=int(length)):
                    if not (allowed_start[path[0]] and allowed_end[path[-1]]
                            and all(allowed[a, b] for a, b in zip(path, path[1:]))):
                        continue
                    score = 2 * intent_scores[row, k] + start[path[0]] + end[path[-1]]
                    score += sum(emissions[row, t, tag] for t, tag in enumerate(path))
                    score += sum(transitions[a, b] for a, b in zip(path, path[1:]))
                    if score > best[0]:
                        best = (score, [int(tag) for tag in path], k)
            assert (paths[row], chosen[row]) == (best[1], best[2]), (trial, row)


def _attention_tagger(demo, seed):
    import tinyseq as ts
    from tinyseq.datasets.atis_format import SlotExample

    train = [SlotExample(("fly", "to", "boston"), ("O", "O", "B-city"), "flight")]
    vocabularies = demo.Vocabularies.build(train, with_intents=True)
    config = dict(cell="lstm", emb=4, char_emb=3, char_filters=2, hidden=3, attention=5, layers=1,
                  bidirectional=True, dropout=0.0, window=1, crf=True, members=1, seed=seed)
    ts.manual_seed(seed)
    return demo.build_model(config, vocabularies)


def test_self_attention_equals_a_loop_over_each_sentence_alone():
    # Reference written out in numpy, one sentence and one word at a time, over that sentence's
    # own words only: whatever sits in the padding must not change a real word's context.
    import numpy as np

    import tinyseq as ts

    demo = load_demo_module()
    tagger = _attention_tagger(demo, seed=1)
    rng = np.random.default_rng(0)
    lengths = np.array([4, 1, 3])
    states = rng.normal(size=(3, 4, 6)).astype(np.float32)
    states[1, 1:] = 1e3 * rng.normal(size=(3, 6))  # loud padding
    out = tagger.attend(ts.tensor(states), lengths).numpy()
    assert out.shape == (3, 4, 6 + 5)
    W = {name: (getattr(tagger, name).weight.numpy().astype(np.float64), getattr(tagger, name).bias.numpy())
         for name in ("query", "key", "value")}
    for row, length in enumerate(lengths):
        h = states[row, :length].astype(np.float64)
        q, k, v = (h @ W[name][0].T + W[name][1] for name in ("query", "key", "value"))
        for t in range(length):
            logits = np.array([q[t] @ k[j] for j in range(length)]) / np.sqrt(5)
            weights = np.exp(logits - logits.max())
            weights /= weights.sum()
            context = sum(weights[j] * v[j] for j in range(length))
            np.testing.assert_allclose(out[row, t, :6], states[row, t])
            np.testing.assert_allclose(out[row, t, 6:], context, rtol=1e-4, atol=1e-5)


def test_self_attention_gradients_match_finite_differences():
    import numpy as np

    import tinyseq as ts

    demo = load_demo_module()
    ts.set_default_dtype(np.float64)
    try:
        tagger = _attention_tagger(demo, seed=2)
    finally:
        ts.set_default_dtype(np.float32)
    states = ts.tensor(np.random.default_rng(1).normal(size=(2, 3, 6)), dtype=np.float64, requires_grad=True)
    lengths = np.array([3, 2])

    def attend(states, query_weight, key_weight, value_weight):
        # gradcheck passes copies of its inputs: put the weights' copies into the layers
        tagger.query.weight, tagger.key.weight, tagger.value.weight = query_weight, key_weight, value_weight
        return tagger.attend(states, lengths)

    weights = [tagger.query.weight, tagger.key.weight, tagger.value.weight]
    assert all(w.dtype == np.float64 and w.requires_grad for w in weights)
    assert ts.gradcheck(attend, [states, *weights])


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="looks for the worker in /proc (Linux)")
def test_a_worker_ends_when_the_demo_that_started_it_is_killed(tmp_path):
    # A parent process starts a worker pool as the demo does, prints its worker's pid, gives it an
    # hour-long task and is then killed with SIGKILL (no chance to clean up); the worker must notice
    # and exit by itself.
    import signal
    import time

    script = tmp_path / "parent.py"
    script.write_text(
        "import concurrent.futures, multiprocessing, os, sys, time\n"
        f"sys.path.insert(0, {str(DEMO.parent)!r})\n"
        "import slot_filling as demo  # by name, so that a worker can import it to find the initializer\n"
        "if __name__ == '__main__':\n"
        "    pool = concurrent.futures.ProcessPoolExecutor(1, initializer=demo.exit_with_parent,\n"
        "                                                  mp_context=multiprocessing.get_context('spawn'))\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    pool.submit(time.sleep, 3600)  # busy, as a worker training a member is\n"
        "    time.sleep(60)\n")
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=environment)
    worker = None
    try:
        worker = int(parent.stdout.readline())
        assert Path(f"/proc/{worker}").exists()
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{worker}").exists(), f"worker {worker} outlived its parent"
    finally:
        parent.kill()
        if worker is not None and Path(f"/proc/{worker}").exists():
            os.kill(worker, signal.SIGKILL)  # the test failed: do not leave the orphan sleeping


def test_max_updates_caps_the_epochs(tmp_path):
    """The smoke corpus has 200 training sentences: 4 batches of 64 an epoch. --max-updates 7 leaves
    room for one epoch (of the smoke run's 2), --max-updates 8 for both."""
    capped = run_demo("--smoke", "--max-updates", "7", "--out", str(tmp_path / "capped"))
    assert capped.returncode == 0, capped.stderr
    assert "--max-updates 7: 1 epochs of 4 batches" in capped.stdout
    assert "epoch  1" in capped.stdout and "epoch  2" not in capped.stdout
    full = run_demo("--smoke", "--max-updates", "8", "--out", str(tmp_path / "full"))
    assert full.returncode == 0, full.stderr
    assert "--max-updates" not in full.stdout and "epoch  2" in full.stdout


def test_an_explicit_epochs_is_capped_only_by_an_explicit_max_updates():
    """The default schedule (24 epochs, at most 3,300 updates) caps itself; --epochs 30 on its own
    means 30 epochs, and --max-updates caps whichever --epochs is in force."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("slot_filling_flags", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    defaults = demo.parse_args([])
    assert (defaults.epochs, defaults.max_updates) == (24, 3300)
    asked = demo.parse_args(["--epochs", "30"])
    assert (asked.epochs, asked.max_updates) == (30, None)
    both = demo.parse_args(["--epochs", "30", "--max-updates", "100"])
    assert (both.epochs, both.max_updates) == (30, 100)
    capped_default = demo.parse_args(["--max-updates", "100"])
    assert (capped_default.epochs, capped_default.max_updates) == (24, 100)
    with pytest.raises(demo.UsageError, match="--epochs must be at least 1, got 0"):
        demo.parse_args(["--epochs", "0"])
