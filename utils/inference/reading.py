"""Read lines of text: score every candidate run of pieces (``segment.candidates``) with the symbol network
and the syllable network, then choose the cutting and reading of each line whose characters are jointly the
most likely (a Viterbi search over the pieces), and put spaces where the spacing model (or, without one, the
line's widest usual gap) says.

A run's readings are its best few symbols, scored log P(symbol), and the syllable network's best few, scored
HANGUL_WEIGHT x log P(Hangul) (the full log P(Hangul) for a run of many pieces) + log P(syllable) +
SYLLABLE_PRIOR x (log P_language(syllable | the character before it) + PRIOR_CENTRE), a symbol MARK_PRIOR x how
much likelier it is after the character before it than anywhere (a full stop after 다) and MARK_FREQUENCY x how
much commoner it is in text than in the symbol network's training (an ASCII quote, not a curly one); and every
character after another pays KIND_PRIOR x how much rarer its kind is after the other's than anywhere (a digit
inside a Hangul word; never a bonus, so a Latin word's letters cost nothing extra); 'not a whole character' is
never a reading, so a piece of a syllable loses to the whole. A path's score is its readings' scores plus
CHARACTER_BONUS each.
"""
import math
from dataclasses import dataclass

import numpy as np

from utils.data.render import normalize_glyph
from utils.data.symbols import FRAGMENT_CLASS, HANGUL_CLASS, SYMBOL_CLASSES, SYMBOLS
from utils.inference import segment
from utils.inference.language import DIGIT, HANGUL, kind_of
from utils.inference.preprocess import percentiles
from utils.inference.spacing import gap_features

SPACE_GAP = 0.16       # of the line height: a space is at least this much wider than the usual gap
USUAL_GAP_CAP = 0.15   # of the line height: the most the usual gap between two characters is taken to be
TWO_KINDS = 0.1        # of the line height: gaps form two kinds (spaces or not) when their means differ so
LONE_SPACE = 0.35      # of the line height: with one kind of gap, a gap this wide is a space
HANGUL_WORTH_ASKING = 1e-4  # runs less likely than this to be Hangul skip the syllable network: a narrow
                            # syllable of a proportional face can score 0.005 (training faces: 0.01 lost those)
# The weight of the symbol network's log P(Hangul) in the score of a syllable made of at most WEIGHED_PIECES
# pieces. The symbol network is small and has seen few handwriting-style faces: on faces it never saw it calls
# cramped, narrow syllables fragments or marks (Nanum Pen Script's 습 'a $'), where the syllable network,
# trained on far more faces, is sure. Runs of more pieces keep the full weight: there the doubt is mostly a
# mark joined to a syllable ('삽 read as 삽). On training faces kept from the symbol network
# (bench/symbols_aside.py), handwriting-style lines read 8.2% / 8.1% wrong (clean / scan) at weight 1, 5.4% /
# 5.9% at 0.5 for runs of up to 2 pieces (5.8% / 6.1% up to 3 pieces, 6.3% / 7.4% single pieces only; 0.4 cost
# printed scans); printed lines the same. On the tuning set, whose faces it trained on: sum 3.54 -> 3.60.
HANGUL_WEIGHT = 0.5
WEIGHED_PIECES = 2
SYLLABLES_ASKED = 5    # the syllable network's best few, weighed by the language model
SYMBOLS_OFFERED = 3    # the symbol network's best few, weighed by the language model (a comma looks like a full stop)
# The weight of how much likelier a symbol is after the character before it than anywhere. Tuning set (the
# language model counted without its lines): sum 3.60 without, 3.28 at 0.3, 3.14 at 0.6, 3.39 at 1.0; on the
# faces kept from two symbol networks (bench/symbols_aside.py) every cell as good or better at 0.3 and 0.6.
MARK_PRIOR = 0.6
# The symbol network trained on lines given two symbols each on average, drawn evenly from all of them
# (symbol_data.sprinkle_symbols), beside the text's own 1.55 a line: TEXT_SHARE of the symbols it saw came at
# the text's frequencies. Its word is weighed back to the text's by MARK_FREQUENCY x log(P(symbol in the text) /
# P(symbol in its training)): an ASCII quote is seven times as common in the text as a curly one, sprinkled
# lines made them nearly even.
TEXT_SHARE = 0.44
MARK_FREQUENCY = 0.5
SYLLABLE_PRIOR = 0.4   # the weight of a syllable's log-probability given the one before it (training faces,
                       # and a language model counted without their lines: 0.15 to 0.7 tried)
