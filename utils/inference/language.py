"""The line reader's language model: how common each syllable is, how often two kinds of character
neighbour each other (seldom a digit inside a Hangul word), how often a space falls between two kinds of
character (none before a full stop, one after a comma), and how much likelier than usual a space is after or
before each syllable (after the particle 를, seldom before the ending 다) and between a digit and each syllable
(none before the counter 개), and which marks, digits and letters follow each character (a full stop after 다, a
comma after 고). Counted from training text by train_lines.py and shipped beside the model as
``language.json``; it only weighs readings the networks already offer, so a syllable it never saw can still
be read.
"""
from dataclasses import dataclass, field
from functools import cache, cached_property
from collections import Counter
from itertools import pairwise

import numpy as np

from utils.data.hangul import FIRST_SYLLABLE, SYLLABLE_COUNT, is_syllable
from utils.data.symbols import SYMBOLS
from utils.io import read_json, write_json

OPENING, CLOSING = '([{<“‘', ')]}>”’.,!?;:…'
KINDS = ('hangul', 'digit', 'capital', 'small', 'opening', 'closing', 'mark')
HANGUL, DIGIT = KINDS.index('hangul'), KINDS.index('digit')
FORMAT = 'koocr-language-7'
SYLLABLE_SMOOTHING = 5.0  # gaps of the average syllable's rate added to each syllable's counts
PAIR_MIN_COUNT = 2        # pairs of syllables seen fewer times are not kept (the file stays ~300 KB)
PAIR_SMOOTHING = 10.0     # a syllable followed this many times trusts what followed it half
# The share of a symbol's probability spread evenly over all SYMBOLS: the help pages the model is counted from
# hold no ※ or ·, which a user's text may.
MARK_UNIFORM = 0.1


@cache   # the reader asks it for every reading of every run: a few hundred distinct characters
def kind_of(char):
    """The index in KINDS of one character other than a space."""
    if is_syllable(char):
        return HANGUL
    if char.isascii() and char.isdigit():
        return DIGIT
    if char.isascii() and char.isalpha():
        return 2 if char.isupper() else 3
    return 4 if char in OPENING else 5 if char in CLOSING else 6


