"""Where the spaces fall in a line read: every gap between two neighbours described by a few numbers (its
width against the line's other gaps, its width measured from the pitch, the language model's odds of a
space between the two kinds, after and before the two syllables and between a digit and the syllable after
it), and a logistic model over them, fitted on training lines by train_lines.py and shipped beside the model
as ``spacing.json``.

Learnt rather than a fixed rule because faces differ: a space is 0.15 to 0.25 of the line height wide, and
the blank between two syllables of a proportional face can be as wide.
"""
from dataclasses import dataclass

import numpy as np

from utils.inference.preprocess import percentiles
from utils.io import read_json, write_json

FEATURES = ('blank', 'pitched', 'narrower', 'over_usual', 'over_median', 'over_threshold', 'language_odds',
            'both_hangul', 'few_gaps', 'after_syllable', 'before_syllable', 'syllable_pair', 'after_digit')
FORMAT = 'koocr-spacing-5'


def gap_features(blank, pitched, threshold, odds, both_hangul, after, before, pair, after_digit):
    """(gaps, len(FEATURES)) floats. ``blank``: the blank between neighbours, ``pitched``: the same
    measured from the pitch, or from a digit's cell to the syllable after it (``blank`` between other
    neighbours of different kinds), both in line heights;
    ``threshold``: the line's widest usual gap by Otsu's split; ``odds``: the language model's log-odds
    of a space between the neighbours' kinds; ``both_hangul``: booleans; ``after``, ``before``, ``pair``,
    ``after_digit``: its ``syllable_odds`` of the neighbours."""
    narrower = np.minimum(blank, pitched)
    usual, median = percentiles(narrower, (25, 50))
    few = np.full(len(blank), 1.0 / len(blank))
    return np.stack([blank, pitched, narrower, narrower - usual, narrower - median, narrower - threshold,
                     odds, np.asarray(both_hangul, np.float64), few, after, before, pair, after_digit], axis=1)


@dataclass(frozen=True)
class SpaceModel:
    """P(space) = sigmoid(features @ weights + bias)."""
    weights: np.ndarray
    bias: float

    def spaces(self, features):
        """A boolean per gap: True where a space is likelier than not."""
        return features @ self.weights + self.bias > 0

    @classmethod
    def fit(cls, features, labels):
        """Logistic regression (scikit-learn) on standardized features, folded back to raw ones."""
        from sklearn.linear_model import LogisticRegression
        labels = np.asarray(labels, bool)
        if labels.all() or not labels.any():
            raise ValueError(f'{len(labels)} gaps of one kind only: fitting needs spaces and non-spaces')
        mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-9
        fitted = LogisticRegression(C=1.0, max_iter=1000).fit((features - mean) / scale, labels)
        weights = fitted.coef_[0] / scale
        return cls(weights, float(fitted.intercept_[0] - weights @ mean))

    @classmethod
    def load(cls, path):
        """From a ``save``d JSON file; a ValueError naming the file when it is not one."""
        content = read_json(path, 'a spacing model file')
        try:
            if content.get('format') != FORMAT or content.get('features') != list(FEATURES):
                raise ValueError(f'format {content.get("format")!r} over {content.get("features")}, expected '
                                 f'{FORMAT!r} over {list(FEATURES)}')
            weights, bias = np.asarray(content['weights'], np.float64), float(content['bias'])
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f'{path}: not a spacing model file ({type(e).__name__}: {e})') from None
        if weights.shape != (len(FEATURES),) or not np.isfinite([*weights, bias]).all():
            raise ValueError(f'{path}: weights must be {len(FEATURES)} finite numbers, got {weights.shape}')
        return cls(weights, bias)

    def save(self, path, **record):
        """Write it as JSON (atomically), with ``record`` (how it was fitted) beside the numbers."""
        write_json(path, {'format': FORMAT, **record, 'features': list(FEATURES),
                          'weights': [round(float(w), 5) for w in self.weights], 'bias': round(self.bias, 5)})


class GapRecorder:
    """Stands in for a SpaceModel while fitting one: keeps every line's gap features, puts no spaces."""

    def __init__(self):
        self.lines = []

    def spaces(self, features):
        self.lines.append(features)
        return np.zeros(len(features), bool)