# Added to that log-probability before weighing: the average syllable of training text scores -4.06 given the
# one before it, so the average syllable neither gains nor loses against a symbol, whatever the weight.
PRIOR_CENTRE = 4.0
# Added to every character's log-probability on the path: each character's costs less than 1 would otherwise
# favour fewer, wider ones ('GI' read as 이, an apostrophe joined to the syllable after it). Training faces.
CHARACTER_BONUS = 0.5
KIND_PRIOR = 0.8       # training faces, language model counted without their lines: 0.3, 0.6, 1.0 tried
HOPELESS = 6.0         # a span's reading this far below its best (log-probability) is not searched: the
                       # language model would need to favour it by 15 nats (6 / SYLLABLE_PRIOR); 8 read the same
BEAM = 4               # the most likely last characters the path search keeps at each piece boundary


@dataclass(frozen=True)
class Character:
    """One character read: its text (a space too), box (left, top, right, bottom) in the image's pixels,
    and probability (that of the gap's width for a space: 1.0)."""
    text: str
    box: tuple
    probability: float


def read_lines(image, symbol_probabilities, syllable_ranker, glyph_side, language=None, spacing=None):
    """The lines of ``image`` as lists of ``Character``, top to bottom.

    ``symbol_probabilities``: uint8 (N, 32, 32) symbol views -> (N, len(SYMBOL_CLASSES)) probabilities.
    ``syllable_ranker``: uint8 (N, S, S) normalized glyphs -> N lists of (syllable, probability), best first.
    ``language``: a ``LanguageModel`` weighing the readings, or None to take the networks' word alone.
    ``spacing``: a ``SpaceModel`` placing the spaces, or None for the rule of ``space_threshold``.
    """
    stretched = segment.stretched_page(image)
    if stretched is None:
        return []
    cleaned, ink = segment.clean_page(stretched)
    lines = segment.find_lines(ink)
    spans, bounds, views = [], [], []
    for line in lines:
        runs, columns = segment.candidate_columns(line)
        spans += [(line, run) for run in runs]
        bounds += columns
        views.append(segment.symbol_views(cleaned, line, columns))
    if not spans:
        return []
    views = np.concatenate(views)
    symbols = np.asarray(symbol_probabilities(views), np.float64)
    readings = _candidate_readings(symbols, cleaned, segment.Components.of(ink), spans, bounds, syllable_ranker,
                                   glyph_side)
    by_line = [{} for _ in lines]
    index = {id(line): k for k, line in enumerate(lines)}
    for (line, span), found in zip(spans, readings):
        by_line[index[id(line)]][span] = found
    return [_decode(line, found, language, spacing) for line, found in zip(lines, by_line)]