@dataclass(frozen=True)
class LanguageModel:
    """``space[a, b]``: the log-odds of a space between neighbours of kinds a and b (indices in KINDS);
    ``neighbours[a, b]``: log P(b | a) - log P(b) of the kinds of two neighbours, spaces left out;
    ``syllables[s]``: log P(syllable s | a syllable), s the offset from 가; ``after[s]`` and ``before[s]``:
    the log-odds of a space after (before) syllable s less those after (before) the average syllable;
    ``after_digit[s]``: the log-odds of a space between a digit and syllable s less those before the average
    syllable after a digit (21도, 3개 but 2 사용자); ``pairs``: how often each two syllables follow each other
    (spaces left out), {'가나': count}, and ``spaced``: how often of those with a space between, {'가나': count}
    (pairs never spaced left out); ``marks``: how often each symbol (a mark, digit or letter) was seen, and
    ``mark_pairs``: how often each symbol followed a character, {'다.': count}."""
    space: np.ndarray
    neighbours: np.ndarray
    syllables: np.ndarray
    after: np.ndarray
    before: np.ndarray
    after_digit: np.ndarray
    pairs: dict = field(default_factory=dict)
    spaced: dict = field(default_factory=dict)
    marks: dict = field(default_factory=dict)
    mark_pairs: dict = field(default_factory=dict)

    @classmethod
    def count(cls, lines, smoothing=0.5):
        """Counted from text lines, every count raised by ``smoothing`` so that nothing is impossible."""
        kind_gaps = np.zeros((len(KINDS), len(KINDS), 2))   # [no space, space] between two kinds
        syllables = np.zeros(SYLLABLE_COUNT)
        after, before, after_digit = (np.zeros((SYLLABLE_COUNT, 2)) for _ in range(3))
        pairs, spaced_pairs, marks, mark_pairs = Counter(), Counter(), Counter(), Counter()
        for line in lines:
            text = ' '.join(line.split())
            chars = text.replace(' ', '')
            kinds = [kind_of(c) for c in chars]
            for c in chars:
                if is_syllable(c):
                    syllables[ord(c) - FIRST_SYLLABLE] += 1
            # Each character but the last, and whether a space parts it from the next.
            gaps = [int(b == ' ') for a, b in pairwise(text) if a != ' ']
            np.add.at(kind_gaps, (kinds[:-1], kinds[1:], gaps), 1)
            for (a, b), gap in zip(pairwise(chars), gaps):
                if is_syllable(a):
                    after[ord(a) - FIRST_SYLLABLE, gap] += 1
                if is_syllable(b):
                    before[ord(b) - FIRST_SYLLABLE, gap] += 1
                    if kind_of(a) == DIGIT:
                        after_digit[ord(b) - FIRST_SYLLABLE, gap] += 1
                if is_syllable(a) and is_syllable(b):
                    pairs[a + b] += 1
                    spaced_pairs[a + b] += gap
                elif b in SYMBOLS:
                    mark_pairs[a + b] += 1
            marks.update(c for c in chars if c in SYMBOLS)
        kind_gaps += smoothing
        syllables += smoothing
        pairs_of_kinds = kind_gaps.sum(axis=2)
        following = pairs_of_kinds / pairs_of_kinds.sum(axis=1, keepdims=True)
        neighbours = np.log(following / (pairs_of_kinds.sum(axis=0) / pairs_of_kinds.sum()))
        return cls(np.log(kind_gaps[..., 1] / kind_gaps[..., 0]), neighbours, np.log(syllables / syllables.sum()),
                   _relative_odds(after), _relative_odds(before), _relative_odds(after_digit),
                   {pair: n for pair, n in sorted(pairs.items()) if n >= PAIR_MIN_COUNT},
                   {pair: n for pair, n in sorted(spaced_pairs.items()) if n and pairs[pair] >= PAIR_MIN_COUNT},
                   dict(sorted(marks.items())),
                   {pair: n for pair, n in sorted(mark_pairs.items()) if n >= PAIR_MIN_COUNT})

    @cached_property
    def _followed(self):
        """{syllable: how often a kept pair starts with it}."""
        return _first_counts(self.pairs)

    def syllable_log_p(self, previous, syllable):
        """log P(syllable | the character before it): what followed ``previous`` in the text, interpolated
        with how common ``syllable`` is (the more often ``previous`` was followed, the more weight it gets);
        just the latter when ``previous`` is None, not a syllable or never followed."""
        common = self.syllables[ord(syllable) - FIRST_SYLLABLE]
        followed = self._followed.get(previous, 0)
        if not followed:
            return common
        trust = followed / (followed + PAIR_SMOOTHING)
        return float(np.log(trust * self.pairs.get(previous + syllable, 0) / followed
                            + (1 - trust) * np.exp(common)))

    @cached_property
    def _mark_followed(self):
        """{character: how often a kept symbol pair starts with it}."""
        return _first_counts(self.mark_pairs)

    @cached_property
    def _mark_pmis(self):
        return {}  # (previous, symbol) -> mark_pmi: the reader asks for the same few again and again

    @cached_property
    def _mark_total(self):
        return max(1, sum(self.marks.values()))

    def mark_share(self, mark):
        """P(mark) among symbols: how common the symbol ``mark`` is in the text, MARK_UNIFORM spread evenly."""
        return _spread(self.marks.get(mark, 0) / self._mark_total)

    def mark_pmi(self, previous, mark):
        """How much likelier the symbol ``mark`` (a mark, digit or letter) is after the character ``previous``
        (None at a line's start) than anywhere: log P(mark | previous) - log P(mark). P(mark | previous) is
        what followed ``previous``, interpolated with how common the symbol is as ``syllable_log_p`` does;
        MARK_UNIFORM of both is spread evenly (``mark_share``). A symbol never counted, or a character never
        followed, says 0."""
        found = self._mark_pmis.get((previous, mark))
        if found is None:
            followed = self._mark_followed.get(previous, 0)
            found = 0.0
            if followed:
                trust = followed / (followed + PAIR_SMOOTHING)
                seen = self.mark_pairs.get(f'{previous}{mark}', 0) / followed
                after = trust * seen + (1 - trust) * self.marks.get(mark, 0) / self._mark_total
                found = float(np.log(_spread(after) / self.mark_share(mark)))
            self._mark_pmis[previous, mark] = found
        return found

    def syllable_odds(self, chars):
        """(after, before, pair, after_digit) per gap between neighbours ``chars`` (texts, spaces left out):
        ``after`` of the left one and ``before`` of the right one where they are syllables, else 0; ``pair``:
        the log-odds of a space between the two syllables as counted (smoothed towards what ``after`` and
        ``before`` expect) less what they expect, 0 for a pair not kept; ``after_digit`` of the right one
        where the left one is a digit, else 0."""
        index = np.array([ord(c) - FIRST_SYLLABLE if is_syllable(c) else -1 for c in chars], np.int64)
        after = np.where(index[:-1] >= 0, self.after[index[:-1]], 0.0)
        before = np.where(index[1:] >= 0, self.before[index[1:]], 0.0)
        digit = np.array([kind_of(c) == DIGIT for c in chars[:-1]], bool)
        after_digit = np.where(digit & (index[1:] >= 0), self.after_digit[index[1:]], 0.0)
        pair = np.zeros(len(after))
        for k, (a, b) in enumerate(pairwise(chars)):
            seen = self.pairs.get(a + b, 0)
            if seen:
                expected = 1 / (1 + np.exp(-(self.space_rate + after[k] + before[k])))
                spaced = self.spaced.get(a + b, 0)
                odds = (spaced + SYLLABLE_SMOOTHING * expected) / (seen - spaced + SYLLABLE_SMOOTHING * (1 - expected))
                pair[k] = np.log(odds) - np.log(expected / (1 - expected))
        return after, before, pair, after_digit

    @cached_property
    def space_rate(self):
        """The log-odds of a space between two syllables, from the pairs kept."""
        seen, spaced = sum(self.pairs.values()), sum(self.spaced.values())
        return float(np.log((spaced + 0.5) / (seen - spaced + 0.5)))

    @classmethod
    def load(cls, path):
        """From a ``save``d JSON file; a ValueError naming the file when it is not one."""
        content = read_json(path, 'a language model file')
        per_syllable = ('syllables', 'after', 'before', 'after_digit')
        shapes = {**dict.fromkeys(('space', 'neighbours'), (len(KINDS), len(KINDS))),
                  **dict.fromkeys(per_syllable, (SYLLABLE_COUNT,))}
        try:
            if content.get('format') != FORMAT:
                raise ValueError(f"format {content.get('format')!r}, expected {FORMAT!r}")
            arrays = {name: np.asarray(content[name], np.float64) for name in ('space', 'neighbours')}
            for name in per_syllable:
                seen = content[name]
                text = seen['text']
                if not all(map(is_syllable, text)) or not len(set(text)) == len(text) == len(seen['values']):
                    raise ValueError(f'{name}: its text must be distinct syllables, one per value')
                arrays[name] = np.full(SYLLABLE_COUNT, float(seen['unseen']))
                arrays[name][[ord(c) - FIRST_SYLLABLE for c in text]] = seen['values']
            kept = content['pairs']
            pairs = _counts(kept, 2)
            spaced = {pair: n for pair, n in zip(pairs, map(int, kept['spaced'].split()), strict=True) if n}
            marks = _counts(content['marks'], 1)
            mark_pairs = _counts(content['mark_pairs'], 2)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as e:
            raise ValueError(f'{path}: not a language model file ({type(e).__name__}: {e})') from None
        for name, shape in shapes.items():
            if arrays[name].shape != shape or not np.isfinite(arrays[name]).all():
                raise ValueError(f'{path}: {name} must be {shape} finite numbers, got {arrays[name].shape}')
        if not all(len(pair) == 2 and all(map(is_syllable, pair)) and 0 <= spaced.get(pair, 0) <= n
                   for pair, n in pairs.items()):
            raise ValueError(f'{path}: pairs must be two syllables each, seen more often than spaced')
        if not all(mark in SYMBOLS for mark in marks) or not all(pair[1] in SYMBOLS for pair in mark_pairs):
            raise ValueError(f'{path}: marks and the second character of mark_pairs must be symbols')
        return cls(**arrays, pairs=pairs, spaced=spaced, marks=marks, mark_pairs=mark_pairs)

    def save(self, path, **record):
        """Write it as JSON (atomically), with ``record`` (how it was counted) beside the numbers; per syllable,
        those seen in counting are listed and the rest share one value (the smallest log-probability, 0 odds)."""
        write_json(path, {'format': FORMAT, **record, 'kinds': list(KINDS),
                          'space': np.round(self.space, 3).tolist(),
                          'neighbours': np.round(self.neighbours, 3).tolist(),
                          'syllables': _sparse(self.syllables, float(self.syllables.min())),
                          'after': _sparse(self.after, 0.0), 'before': _sparse(self.before, 0.0),
                          'after_digit': _sparse(self.after_digit, 0.0),
                          'pairs': {**_listed(self.pairs),
                                    'spaced': ' '.join(str(self.spaced.get(pair, 0)) for pair in self.pairs)},
                          'marks': _listed(self.marks), 'mark_pairs': _listed(self.mark_pairs)})


