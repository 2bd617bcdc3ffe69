"""LaRva data pipeline on real Korean text: shards, instances, masking, schedules, the batch stream."""

import numpy as np
import pytest

from claf.config import resolve_config
from claf.config.errors import ConfigError
from claf.config.specs.pretrain import InstancesSpec
from claf.pretrain import rng
from claf.pretrain.corpus import split_sentences
from claf.pretrain.instances import Specials, build_instances, instance_lengths
from claf.pretrain.masking import IGNORE_INDEX, Masker
from claf.pretrain.plans import Plan
from claf.pretrain.prepare import prepare_corpus
from claf.pretrain.schedules import LengthSchedule, MaskSchedule
from claf.pretrain.stream import PretrainBatches, StepLayout, group_order
from claf.pretrain.tokenizer import load_tokenizer

LINES = 3000


@pytest.fixture(scope="module")
def ko(mirror, tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain_data")
    lines = []
    with open(mirror / "corpus" / "ko" / "nsmc_raw_reviews.txt", encoding="utf-8") as f:
        for line in f:
            lines.append(line.rstrip("\n"))
            if len(lines) == LINES:
                break
    source = root / "reviews.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tokenizer, folder = load_tokenizer(mirror / "vocab" / "koelectra")
    corpus = prepare_corpus([str(source)], tokenizer, folder, root / "prepared", shard_size_mb=0.04)
    return {
        "lines": lines,
        "source": source,
        "tokenizer": tokenizer,
        "folder": folder,
        "corpus": corpus,
        "root": root,
        "specials": Specials(tokenizer),
        "mirror": mirror,
    }


def test_shards_round_trip_ids_and_boundaries(ko):
    corpus, tokenizer = ko["corpus"], ko["tokenizer"]
    assert len(corpus.shards) >= 3
    sizes = [s.num_tokens for s in corpus.shards[:-1]]
    assert max(sizes) < 1.25 * min(sizes)  # similar sizes (the last one takes the rest)
    documents = [d for d in (split_sentences(line) for line in ko["lines"]) if d]
    stored = []
    for shard in corpus.shards:
        for d in range(shard.num_documents):
            sentences = []
            for s in range(int(shard.documents[d]), int(shard.documents[d + 1])):
                a, b = int(shard.sentences[s]), int(shard.sentences[s + 1])
                sentences.append((shard.tokens[a:b].tolist(), shard.word_starts(a, b)))
            stored.append(sentences)
    assert len(stored) == len(documents)
    for doc, sentences in zip(documents[::97], stored[::97]):
        assert len(doc) == len(sentences)
        for text, (ids, starts) in zip(doc, sentences):
            assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
            pieces = tokenizer.convert_ids_to_tokens(ids)
            words = ["".join(p[2:] if p.startswith("##") else p for p in group) for group in _groups(pieces, starts)]
            assert len(words) == len(text.split())  # one unit per eojeol
    report = corpus.report()
    assert report["tokens"] == sum(s.num_tokens for s in corpus.shards)
    assert report["raw_bytes"] == ko["source"].stat().st_size
    assert 0 < report["shards_vs_raw"] < 1  # compact: below the raw UTF-8 text


def _groups(pieces, starts):
    groups = []
    for piece, start in zip(pieces, starts):
        if start or not groups:
            groups.append([])
        groups[-1].append(piece)
    return groups


def test_prepare_reuses_same_tokenizer_and_redoes_changed(ko, tmp_path):
    again = prepare_corpus(
        [str(ko["source"])], ko["tokenizer"], ko["folder"], ko["root"] / "prepared", shard_size_mb=0.04
    )
    assert again.reused and again.folder == ko["corpus"].folder
    changed = tmp_path / "tok"
    changed.mkdir()
    for f in ko["folder"].iterdir():
        if f.is_file():
            (changed / f.name).write_bytes(f.read_bytes())
    (changed / "tokenizer_config.json").write_text(
        (ko["folder"] / "tokenizer_config.json").read_text().replace("512", "256")
    )
    other = prepare_corpus([str(ko["source"])], ko["tokenizer"], changed, ko["root"] / "prepared", shard_size_mb=0.04)
    assert not other.reused and other.folder != ko["corpus"].folder


def test_full_sentence_packing(ko):
    plan = Plan(ko["corpus"], "full_sentence", 64)
    specials = ko["specials"]
    indices = np.arange(len(plan))
    covered = {}
    for start in range(0, len(plan), 256):
        chunk = indices[start : start + 256]
        batch = build_instances(plan, chunk, rng.instance_keys(0, 0, chunk), specials)
        lengths = batch["attention_mask"].sum(1)
        assert lengths.max() <= 64
        assert (batch["input_ids"][:, 0] == specials.cls).all()
        assert (batch["input_ids"][np.arange(len(chunk)), lengths - 1] == specials.sep).all()
        for row, i in enumerate(chunk):
            shard = ko["corpus"].shards[plan.shard[i]]
            first, last = int(plan.first[i]), int(plan.last[i])
            ids = batch["input_ids"][row, 1 : lengths[row] - 1]
            # [SEP] exactly where a document starts inside the span, the tokens in order otherwise
            inner = [d for d in shard.doc_token_starts.tolist() if first < d < last]
            expected = []
            for p in range(first, last):
                if p in inner:
                    expected.append(specials.sep)
                expected.append(int(shard.tokens[p]))
            assert ids.tolist() == expected
            covered.setdefault(int(plan.shard[i]), []).append((first, last))
    for shard_id, spans in covered.items():  # consecutive: every token once, in order
        spans.sort()
        assert spans[0][0] == 0 and spans[-1][1] == ko["corpus"].shards[shard_id].num_tokens
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    # packing fills instances: the next sentence would not have fitted
    assert np.mean(plan.last - plan.first) > 40


def test_sentence_pair_instances_and_nsp(ko):
    plan = Plan(ko["corpus"], "sentence_pair", 64)
    specials = ko["specials"]
    multi = np.flatnonzero(plan.last - plan.first >= 2)
    assert len(multi) > 200
    keys = rng.instance_keys(3, 0, multi)
    batch = build_instances(plan, multi, keys, specials)
    labels = batch["next_sentence_label"]
    assert 0.4 < labels.mean() < 0.6  # 50% random next among chunks that can be split
    for row, i in enumerate(multi[:200]):
        ids = batch["input_ids"][row]
        length = batch["attention_mask"][row].sum()
        assert length <= 64
        seps = np.flatnonzero(ids[:length] == specials.sep)
        assert len(seps) == 2 and seps[1] == length - 1
        types = batch["token_type_ids"][row][:length]
        assert (types[: seps[0] + 1] == 0).all() and (types[seps[0] + 1 :] == 1).all()
        shard = ko["corpus"].shards[plan.shard[i]]
        a = ids[1 : seps[0]].tolist()
        b = ids[seps[0] + 1 : seps[1]].tolist()
        doc = shard.tokens[int(shard.sentences[plan.first[i]]) : int(shard.sentences[plan.last[i]])].tolist()
        assert doc[: len(a)] == a  # A starts the chunk
        if labels[row] == 0:  # B continues A in the same document
            assert _contains(doc, a + b) or doc[len(a) : len(a) + len(b)] == b
        else:
            assert not _contains(doc, a + b)
    again = build_instances(plan, multi, keys, specials)
    assert np.array_equal(again["input_ids"], batch["input_ids"])  # random next: same key, same pick


def test_random_next_is_a_same_position_slice_of_another_pair(ko, tmp_path):
    """Premise/hypothesis documents: a random next must be another document's hypothesis, not its
    premise + hypothesis, or the NSP head learns the length of B instead of whether B belongs."""
    spec = {
        "path": str(tmp_path / "nli.tsv"),
        "text_columns": [0, 1],
        "header": True,
        "sentence_split": False,
    }
    with open(ko["mirror"] / "kor-nlu" / "KorNLI" / "xnli.test.ko.tsv", encoding="utf-8") as f:
        lines = [next(f) for _ in range(1201)]
    with open(spec["path"], "w", encoding="utf-8") as f:
        f.writelines(lines)
    corpus = prepare_corpus([spec], ko["tokenizer"], ko["folder"], tmp_path / "prepared", shard_size_mb=0.05)
    plan = Plan(corpus, "sentence_pair", 128)
    assert len(plan) == 1200 and (plan.last - plan.first == 2).all()
    indices = np.arange(len(plan))
    batch = build_instances(plan, indices, rng.instance_keys(5, 0, indices), ko["specials"])
    labels = batch["next_sentence_label"]
    assert 0.4 < labels.mean() < 0.6
    b_length = (batch["token_type_ids"] * batch["attention_mask"]).sum(axis=1) - 1  # without its [SEP]
    for row in np.flatnonzero(labels == 1):
        i = indices[row]
        shard = corpus.shards[plan.shard[i]]
        hypotheses = {
            tuple(shard.tokens[int(shard.sentences[s + 1]) : int(shard.sentences[s + 2])].tolist())
            for s in plan.first[plan.shard == plan.shard[i]]
        }
        ids = batch["input_ids"][row]
        sep = int(np.flatnonzero(ids == ko["specials"].sep)[0])
        own = shard.tokens[int(shard.sentences[plan.first[i] + 1]) : int(shard.sentences[plan.last[i]])]
        b = tuple(ids[sep + 1 : sep + 1 + b_length[row]].tolist())
        assert b in hypotheses and b != tuple(own.tolist())
    # so B's length no longer tells a random next from a true one
    assert abs(b_length[labels == 1].mean() / b_length[labels == 0].mean() - 1) < 0.15


def test_copy_share_makes_rotated_copies_labelled_as_a_true_next(ko):
    plan = Plan(ko["corpus"], "sentence_pair", 64, copy_share=0.3)
    indices = np.flatnonzero(plan.last - plan.first >= 2)[:600]  # copies come from chunks of 2+ sentences
    keys = rng.instance_keys(3, 0, indices)
    batch = build_instances(plan, indices, keys, ko["specials"])
    plain = build_instances(Plan(ko["corpus"], "sentence_pair", 64), indices, keys, ko["specials"])
    assert np.array_equal(instance_lengths(plan, indices, keys), batch["attention_mask"].sum(axis=1))

    def row(b, r):
        ids = b["input_ids"][r][: b["attention_mask"][r].sum()].tolist()
        return ids, b["next_sentence_label"][r]

    changed = [r for r in range(len(indices)) if row(batch, r)[0] != row(plain, r)[0]]
    assert 0.2 < len(changed) / len(indices) < 0.4  # about copy_share of the instances; the rest as before
    shifted = 0
    for r in changed:
        ids, label = row(batch, r)
        sep = ids.index(ko["specials"].sep)
        a, b = ids[1:sep], ids[sep + 1 : -1]
        assert label == 0 and 0 < len(b) <= len(a)  # labelled as B belonging to A
        rotations = [k for k in range(len(b)) if a[: len(b)][k:] + a[: len(b)][:k] == b]
        assert rotations, (a, b)  # B is A's first tokens, rotated
        shifted += 0 not in rotations
    assert shifted > 0.7 * len(changed)  # by a random offset, not left in place
    assert plain["next_sentence_label"][changed].mean() > 0.3  # copies stand in for random nexts too
    with pytest.raises(ConfigError, match="instances.copy_share.*sentence_pair"):  # refused once, in the spec
        resolve_config("pretrain/larva_kor_tiny", {"instances.format": "full_sentence"}, kind="pretrain")
    for bad in (1.0, 1.7, -0.1):
        with pytest.raises(ConfigError, match="--instances.copy_share"):
            resolve_config("pretrain/larva_kor_tiny", {"instances.copy_share": bad}, kind="pretrain")


def test_copy_noise_replaces_a_drawn_share_of_each_copy_and_grades_its_label(ko):
    plain = Plan(ko["corpus"], "sentence_pair", 64)
    indices = np.flatnonzero(plain.last - plain.first >= 2)[:600]
    keys = rng.instance_keys(3, 0, indices)
    copies = build_instances(Plan(ko["corpus"], "sentence_pair", 64, copy_share=0.3), indices, keys, ko["specials"])
    noisy = build_instances(
        Plan(ko["corpus"], "sentence_pair", 64, copy_share=0.3, copy_noise=1.0), indices, keys, ko["specials"]
    )
    assert "next_sentence_target" not in copies  # off by default: the batch is what it was
    assert np.array_equal(noisy["attention_mask"], copies["attention_mask"])
    assert np.array_equal(noisy["next_sentence_label"], copies["next_sentence_label"])
    target = noisy["next_sentence_target"]
    changed = np.flatnonzero((noisy["input_ids"] != copies["input_ids"]).any(axis=1))
    a_copy = np.zeros(len(indices), dtype=bool)
    for r in range(len(indices)):  # the rows that are copies: B is a rotation of A's first tokens
        ids = copies["input_ids"][r][: copies["attention_mask"][r].sum()].tolist()
        sep = ids.index(ko["specials"].sep)
        a, b = ids[1:sep], ids[sep + 1 : -1]
        a_copy[r] = any(a[: len(b)][k:] + a[: len(b)][:k] == b for k in range(len(b)))
    assert set(changed) <= set(np.flatnonzero(a_copy))  # only copies change
    others = ~a_copy
    assert np.array_equal(target[others], copies["next_sentence_label"][others].astype(np.float32))
    mismatch = []
    for r in np.flatnonzero(a_copy):
        width = noisy["attention_mask"][r].sum()
        b = noisy["token_type_ids"][r][:width].astype(bool)
        differs = (noisy["input_ids"][r][:width] != copies["input_ids"][r][:width])[b][:-1]  # B less its [SEP]
        mismatch.append(differs.mean())
        assert differs.mean() <= target[r] + 1e-6  # a filler can draw the token it replaces, never the reverse
    mismatch, graded = np.array(mismatch), target[a_copy]
    assert np.abs(graded - mismatch).mean() < 0.05
    assert graded.min() < 0.1 and graded.max() > 0.9 and graded.std() > 0.2  # shares spread over [0, 1]
    half = build_instances(
        Plan(ko["corpus"], "sentence_pair", 64, copy_share=0.3, copy_noise=0.5), indices, keys, ko["specials"]
    )
    # the share is drawn in [0, copy_noise]: about copy_noise / 2 of a copy's tokens replaced on average
    assert 0.4 < graded.mean() < 0.6 and 0.17 < half["next_sentence_target"][a_copy].mean() < 0.33
    with pytest.raises(ConfigError, match="--instances.copy_share 0.3"):
        resolve_config(
            "pretrain/larva_kor_tiny", {"instances.copy_share": 0, "instances.copy_noise": 0.5}, kind="pretrain"
        )
    with pytest.raises(ConfigError, match="model.objective mlm_nsp"):
        resolve_config(
            "pretrain/larva_kor_tiny", {"model.objective": "mlm", "instances.copy_noise": 0.5}, kind="pretrain"
        )
    assert (
        resolve_config("pretrain/larva_kor_tiny", {"instances.copy_noise": 1.0}, kind="pretrain").instances.copy_noise
        == 1
    )


def test_copy_splice_keeps_copies_in_place_and_replaces_one_span_from_another_document(ko):
    plain = Plan(ko["corpus"], "sentence_pair", 64)
    indices = np.flatnonzero(plain.last - plain.first >= 2)[:600]
    keys = rng.instance_keys(3, 0, indices)
    spliced = Plan(ko["corpus"], "sentence_pair", 64, copy_share=0.3, copy_noise=1.0, copy_splice=True)
    batch = build_instances(spliced, indices, keys, ko["specials"])
    assert np.array_equal(instance_lengths(spliced, indices, keys), batch["attention_mask"].sum(axis=1))
    before = build_instances(plain, indices, keys, ko["specials"])
    copies = [r for r in range(len(indices)) if (batch["input_ids"][r] != before["input_ids"][r]).any()]
    others = np.setdiff1d(np.arange(len(indices)), copies)
    assert 0.2 < len(copies) / len(indices) < 0.4
    assert np.array_equal(batch["next_sentence_target"][others], before["next_sentence_label"][others])
    pairs = {tuple(ko["corpus"].shards[0].tokens[k : k + 2].tolist()) for k in range(20000)}
    shares, natural = [], 0
    for r in copies:
        ids = batch["input_ids"][r][: batch["attention_mask"][r].sum()].tolist()
        sep = ids.index(ko["specials"].sep)
        a, b, share = ids[1:sep], ids[sep + 1 : -1], float(batch["next_sentence_target"][r])
        assert batch["next_sentence_label"][r] == 0 and 0 < len(b) <= len(a)
        differs = [j for j in range(len(b)) if b[j] != a[j]]  # in place: no rotation
        span = round(share * len(b))
        assert abs(share * len(b) - span) < 1e-4  # the target is the share of B replaced
        if differs:  # one span, no longer than the share replaced (a filler may equal the token it replaces)
            assert differs[-1] - differs[0] + 1 <= span
            inside = b[differs[0] : differs[-1] + 1]
            natural += any(tuple(inside[k : k + 2]) in pairs for k in range(len(inside) - 1))
        shares.append(share)
    shares = np.array(shares)
    assert shares.min() == 0 and shares.max() == 1 and shares.std() > 0.2
    assert natural > 20  # the span is running text of another document, not scattered draws
    # a lone sentence is copied too (whole), where unspliced copies leave it as it is
    lone = np.flatnonzero(plain.last - plain.first < 2)[:400]
    keys = rng.instance_keys(3, 0, lone)
    alone = build_instances(spliced, lone, keys, ko["specials"])["next_sentence_target"]
    unspliced = Plan(ko["corpus"], "sentence_pair", 64, copy_share=0.3, copy_noise=1.0)
    assert (build_instances(unspliced, lone, keys, ko["specials"])["next_sentence_target"] == 1).all()
    assert 0.2 < (alone < 1).mean() < 0.4  # about copy_share of them are copies now (graded below 1)
    with pytest.raises(ConfigError, match="--instances.copy_noise 1.0"):
        resolve_config("pretrain/larva_kor_tiny", {"instances.copy_splice": True}, kind="pretrain")


def _contains(seq, sub):
    return any(seq[k : k + len(sub)] == sub for k in range(len(seq) - len(sub) + 1))


def _batch(ko, length=128, size=512, seed=1, epoch=0):
    plan = Plan(ko["corpus"], "full_sentence", length)
    indices = plan.epoch_order(seed, epoch)[:size]
    keys = rng.instance_keys(seed, epoch, indices, length)
    return build_instances(plan, indices, keys, ko["specials"]), keys


@pytest.mark.parametrize("strategy", ["subword", "space", "ngram"])
def test_masking_rate_and_replacement(ko, strategy):
    batch, keys = _batch(ko)
    out = Masker(ko["specials"], strategy)(batch, keys)
    selected = out["labels"] != IGNORE_INDEX
    candidates = ~batch["special"]
    assert abs(selected.sum() / candidates.sum() - 0.15) < 0.01
    assert not (selected & batch["special"]).any()
    assert (out["labels"][selected] == batch["input_ids"][selected]).all()
    masked = out["input_ids"][selected] == ko["specials"].mask
    kept = out["input_ids"][selected] == batch["input_ids"][selected]
    assert abs(masked.mean() - 0.8) < 0.04 and abs(kept.mean() - 0.1) < 0.04
    assert (out["input_ids"][~selected] == batch["input_ids"][~selected]).all()


def _eojeols(batch, row):
    """Token-column groups of each whitespace unit in a row (special tokens split units)."""
    groups, current = [], []
    for col in range(batch["input_ids"].shape[1]):
        if batch["special"][row, col]:
            if current:
                groups.append(current)
            current = []
        elif batch["word_starts"][row, col]:
            if current:
                groups.append(current)
            current = [col]
        else:
            current.append(col)
    if current:
        groups.append(current)
    return groups


def test_space_masking_takes_whole_eojeols(ko):
    batch, keys = _batch(ko, size=128)
    out = Masker(ko["specials"], "space")(batch, keys)
    selected = out["labels"] != IGNORE_INDEX
    multi_token_units = 0
    for row in range(len(keys)):
        for group in _eojeols(batch, row):
            flags = selected[row, group]
            assert flags.all() or not flags.any()
            multi_token_units += len(group) > 1 and flags.all()
    assert multi_token_units > 100


def test_ngram_spans_follow_inverse_length(ko):
    batch, keys = _batch(ko, size=256)
    masker = Masker(ko["specials"], "ngram", max_ngram=3)
    # The eojeols are cut into spans of n = 1..3 eojeols with p(n) proportional to 1/n ...
    spans = masker.ngram_spans(keys, 128)
    lengths = np.concatenate([np.bincount(row)[:-1] for row in spans])  # the last span of a row is cut short
    share = np.bincount(lengths, minlength=4)[1:4] / len(lengths)
    expected = np.array([1, 1 / 2, 1 / 3]) / (1 + 1 / 2 + 1 / 3)
    assert np.abs(share - expected).max() < 0.02, share
    # ... and masking takes whole spans: every eojeol of a chosen span, never part of one.
    out = masker(batch, keys, return_units=True)
    selected = out["labels"] != IGNORE_INDEX
    chosen_lengths = []
    for row in range(len(keys)):
        span_groups = {}
        for group in _eojeols(batch, row):
            units = set(out["units"][row, group].tolist())
            assert len(units) == 1  # an eojeol never straddles two spans
            span_groups.setdefault(units.pop(), []).append(group)
        for groups in span_groups.values():
            flags = np.concatenate([selected[row, g] for g in groups])
            assert flags.all() or not flags.any()
            if flags.all():
                chosen_lengths.append(len(groups))
    assert np.bincount(chosen_lengths)[2:].sum() > 0.3 * len(chosen_lengths)  # multi-eojeol spans are common


def test_masks_deterministic_per_instance_and_new_each_epoch(ko):
    plan = Plan(ko["corpus"], "full_sentence", 128)
    masker = Masker(ko["specials"], "space")
    indices = np.arange(64)
    keys = rng.instance_keys(7, 0, indices, 128)
    full = masker(build_instances(plan, indices, keys, ko["specials"]), keys)
    part = masker(build_instances(plan, indices[10:20], keys[10:20], ko["specials"]), keys[10:20])
    width = part["labels"].shape[1]
    assert np.array_equal(full["labels"][10:20, :width], part["labels"])  # batch-independent
    assert np.array_equal(full["input_ids"][10:20, :width], part["input_ids"])
    keys1 = rng.instance_keys(7, 1, indices, 128)
    other = masker(build_instances(plan, indices, keys1, ko["specials"]), keys1)
    assert np.array_equal(other["attention_mask"], full["attention_mask"])
    assert (other["labels"] != full["labels"]).any(axis=1).mean() > 0.95  # new masks every epoch
    assert not np.array_equal(plan.epoch_order(7, 0), plan.epoch_order(7, 1))


def test_schedules_switch_at_the_right_step():
    lengths = LengthSchedule([[90, 128, 32], [None, 512, 8]])
    assert lengths.at(0) == (128, 32) and lengths.at(89) == (128, 32) and lengths.at(90) == (512, 8)
    assert lengths.consumed(90, 128) == 90 * 32 and lengths.consumed(95, 512) == 5 * 8
    assert lengths.consumed(95, 128) == 90 * 32
    share = MaskSchedule(0.0, 0.5, 100, 200)
    assert share.ngram_share(0) == 0.0 and share.ngram_share(150) == 0.25 and share.ngram_share(500) == 0.5
    with pytest.raises(ValueError, match="until_step"):
        LengthSchedule([[90, 128, 32], [50, 512, 8]])


def test_stream_follows_schedules_and_global_batch(ko):
    lengths = LengthSchedule([[3, 32, 8], [None, 64, 4]])
    share = MaskSchedule(0.0, 1.0, 0, 4)

    def stream(accumulation):
        return PretrainBatches(
            ko["corpus"],
            ko["specials"],
            lengths,
            Masker(ko["specials"], "subword"),
            share,
            StepLayout(steps_per_epoch=5, accumulation=accumulation),
            InstancesSpec(format="full_sentence"),
            seed=5,
            as_tensors=False,
        )

    one, two = stream(1), stream(2)
    assert len(one) == 5 and len(two) == 10
    for step in range(5):
        whole = one.micro_batch(step)
        halves = [two.micro_batch(2 * step + m) for m in range(2)]
        assert whole["input_ids"].shape[0] == (8 if step < 3 else 4)
        assert whole["input_ids"].shape[1] <= (32 if step < 3 else 64)
        width = min(h["input_ids"].shape[1] for h in halves)
        joined = np.concatenate([h["input_ids"][:, :width] for h in halves])
        assert np.array_equal(whole["input_ids"][:, :width], joined)  # same data, any accumulation
    resumed = list(one.epoch(1, start=3))
    assert np.array_equal(resumed[0]["labels"], one.micro_batch(3)["labels"])
    # The n-gram share is 0 at step 0 and 1 from step 4: only then do the masks differ from subword masking.
    plain = PretrainBatches(
        ko["corpus"],
        ko["specials"],
        lengths,
        Masker(ko["specials"], "subword"),
        MaskSchedule(),
        StepLayout(steps_per_epoch=5),
        InstancesSpec(format="full_sentence"),
        seed=5,
        as_tensors=False,
    )
    assert np.array_equal(plain.micro_batch(0)["labels"], one.micro_batch(0)["labels"])
    assert not np.array_equal(plain.micro_batch(4)["labels"], one.micro_batch(4)["labels"])


@pytest.mark.parametrize("instance_format", ["sentence_pair", "full_sentence"])
def test_instance_lengths_match_built_instances(ko, instance_format):
    plan = Plan(ko["corpus"], instance_format, 64)
    indices = np.random.default_rng(0).permutation(len(plan))[:500]
    keys = rng.instance_keys(3, 1, indices, 64)
    built = build_instances(plan, indices, keys, ko["specials"])
    assert np.array_equal(instance_lengths(plan, indices, keys), built["attention_mask"].sum(axis=1))


def test_group_order_sorts_windows_into_whole_batches():
    order = np.random.default_rng(1).permutation(100)
    sizes = np.random.default_rng(2).integers(5, 60, 100)
    size_of = dict(zip(order.tolist(), sizes.tolist()))
    out = group_order(order, sizes, 10, 3, 4, np.random.default_rng(0))
    assert sorted(out.tolist()) == list(range(100))
    assert [size_of[i] for i in out[:4]] == sorted(sizes[:4].tolist())  # the ragged head: sorted in place
    for begin, end in ((4, 34), (34, 64), (64, 94)):
        assert set(out[begin:end].tolist()) == set(order[begin:end].tolist())  # a window keeps its instances
        ranked = sorted(sizes[begin:end].tolist())
        blocks = [ranked[k : k + 10] for k in range(0, 30, 10)]
        got = [sorted(size_of[i] for i in out[b : b + 10]) for b in range(begin, end, 10)]
        assert sorted(got) == blocks  # each batch is one block of the window's sorted order
    assert [size_of[i] for i in out[94:]] == sorted(sizes[94:].tolist())
    assert np.array_equal(out, group_order(order, sizes, 10, 3, 4, np.random.default_rng(0)))


def test_group_by_length_narrows_batches_and_keeps_each_epoch(ko):
    def stream(group):
        return PretrainBatches(
            ko["corpus"],
            ko["specials"],
            LengthSchedule([[None, 64, 16]]),
            Masker(ko["specials"], "subword"),
            MaskSchedule(),
            StepLayout(steps_per_epoch=10),
            InstancesSpec(format="sentence_pair", group_by_length=group),
            seed=3,
            as_tensors=False,
        )

    plain, grouped = stream(0), stream(8)
    n = len(plain.plan(64))
    for epoch in (0, 1):
        assert sorted(grouped.epoch_order(64, epoch).tolist()) == list(range(n))
    assert not np.array_equal(grouped.epoch_order(64, 0), plain.epoch_order(64, 0))

    def fill(source, first, count):
        real = width = 0
        for k in range(first, first + count):
            mask = source.micro_batch(k)["attention_mask"]
            real, width = real + mask.sum(), width + mask.size
        return real / width

    steps = n // 16
    assert n % 16, "the corpus must leave epoch 1's batches out of step with its blocks"
    assert fill(plain, 0, steps) < 0.75
    # Epoch 0, and epoch 1 whose batches start mid-way into a block of 16: padding all but gone.
    assert fill(grouped, 0, steps - 1) > 0.9 and fill(grouped, steps + 1, steps - 2) > 0.9
    # A fresh stream (a resumed run) builds the very same batch.
    assert np.array_equal(stream(8).micro_batch(steps + 5)["labels"], grouped.micro_batch(steps + 5)["labels"])
    with pytest.raises(ValueError, match="group_by_length"):
        stream(-1)