def _candidate_readings(symbols, cleaned, components, spans, bounds, syllable_ranker, glyph_side):
    """Per span, its readings [(text, score, probability), ...]: its best symbol (score log P(symbol)), and
    the syllable network's best few when the symbol network finds the span likely enough to be Hangul
    (score HANGUL_WEIGHT x log P(Hangul) + log P(syllable) for a run of few pieces, the full log P(Hangul)
    for more); probability: the networks' own."""
    logs = np.log(np.maximum(symbols, 1e-12))
    logs[:, [HANGUL_CLASS, FRAGMENT_CLASS]] = -np.inf
    offered = np.argsort(-logs, axis=1)[:, :SYMBOLS_OFFERED]
    best = offered[:, 0]
    readings = [[(SYMBOL_CLASSES[b], logs[k, b], symbols[k, b]) for b in row] for k, row in enumerate(offered)]
    hangul = symbols[:, HANGUL_CLASS]
    pieces = np.array([j - i for _, (i, j) in spans])
    doubt = np.where(pieces <= WEIGHED_PIECES, HANGUL_WEIGHT, 1.0) * np.log(np.maximum(hangul, 1e-12))
    # A syllable scores at most its doubt: none is asked for that would be HOPELESS beside the run's symbol.
    asked = np.flatnonzero((hangul >= HANGUL_WORTH_ASKING) & (doubt >= logs[np.arange(len(best)), best] - HOPELESS))
    if len(asked):
        glyphs = [normalize_glyph(segment.glyph_crop(cleaned, components, spans[k][0], *bounds[k]), glyph_side)
                  for k in asked]
        blank = np.full((glyph_side, glyph_side), 255, np.uint8)
        ranked = syllable_ranker(np.stack([blank if g is None else g for g in glyphs]))
        for k, top in zip(asked, ranked):
            readings[k] += [(syllable, doubt[k] + np.log(max(p, 1e-12)), hangul[k] * p) for syllable, p in top]
    return [_hopeful(found) for found in readings]


def _hopeful(found):
    """The readings within HOPELESS of the best one."""
    floor = max(score for _, score, _ in found) - HOPELESS
    return [reading for reading in found if reading[1] >= floor]


def _prior(text, previous, language):
    """What the language model says of ``text`` after ``previous`` (None at the start of the line): for a
    syllable SYLLABLE_PRIOR x (log P_language(text | previous) + PRIOR_CENTRE), for a symbol MARK_PRIOR x
    ``language.mark_pmi(previous, text)`` + MARK_FREQUENCY x log(its share of the text's symbols / of those the
    network trained on) when the text holds it, and for any character after another
    KIND_PRIOR x min(0, the pointwise mutual information of their kinds); 0 without a model."""
    if language is None:
        return 0.0
    kind = kind_of(text)
    if kind == HANGUL:
        prior = SYLLABLE_PRIOR * (language.syllable_log_p(previous, text) + PRIOR_CENTRE)
    else:
        prior = MARK_PRIOR * language.mark_pmi(previous, text)
        if text in language.marks:   # one the text never holds (·, ※) may still be common in a user's
            share = language.mark_share(text)
            prior += MARK_FREQUENCY * math.log(share / (TEXT_SHARE * share + (1 - TEXT_SHARE) / len(SYMBOLS)))
    if previous is not None:
        prior += KIND_PRIOR * min(0.0, language.neighbours[kind_of(previous), kind])
    return prior


def space_threshold(gaps):
    """The widest gap (in line heights) that is not a space. Letter spacing varies by face and setting, so
    the gaps of the line are split in two by Otsu's rule, trusted when the two kinds differ by
    ``TWO_KINDS`` and the wider is ``SPACE_GAP`` past the usual (lower-quartile) gap."""
    if len(gaps) < 2:
        return LONE_SPACE
    ordered = np.sort(gaps)
    usual = min(quartile(ordered), USUAL_GAP_CAP)
    splits = [(k * (len(ordered) - k) * (ordered[k:].mean() - ordered[:k].mean()) ** 2, k)
              for k in range(1, len(ordered))]
    _, k = max(splits)
    if ordered[k:].mean() - ordered[:k].mean() <= TWO_KINDS:
        return max(LONE_SPACE, usual + SPACE_GAP)
    return max((ordered[k - 1] + ordered[k]) / 2, usual + SPACE_GAP)


def quartile(values):
    """The lower quartile, as np.percentile(values, 25) (by one partial sort: faster on a line's few gaps)."""
    return float(percentiles(values, (25,))[0])


