"""Masked-LM masking on the fly, vectorised over a batch, deterministic per instance key.

Every strategy selects whole *units* until about ``mlm_probability`` of the maskable tokens
are covered, then replaces each selected unit by [MASK] (80%), random tokens (10%) or keeps
it (10%); every selected token is predicted.

    subword  a unit is one token (BERT's basic masking)
    space    a unit is one whitespace unit (eojeol): all its sub-words are masked together
    ngram    a unit is a span of 1..max_ngram consecutive eojeols, span length n drawn with
             p(n) proportional to 1/n (the eojeols are cut into such spans, then spans are chosen)

Units are taken in an order drawn from the instance key; a unit is selected while the middle
of its cumulative token count stays under the budget, so the rate is right on average for any
unit length. ``ngram_share`` (per batch, from the mask schedule) picks the n-gram strategy for
that share of instances and the base strategy for the rest. Keys come from (seed, epoch,
index), so the same instance in the same epoch is masked identically (a resumed run sees the
same masks) and differently in every other epoch.
"""

import numpy as np

from claf.config.errors import ConfigError
from claf.pretrain import rng

STRATEGIES = ("subword", "space", "ngram")
SELECT_STREAM, RANDOM_STREAM, STRATEGY_STREAM, NGRAM_STREAM = 1, 3, 4, 5
IGNORE_INDEX = -100


class Masker:
    def __init__(
        self,
        specials,
        strategy="subword",
        mlm_probability=0.15,
        mask_replace_prob=0.8,
        random_replace_prob=0.1,
        max_ngram=3,
    ):
        if strategy not in STRATEGIES:
            raise ConfigError(f"masking.strategy '{strategy}' is not one of {', '.join(STRATEGIES)}")
        if not 0 < mlm_probability < 1:
            raise ConfigError(f"masking.mlm_probability must be in (0, 1), got {mlm_probability}")
        if mask_replace_prob < 0 or random_replace_prob < 0 or mask_replace_prob + random_replace_prob > 1:
            raise ConfigError("masking.mask_replace_prob + random_replace_prob must be within [0, 1]")
        if int(max_ngram) < 1:
            raise ConfigError(f"masking.max_ngram must be >= 1, got {max_ngram}")
        self.specials = specials
        self.strategy, self.p = strategy, float(mlm_probability)
        self.mask_p, self.random_p = float(mask_replace_prob), float(random_replace_prob)
        self.max_ngram = int(max_ngram)
        weights = 1.0 / np.arange(1, self.max_ngram + 1)
        self.ngram_cdf = np.cumsum(weights / weights.sum())
        allowed = np.ones(specials.vocab_size, dtype=bool)
        allowed[specials.all[specials.all < specials.vocab_size]] = False
        self.random_ids = np.flatnonzero(allowed)

    def __call__(self, batch, keys, ngram_share=0.0, return_units=False):
        """Mask ``batch`` (from build_instances) in place of a copy: adds ``labels``; keys: one per row."""
        keys = np.asarray(keys, dtype=np.uint64)
        ids = batch["input_ids"]
        rows, width = ids.shape
        candidate = ~batch["special"]
        strategy = np.full(rows, STRATEGIES.index(self.strategy))
        if self.strategy != "ngram" and ngram_share > 0:
            strategy[rng.uniform(keys, 0, STRATEGY_STREAM) < ngram_share] = STRATEGIES.index("ngram")
        units = self._units(batch["word_starts"], candidate, keys, strategy)

        # Unit ids grow along a row, so in row-major order the candidates' units come in runs.
        where = np.flatnonzero(candidate)  # flat positions of the candidates, row-major
        rows_c, units_c = where // width, units.ravel()[where]
        flat = rows_c * (width + 1) + units_c
        new_unit = np.ones(len(flat), dtype=bool)
        new_unit[1:] = flat[1:] != flat[:-1]
        unit_first = np.flatnonzero(new_unit)
        inverse = np.cumsum(new_unit) - 1
        counts = np.diff(np.append(unit_first, len(flat)))
        unit_row, unit_local = rows_c[unit_first], units_c[unit_first]
        # Units in a random order per row (rows stay grouped: row + key, key in [0, 1)).
        # One hash per unit: its high bits order the units, its low bits pick [MASK] / random / keep.
        unit_hash = rng.combine(rng.combine(keys, SELECT_STREAM)[unit_row], unit_local)
        order = np.argsort(unit_row + rng.to_unit(unit_hash))
        sorted_rows, sorted_len = unit_row[order], counts[order]
        cumulative = np.cumsum(sorted_len)
        row_first = np.searchsorted(sorted_rows, np.arange(rows), "left")
        before = np.concatenate([[0], cumulative])[row_first]  # tokens of earlier rows
        budget = self.p * candidate.sum(axis=1)
        within = cumulative - before[sorted_rows]
        chosen_sorted = within - sorted_len / 2.0 < budget[sorted_rows]
        chosen_sorted[row_first[row_first < len(order)]] = True  # at least one unit per non-empty row
        chosen = np.empty_like(chosen_sorted)
        chosen[order] = chosen_sorted

        token_chosen = chosen[inverse]
        picked = where[token_chosen]
        token_action = rng.low_unit(unit_hash[inverse[token_chosen]])
        out = dict(batch)
        labels = np.full(ids.shape, IGNORE_INDEX, dtype=np.int64)
        labels.ravel()[picked] = ids.ravel()[picked]
        out["labels"] = labels
        masked = ids.copy()
        flat_masked = masked.ravel()
        flat_masked[picked[token_action < self.mask_p]] = self.specials.mask
        to_random = picked[(token_action >= self.mask_p) & (token_action < self.mask_p + self.random_p)]
        if len(to_random):
            row_keys = rng.combine(keys, RANDOM_STREAM)[to_random // width]
            draws = rng.integers(row_keys, to_random % width, 0, len(self.random_ids))
            flat_masked[to_random] = self.random_ids[draws]
        out["input_ids"] = masked
        if return_units:
            out["units"] = np.where(candidate, units, -1)
            out["strategy"] = strategy
        return out

    def _units(self, word_starts, candidate, keys, strategy):
        """Row-local unit id of every token (meaningful for candidates only)."""
        rows, width = candidate.shape
        positions = np.broadcast_to(np.arange(width), (rows, width))
        after_special = np.ones_like(candidate)
        after_special[:, 1:] = ~candidate[:, :-1]
        starts = candidate & (word_starts | after_special)
        eojeol = np.maximum(np.cumsum(starts, axis=1) - 1, 0)
        units = np.where((strategy == 0)[:, None], positions, eojeol)
        ngram_rows = np.flatnonzero(strategy == 2)
        if len(ngram_rows):
            spans = self.ngram_spans(keys[ngram_rows], width)
            units[ngram_rows] = np.take_along_axis(spans, eojeol[ngram_rows], axis=1)
        return units

    def ngram_spans(self, keys, width):
        """[rows, width]: the span id of each eojeol index when the eojeols are cut into 1..N spans."""
        rows = len(keys)
        draws = rng.uniform(keys[:, None], np.arange(width)[None, :], NGRAM_STREAM)
        lengths = np.searchsorted(self.ngram_cdf, draws, "right").clip(0, self.max_ngram - 1) + 1
        ends = np.cumsum(lengths, axis=1)
        stride = int(ends[:, -1].max()) + 1 if rows else 1
        offsets = (np.arange(rows) * stride)[:, None]
        span = np.searchsorted((ends + offsets).ravel(), (np.arange(width)[None, :] + offsets).ravel(), "right")
        return span.reshape(rows, width) - (np.arange(rows) * width)[:, None]
