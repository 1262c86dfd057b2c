"""Cut an image of text into lines, each line into pieces of ink, and list the runs of pieces that may be
one character: the candidates the line reader scores (see ``utils/inference/reading.py``).

Hangul syllables are about as wide as the line is high and mostly stand apart, but some fall into two
pieces (이: ㅇ and ㅣ), and tight faces let neighbours touch or abut. So a line is over-cut, at every
blank column, between connected components that no column joins, and at the thinnest columns of a piece
too wide to be one character, and the reader chooses which runs of pieces to join.
"""
import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from utils.inference.preprocess import flatten_and_stretch, grown, ink_dark, load_gray

INK_LEVEL = 128        # a stretched pixel darker than this is ink
CUT_LEVEL = 80         # lines, pieces and components are cut from ink darker than this: the grey rim of a
                       # blurred or anti-aliased stroke would join neighbours (chosen on training faces)
SPECK_AREA = 0.003     # of the line height squared: smaller components are noise, not dots
LINE_GAP = 0.3         # of the taller run's height: a blank this thin between two runs of rows is no line gap
MAX_JOIN = 4           # pieces one character may be made of
MAX_WIDTH = 1.3        # of the line height: the widest run of pieces that may be one character
WIDE_PIECE = 0.75     # of the line height: a piece this wide may be two characters touching (chosen on training faces)
SPLIT_PIECE = 0.5     # of the line height: a piece this wide is parted where no component of its ink crosses
SYMBOL_SIDE = 32       # the symbol network's input side
OWN_SHARE = 0.25       # a component with less of its ink in a run's columns belongs to a neighbour
OVERHANG = 0.25        # of the line height: how far past a run's columns a component of its own may reach
RIM = 1                # px: how far a stroke's grey rim reaches past its dark core


@dataclass(frozen=True)
class Line:
    """One line of text: the stretched image's rows ``top:bottom`` and its pieces' column spans."""
    top: int
    bottom: int
    pieces: tuple  # ((left, right), ...), left to right

    @property
    def height(self):
        return self.bottom - self.top


def stretched_page(image):
    """Any image of text -> uint8 ink 0 on paper 255 (polarity, lighting and contrast normalized), or None
    when it holds no ink."""
    return flatten_and_stretch(ink_dark(load_gray(image)))


def clean_page(stretched):
    """(cleaned, ink): the stretched image with everything but ink and its anti-aliased rim turned to paper,
    and the mask of the ink's dark core (``CUT_LEVEL``), both without specks: components below
    ``SPECK_AREA`` of the line height squared (a full stop survives, scanner dust does not)."""
    ink = stretched < INK_LEVEL
    labels, count = ndimage.label(ink, structure=np.ones((3, 3)))
    if count:
        areas = np.bincount(labels.ravel())[1:]
        rows = np.flatnonzero(ink.any(axis=1))
        minimum = max(2, SPECK_AREA * (rows[-1] - rows[0] + 1) ** 2 / 4)
        ink = np.isin(labels, 1 + np.flatnonzero(areas >= minimum))
    cleaned = np.where(grown(ink), stretched, 255).astype(np.uint8)
    return cleaned, ink & (stretched < CUT_LEVEL)