def _gaps(line, chosen, kinds):
    """(blank, pitched): the blank between each two neighbours, in line heights, and the same measured from
    the pitch between two syllables (or two digits): centre to centre, less the line's lower-quartile pitch
    of that kind, plus its usual gap; from a digit to the syllable after it, from the edge of the digit's
    cell. A monospaced face sets syllables and digits on a regular grid, so the blank beside a thin ㅣ or 1
    is wide without a space; a proportional face does not. Digits share one width, that of the line's
    widest digit, so a thin 1 sits in a wide cell: '21도' has no space."""
    left = np.array([line.pieces[i][0] for i, _ in chosen], np.float64)
    right = np.array([line.pieces[j - 1][1] for _, j in chosen], np.float64)
    gaps = (left[1:] - right[:-1]) / line.height
    pitches = ((left[1:] + right[1:]) - (left[:-1] + right[:-1])) / 2 / line.height
    pitched = gaps.copy()
    for kind, least in ((HANGUL, 3), (DIGIT, 1)):
        same = (kinds[:-1] == kind) & (kinds[1:] == kind)
        if same.sum() >= least:
            pitched[same] = pitches[same] - quartile(pitches[same]) + quartile(gaps[same])
    digits = kinds == DIGIT
    if digits.any():
        widths = (right - left) / line.height
        side = np.where(digits, (widths[digits].max() - widths) / 2, 0.0)
        unit = digits[:-1] & (kinds[1:] == HANGUL)
        pitched[unit] -= side[:-1][unit]
    return gaps, pitched


def _decode(line, readings, language, spacing):
    """The most likely cutting and reading of one line (readings: {(i, j): [(text, score, probability)]}),
    each character weighed by the language model given the one before it (``_prior``) -> its Characters. A Viterbi
    search over (piece boundary, last character read), keeping the BEAM best last characters at each."""
    n = len(line.pieces)
    reached = [{} for _ in range(n + 1)]   # boundary -> {last text: (score, (start, text before, probability))}
    reached[0][None] = (0.0, None)
    beams = {}   # boundary -> its BEAM best (last text, score): final once every run ending there is in
    for (i, j), found in sorted(readings.items(), key=lambda item: item[0][1]):
        ends = reached[j]
        if i not in beams:
            beams[i] = sorted(((t, score) for t, (score, _) in reached[i].items()), key=lambda b: -b[1])[:BEAM]
        for previous, score in beams[i]:
            for text, own, probability in found:
                total = score + own + CHARACTER_BONUS + _prior(text, previous, language)
                if total > ends.get(text, (-np.inf,))[0]:
                    ends[text] = (total, (i, previous, probability))
    chosen, j = [], n
    text = max(reached[n], key=lambda t: reached[n][t][0])
    while j > 0:
        i, previous, probability = reached[j][text][1]
        chosen.append(((i, j), text, kind_of(text), probability))
        j, text = i, previous
    chosen.reverse()
    return _with_spaces(line, chosen, language, spacing)


def _with_spaces(line, chosen, language, spacing):
    """The chosen readings [((i, j), text, kind, probability)] as Characters, with spaces where ``spacing``
    puts them (without one: in the gaps wider than the line's ``space_threshold``)."""
    kinds = np.array([kind for _, _, kind, _ in chosen])
    spaced = np.zeros(0, bool)
    if len(chosen) > 1:
        blank, pitched = _gaps(line, [span for span, *_ in chosen], kinds)
        narrower = np.minimum(blank, pitched)
        threshold = space_threshold(narrower)
        if spacing is None:
            spaced = narrower > threshold
        else:
            if language is None:
                odds = after = before = pair = after_digit = np.zeros(len(blank))
            else:
                odds = language.space[kinds[:-1], kinds[1:]]
                after, before, pair, after_digit = language.syllable_odds([text for _, text, _, _ in chosen])
            both_hangul = (kinds[:-1] == HANGUL) & (kinds[1:] == HANGUL)
            spaced = spacing.spaces(gap_features(blank, pitched, threshold, odds, both_hangul, after, before,
                                                 pair, after_digit))
    characters = []
    for k, ((i, j), text, _, probability) in enumerate(chosen):
        left, right = line.pieces[i][0], line.pieces[j - 1][1]
        if k and spaced[k - 1]:
            previous_right = line.pieces[chosen[k - 1][0][1] - 1][1]
            characters.append(Character(' ', (previous_right, line.top, left, line.bottom), 1.0))
        characters.append(Character(text, (left, line.top, right, line.bottom), float(probability)))
    return characters