def _spread(probability):
    """A symbol's probability with MARK_UNIFORM of all symbols' spread evenly over them."""
    return (1 - MARK_UNIFORM) * probability + MARK_UNIFORM / len(SYMBOLS)


def _first_counts(pairs):
    """{two-character text: count} -> {first character: the counts of the texts it starts}."""
    totals = Counter()
    for pair, n in pairs.items():
        totals[pair[0]] += n
    return totals


def _listed(counts):
    """{text: count} -> {'text': the texts run together, 'counts': the counts, space-separated}."""
    return {'text': ''.join(counts), 'counts': ' '.join(map(str, counts.values()))}


def _counts(listed, length):
    """The {text: count} of ``_listed``, each text ``length`` characters long."""
    text = listed['text']
    return dict(zip((text[k:k + length] for k in range(0, len(text), length)), map(int, listed['counts'].split()),
                    strict=True))


def _sparse(values, unseen):
    seen = np.flatnonzero(np.round(values, 3) != round(unseen, 3))
    return {'unseen': round(unseen, 3), 'text': ''.join(chr(FIRST_SYLLABLE + s) for s in seen),
            'values': np.round(values[seen], 3).tolist()}


def _relative_odds(counts):
    """(SYLLABLE_COUNT, 2) counts of [no space, space] -> each syllable's log-odds of a space less the average
    syllable's, its counts raised by SYLLABLE_SMOOTHING gaps at the average rate (0 for one never seen)."""
    total = counts.sum()
    if not total or not counts[:, 1].sum() or not counts[:, 0].sum():
        return np.zeros(SYLLABLE_COUNT)
    rate = counts[:, 1].sum() / total
    spaced = counts[:, 1] + SYLLABLE_SMOOTHING * rate
    unspaced = counts[:, 0] + SYLLABLE_SMOOTHING * (1 - rate)
    return np.log(spaced / unspaced) - np.log(rate / (1 - rate))