def _runs(flags):
    """[(start, stop), ...] of the True runs of a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def find_lines(ink):
    """The text lines of an ink mask, top to bottom: runs of inked rows, a run shorter than a quarter of
    the tallest joined to its nearest neighbour (the dots of a row of ellipses, an accent) or dropped, and
    runs that nearly touch joined (see ``_same_line``)."""
    runs = [list(r) for r in _runs(ink.any(axis=1))]
    if not runs:
        return []
    tallest = max(b - a for a, b in runs)
    merged = []
    for run in runs:
        if merged and _same_line(merged[-1], run, tallest):
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    lines = []
    for top, bottom in merged:
        if bottom - top < tallest / 4:
            continue
        lines.append(Line(int(top), int(bottom), tuple(_pieces(ink[top:bottom], bottom - top))))
    return lines


def _same_line(above, below, tallest):
    """Two runs of inked rows are one line when they nearly touch (a face whose finals hang apart from the
    rest of the syllable, as Bangwool's do) or one is short and close (a row of dots, an accent)."""
    gap, heights = below[0] - above[1], (above[1] - above[0], below[1] - below[0])
    return gap < LINE_GAP * max(heights) or (min(heights) < tallest / 4 and gap < tallest / 3)


def _pieces(band, height):
    """Column spans of the ink of one line: runs of inked columns, those wider than SPLIT_PIECE parted
    between connected components (``_parted``), and the too-wide ones cut at their thinnest columns."""
    profile = band.sum(axis=0)
    pieces = []
    extents = None
    for left, right in _runs(profile > 0):
        parts = [(int(left), int(right))]
        if right - left > SPLIT_PIECE * height:
            if extents is None:
                extents = _column_extents(band)
            parts = _parted(extents, int(left), int(right))
        for part in parts:
            pieces += _cut_wide(profile, *part, height)
    return pieces


def _column_extents(band):
    """(count, 2) left and right (exclusive) columns of each connected component of the band's ink."""
    labels, _ = ndimage.label(band, structure=np.ones((3, 3)))
    return np.array([(found[1].start, found[1].stop) for found in ndimage.find_objects(labels)], np.int64)


def _parted(extents, left, right):
    """Columns ``left:right`` parted at every inner column boundary that no component crosses: two
    neighbours that abut or overlap in height without touching (a final consonant's right edge meeting the
    next syllable's ㅅ) leave no blank column between them, yet are apart."""
    inside = extents[(extents[:, 0] >= left) & (extents[:, 1] <= right)]
    crossing = np.zeros(right - left + 1, np.int64)
    np.add.at(crossing, inside[:, 0] - left + 1, 1)
    np.add.at(crossing, inside[:, 1] - left, -1)
    open_components = np.cumsum(crossing)
    cuts = [left + b for b in range(1, right - left) if open_components[b] == 0]
    bounds = [left] + cuts + [right]
    return list(zip(bounds[:-1], bounds[1:]))


def _cut_wide(profile, left, right, height):
    if right - left <= WIDE_PIECE * height:
        return [(left, right)]
    # The thinnest column at least a third of a height in from either end.
    margin = max(1, int(height / 3))
    inner = profile[left + margin:right - margin]
    cut = left + margin + int(np.argmin(inner))
    return _cut_wide(profile, left, cut, height) + _cut_wide(profile, cut, right, height)


def candidate_columns(line):
    """(spans, columns): ``candidates(line)`` and each one's columns (left, right) in the image."""
    spans = candidates(line)
    return spans, [(line.pieces[i][0], line.pieces[j - 1][1]) for i, j in spans]


def candidates(line):
    """(i, j) for every run of pieces ``i..j-1`` that may be one character."""
    spans = []
    for i in range(len(line.pieces)):
        for j in range(i + 1, min(i + MAX_JOIN, len(line.pieces)) + 1):
            width = line.pieces[j - 1][1] - line.pieces[i][0]
            if j == i + 1 or width <= MAX_WIDTH * line.height:
                spans.append((i, j))
    return spans


def symbol_views(stretched, line, columns):
    """The symbol network's views of runs of a line, [(left, right), ...] -> uint8 (N, SYMBOL_SIDE,
    SYMBOL_SIDE): each run's columns with the line's full height kept, so that a full stop sits low and a
    middle dot high, padded to a square on paper and shrunk by a box filter (Pillow's BOX weights, as
    matrices: the views of one size are shrunk together)."""
    band = stretched[line.top:line.bottom].astype(np.float32)
    height = band.shape[0]
    views = np.empty((len(columns), SYMBOL_SIDE, SYMBOL_SIDE), np.uint8)
    by_side = {}
    for k, (left, right) in enumerate(columns):
        by_side.setdefault(max(height, right - left), []).append(k)
    for side, members in by_side.items():
        canvases = np.full((len(members), side, side), 255, np.float32)
        for canvas, k in zip(canvases, members):
            left, right = columns[k]
            y, x = (side - height) // 2, (side - (right - left)) // 2
            canvas[y:y + height, x:x + right - left] = band[:, left:right]
        weights = _box_weights(side)
        views[members] = np.clip(np.rint(weights @ canvases @ weights.T), 0, 255)
    return views


@functools.lru_cache(maxsize=256)
def _box_weights(side):
    """(SYMBOL_SIDE, side) float32: Pillow's BOX resampling from ``side`` to SYMBOL_SIDE pixels (an input
    pixel counts for an output pixel when its centre falls in the output pixel's span)."""
    scale = side / SYMBOL_SIDE
    support = 0.5 * max(scale, 1.0)
    weights = np.zeros((SYMBOL_SIDE, side), np.float32)
    for out in range(SYMBOL_SIDE):
        centre = (out + 0.5) * scale
        low, high = max(int(centre - support + 0.5), 0), min(int(centre + support + 0.5), side)
        offsets = (np.arange(low, high) - centre + 0.5) / max(scale, 1.0)
        inside = (offsets > -0.5) & (offsets <= 0.5)
        weights[out, low:high] = inside / inside.sum()
    return weights


@dataclass(frozen=True)
class Components:
    """The ink's connected components: a label image, the same grown by ``RIM`` px into the paper (a
    stroke's grey rim), each label's pixel count and column span."""
    labels: np.ndarray
    grown: np.ndarray
    sizes: np.ndarray
    columns: np.ndarray  # (count + 1, 2): left, right; row 0 (paper) unused

    @classmethod
    def of(cls, ink):
        labels, count = ndimage.label(ink, structure=np.ones((3, 3)))
        columns = np.zeros((count + 1, 2), np.int64)
        for k, found in enumerate(ndimage.find_objects(labels), start=1):
            columns[k] = found[1].start, found[1].stop
        grown = np.where(labels > 0, labels, ndimage.grey_dilation(labels, size=(2 * RIM + 1,) * 2))
        return cls(labels, grown, np.bincount(labels.ravel(), minlength=count + 1), columns)


def glyph_crop(cleaned, components, line, left, right):
    """The line's rows around columns ``left:right`` for the syllable network, by whole components: ink
    of a neighbour that reaches into the columns (its edge under the tick of a ㅏ) turns to paper, and
    components of the run's own that reach a little past its columns are kept whole. A component shared
    with a neighbour (two syllables touching) is cut at the columns."""
    reach = int(OVERHANG * line.height)
    low, high = max(0, left - reach), min(cleaned.shape[1], right + reach)
    window = components.labels[line.top:line.bottom, low:high]
    inside = np.bincount(window[:, left - low:right - low].ravel(), minlength=len(components.sizes))
    own = inside >= OWN_SHARE * components.sizes
    whole = own & (components.columns[:, 0] >= low) & (components.columns[:, 1] <= high)
    whole[0] = own[0] = False
    grown = components.grown[line.top:line.bottom, low:high]
    keep = whole[grown]
    keep[:, left - low:right - low] |= own[grown[:, left - low:right - low]]
    return np.where(keep, cleaned[line.top:line.bottom, low:high], 255).astype(np.uint8)
