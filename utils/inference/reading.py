"""Read lines of text: score every candidate run of pieces (``segment.candidates``) with the symbol network
and the syllable network, then choose the cutting of each line whose characters are jointly the most
likely (a shortest path over the pieces), and put spaces where the gaps are wide.

A run's score is its best reading's log-probability: log P(symbol s), or log P(Hangul) + log P(syllable)
for a syllable; 'not a whole character' is never a reading, so a piece of a syllable loses to the whole.
"""
from dataclasses import dataclass

import numpy as np

from utils.data import hangul
from utils.data.render import normalize_glyph
from utils.data.symbols import FRAGMENT_CLASS, HANGUL_CLASS, SYMBOL_CLASSES
from utils.inference import segment

SPACE_GAP = 0.16       # of the line height: a space is at least this much wider than the usual gap
USUAL_GAP_CAP = 0.15   # of the line height: the most the usual gap between two characters is taken to be
TWO_KINDS = 0.1        # of the line height: gaps form two kinds (spaces or not) when their means differ so
LONE_SPACE = 0.35      # of the line height: with one kind of gap, a gap this wide is a space
HANGUL_WORTH_ASKING = 0.01  # runs less likely than this to be Hangul skip the syllable network


@dataclass(frozen=True)
class Character:
    """One character read: its text (a space too), box (left, top, right, bottom) in the image's pixels,
    and probability (that of the gap's width for a space: 1.0)."""
    text: str
    box: tuple
    probability: float


def read_lines(image, symbol_probabilities, syllable_ranker, glyph_side):
    """The lines of ``image`` as lists of ``Character``, top to bottom.

    ``symbol_probabilities``: uint8 (N, 32, 32) symbol views -> (N, len(SYMBOL_CLASSES)) probabilities.
    ``syllable_ranker``: uint8 (N, S, S) normalized glyphs -> N lists of one (syllable, probability).
    """
    stretched = segment.stretched_page(image)
    if stretched is None:
        return []
    cleaned, ink = segment.clean_page(stretched)
    lines = segment.find_lines(ink)
    spans = [(line, span) for line in lines for span in segment.candidates(line)]
    if not spans:
        return []
    bounds = [(line.pieces[i][0], line.pieces[j - 1][1]) for line, (i, j) in spans]
    views = np.stack([segment.symbol_input(cleaned, line, *cols) for (line, _), cols in zip(spans, bounds)])
    symbols = np.asarray(symbol_probabilities(views), np.float64)
    readings = _best_readings(symbols, cleaned, spans, bounds, syllable_ranker, glyph_side)
    by_line = [{} for _ in lines]
    index = {id(line): k for k, line in enumerate(lines)}
    for (line, span), found in zip(spans, readings):
        by_line[index[id(line)]][span] = found
    return [_decode(line, found) for line, found in zip(lines, by_line)]


def _best_readings(symbols, cleaned, spans, bounds, syllable_ranker, glyph_side):
    """[(text, log-probability), ...] per span: its most likely symbol or syllable."""
    logs = np.log(np.maximum(symbols, 1e-12))
    logs[:, [HANGUL_CLASS, FRAGMENT_CLASS]] = -np.inf
    best = np.argmax(logs, axis=1)
    readings = [(SYMBOL_CLASSES[b], logs[k, b]) for k, b in enumerate(best)]
    asked = np.flatnonzero(symbols[:, HANGUL_CLASS] >= HANGUL_WORTH_ASKING)
    if len(asked):
        glyphs = [normalize_glyph(cleaned[spans[k][0].top:spans[k][0].bottom, slice(*bounds[k])], glyph_side)
                  for k in asked]
        blank = np.full((glyph_side, glyph_side), 255, np.uint8)
        ranked = syllable_ranker(np.stack([blank if g is None else g for g in glyphs]))
        for k, top in zip(asked, ranked):
            syllable, probability = top[0]
            score = np.log(max(symbols[k, HANGUL_CLASS], 1e-12)) + np.log(max(probability, 1e-12))
            if score > readings[k][1]:
                readings[k] = (syllable, score)
    return readings


def space_threshold(gaps):
    """The widest gap (in line heights) that is not a space. Letter spacing varies by face and setting, so
    the gaps of the line are split in two by Otsu's rule, trusted when the two kinds differ by
    ``TWO_KINDS`` and the wider is ``SPACE_GAP`` past the usual (lower-quartile) gap."""
    if len(gaps) < 2:
        return LONE_SPACE
    ordered = np.sort(gaps)
    usual = min(np.percentile(ordered, 25), USUAL_GAP_CAP)
    splits = [(k * (len(ordered) - k) * (ordered[k:].mean() - ordered[:k].mean()) ** 2, k)
              for k in range(1, len(ordered))]
    _, k = max(splits)
    if ordered[k:].mean() - ordered[:k].mean() <= TWO_KINDS:
        return max(LONE_SPACE, usual + SPACE_GAP)
    return max((ordered[k - 1] + ordered[k]) / 2, usual + SPACE_GAP)


def _gaps(line, chosen, kinds):
    """The blank between each two neighbours, in line heights. Between two syllables (or two digits) it
    is measured from the pitch instead (centre to centre, less the line's lower-quartile pitch of that
    kind, plus its usual gap): syllables and digits sit on a regular grid, while the blank beside a thin
    ㅣ or 1 is wide without a space."""
    left = np.array([line.pieces[i][0] for i, _ in chosen], np.float64)
    right = np.array([line.pieces[j - 1][1] for _, j in chosen], np.float64)
    gaps = (left[1:] - right[:-1]) / line.height
    pitches = ((left[1:] + right[1:]) - (left[:-1] + right[:-1])) / 2 / line.height
    pairs = np.array([a if a == b else None for a, b in zip(kinds, kinds[1:])], object)
    for kind, least in (('syllable', 3), ('digit', 1)):
        same = pairs == kind
        if same.sum() >= least:
            gaps[same] = pitches[same] - np.percentile(pitches[same], 25) + np.percentile(gaps[same], 25)
    return gaps


def _kind(text):
    return 'syllable' if hangul.is_syllable(text) else 'digit' if text.isdigit() else None


def _decode(line, readings):
    """The most likely cutting of one line (readings: {(i, j): (text, log-p)}) -> its Characters."""
    n = len(line.pieces)
    best, back = np.full(n + 1, -np.inf), [None] * (n + 1)
    best[0] = 0.0
    for (i, j), (_, score) in sorted(readings.items(), key=lambda item: item[0][1]):
        if best[i] + score > best[j]:
            best[j], back[j] = best[i] + score, i
    chosen, j = [], n
    while j > 0:
        i = back[j]
        chosen.append((i, j))
        j = i
    chosen.reverse()
    gaps = _gaps(line, chosen, [_kind(readings[span][0]) for span in chosen])
    widest_usual = space_threshold(gaps)
    characters = []
    for k, (i, j) in enumerate(chosen):
        left, right = line.pieces[i][0], line.pieces[j - 1][1]
        if k and gaps[k - 1] > widest_usual:
            previous_right = line.pieces[chosen[k - 1][1] - 1][1]
            characters.append(Character(' ', (previous_right, line.top, left, line.bottom), 1.0))
        text, score = readings[(i, j)]
        characters.append(Character(text, (left, line.top, right, line.bottom), float(np.exp(score))))
    return characters
