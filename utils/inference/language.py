"""The line reader's language model: how common each syllable is, and how often a space falls between two
kinds of character (none before a full stop, one after a comma). Counted from training text by
train_lines.py and shipped beside the model as ``language.json``; it only weighs readings the networks
already offer, so a syllable it never saw can still be read.
"""
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from utils.data.hangul import FIRST_SYLLABLE, SYLLABLE_COUNT, is_syllable
from utils.io import read_json, write_json

OPENING, CLOSING = '([{<“‘', ')]}>”’.,!?;:…'
KINDS = ('hangul', 'digit', 'capital', 'small', 'opening', 'closing', 'mark')
FORMAT = 'koocr-language-1'


def kind_of(char):
    """The index in KINDS of one character other than a space."""
    if is_syllable(char):
        return 0
    if char.isascii() and char.isdigit():
        return 1
    if char.isascii() and char.isalpha():
        return 2 if char.isupper() else 3
    return 4 if char in OPENING else 5 if char in CLOSING else 6


@dataclass(frozen=True)
class LanguageModel:
    """``space[a, b]``: the log-odds of a space between neighbours of kinds a and b (indices in KINDS);
    ``syllables[s]``: log P(syllable s | a syllable), s the offset from 가."""
    space: np.ndarray
    syllables: np.ndarray

    @classmethod
    def count(cls, lines, smoothing=0.5):
        """Counted from text lines, every count raised by ``smoothing`` so that nothing is impossible."""
        spaced = np.zeros((len(KINDS), len(KINDS), 2))
        syllables = np.zeros(SYLLABLE_COUNT)
        for line in lines:
            text = ' '.join(line.split())
            chars = text.replace(' ', '')
            kinds = [kind_of(c) for c in chars]
            for c in chars:
                if is_syllable(c):
                    syllables[ord(c) - FIRST_SYLLABLE] += 1
            # Each character but the last, and whether a space parts it from the next.
            gaps = [int(b == ' ') for a, b in pairwise(text) if a != ' ']
            np.add.at(spaced, (kinds[:-1], kinds[1:], gaps), 1)
        spaced += smoothing
        syllables += smoothing
        return cls(np.log(spaced[..., 1] / spaced[..., 0]), np.log(syllables / syllables.sum()))

    @classmethod
    def load(cls, path):
        """From a ``save``d JSON file; a ValueError naming the file when it is not one."""
        content = read_json(path, 'a language model file')
        shapes = {'space': (len(KINDS), len(KINDS)), 'syllables': (SYLLABLE_COUNT,)}
        try:
            if content.get('format') != FORMAT:
                raise ValueError(f"format {content.get('format')!r}, expected {FORMAT!r}")
            arrays = {'space': np.asarray(content['space'], np.float64)}
            seen = content['syllables']
            arrays['syllables'] = np.full(SYLLABLE_COUNT, float(seen['unseen']))
            arrays['syllables'][[ord(c) - FIRST_SYLLABLE for c in seen['text']]] = seen['log_p']
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as e:
            raise ValueError(f'{path}: not a language model file ({type(e).__name__}: {e})') from None
        for name, shape in shapes.items():
            if arrays[name].shape != shape or not np.isfinite(arrays[name]).all():
                raise ValueError(f'{path}: {name} must be {shape} finite numbers, got {arrays[name].shape}')
        return cls(**arrays)

    def save(self, path, **record):
        """Write it as JSON (atomically), with ``record`` (how it was counted) beside the numbers; the
        syllables seen in counting are listed, the rest share the smallest log-probability."""
        unseen = float(self.syllables.min())
        seen = np.flatnonzero(self.syllables > unseen)
        write_json(path, {'format': FORMAT, **record, 'kinds': list(KINDS),
                          'space': np.round(self.space, 3).tolist(),
                          'syllables': {'unseen': round(unseen, 3),
                                        'text': ''.join(chr(FIRST_SYLLABLE + s) for s in seen),
                                        'log_p': np.round(self.syllables[seen], 3).tolist()}})

