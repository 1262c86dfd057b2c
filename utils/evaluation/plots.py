"""Evaluation figures as PNG files: confusion matrices, image sheets (misread images, confused pairs,
Grad-CAM, augmentation).

Korean text is set in the bundled font (KS X 1001 syllables, compatibility jamo, ASCII, '·…→'), so no
label comes out as tofu. Figures are ``matplotlib.figure.Figure`` objects, free of pyplot's global state,
written atomically. An image sheet is one picture assembled in NumPy with text around it: one Matplotlib
image instead of dozens of axes draws many times faster and keeps every pixel sharp.
"""
import contextlib
import functools
import io

import matplotlib
import numpy as np
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.figure import Figure
from PIL import Image

from utils.data import hangul
from utils.io import BUNDLED_FONT, atomic_write

FONT_PATH = BUNDLED_FONT
NO_FINAL = '없음'  # JONGSUNG 0 (no final consonant): the bundled font has no '∅'
RIGHT, WRONG = '#1a7f37', '#c62828'
DPI = 150
CELL = 96          # sheet pixels per image
GAP = 10           # sheet pixels between images
CAPTION = 30       # sheet pixels under an image for its caption
HEAT_ALPHA = 0.45
FRAME = 150        # grey of the line around each image


@functools.lru_cache(maxsize=1)
def _font_characters():
    with TTFont(FONT_PATH, lazy=True) as font:
        return frozenset(font.getBestCmap())


def displayable(text):
    """``text`` with every syllable the bundled font lacks (it has KS X 1001's 2,350) spelled as its jamo
    in brackets, e.g. '뷁' -> '(ㅂㅞㄺ)': no tofu, and still readable."""
    shown = []
    for char in text:
        if ord(char) in _font_characters() or not hangul.is_syllable(char):
            shown.append(char)
        else:
            shown.append('(' + ''.join(hangul.COMPONENTS[name][i] for name, i in
                                       zip(hangul.COMPONENTS, hangul.split_syllable(char))) + ')')
    return ''.join(shown)


def jamo_labels(component):
    """Tick labels of a jamo output: its jamo, with JONGSUNG 0 spelled out."""
    return [jamo or NO_FINAL for jamo in hangul.COMPONENTS[component]]


@functools.lru_cache(maxsize=1)
def _font_family():
    font_manager.fontManager.addfont(FONT_PATH)  # once: every call would add another copy to the list
    return font_manager.FontProperties(fname=FONT_PATH).get_name()


@contextlib.contextmanager
def _korean_text():
    # The font lacks U+2212 (the typographic minus): ASCII '-' keeps negative ticks readable.
    with matplotlib.rc_context({'font.family': _font_family(), 'axes.unicode_minus': False}):
        yield


def _save(figure, path, tight=False):
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', dpi=DPI, facecolor='white', bbox_inches='tight' if tight else None,
                   pad_inches=0.15)
    atomic_write(path, lambda f: f.write(buffer.getvalue()))
    return path


def confusion_figure(matrix, labels, title, path):
    """Row-normalised confusion matrix (true rows, predicted columns) with a percentage in every cell of
    1% or more; rows without examples stay blank."""
    matrix = np.asarray(matrix, dtype=np.float64)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.full_like(matrix, np.nan), where=totals > 0)
    size = len(labels)
    with _korean_text():
        figure = Figure(figsize=(0.36 * size + 2.2, 0.36 * size + 1.2))
        ax = figure.add_subplot()
        shown = ax.imshow(np.ma.masked_invalid(shares), cmap='Blues', vmin=0, vmax=1)
        ax.set_xticks(range(size), labels, fontsize=12)
        ax.set_yticks(range(size), labels, fontsize=12)
        ax.tick_params(length=0)
        ax.set_xlabel('predicted', fontsize=11)
        ax.set_ylabel('true', fontsize=11)
        ax.set_title(displayable(title), fontsize=12, pad=10)
        for row, column in zip(*np.nonzero(np.nan_to_num(shares) >= 0.01)):
            share = shares[row, column]
            ax.text(column, row, f'{100 * share:.0f}', ha='center', va='center', fontsize=6.5,
                    color='white' if share > 0.55 else '#222222', in_layout=False)  # inside the axes
        bar = figure.colorbar(shown, ax=ax, fraction=0.035, pad=0.02, shrink=0.8)
        bar.set_label('share of the true class', fontsize=10)
        return _save(figure, path, tight=True)


def glyph_cell(image):
    """An ink-dark uint8 (H, W) image -> RGB (CELL, CELL), smoothly enlarged."""
    enlarged = Image.fromarray(np.asarray(image, np.uint8)).resize((CELL, CELL), Image.BICUBIC)
    return np.repeat(np.asarray(enlarged)[..., None], 3, axis=-1)


def heat_cell(heat, image=None):
    """A heat map in [0, 1] -> RGB (CELL, CELL) in the 'jet' colours, over ``image`` when one is given."""
    enlarged = Image.fromarray(np.asarray(heat, np.float32)).resize((CELL, CELL), Image.BILINEAR)
    colours = matplotlib.colormaps['jet'](np.clip(np.asarray(enlarged), 0, 1))[..., :3] * 255
    if image is not None:
        colours = (1 - HEAT_ALPHA) * glyph_cell(image) + HEAT_ALPHA * colours
    return np.round(colours).astype(np.uint8)


def image_sheet(cells, title, path, captions=None, headers=None, row_titles=None, row_notes=None):
    """Rows of RGB (CELL, CELL) cells as one picture, with a title, column ``headers``,
    ``row_titles`` (text, colour) at the left with small grey ``row_notes`` under them, and a
    (text, colour) caption under each cell."""
    rows, columns = len(cells), max(len(row) for row in cells)
    pitch_x, pitch_y = CELL + GAP, CELL + GAP + (CAPTION if captions else 0)
    canvas = np.full((rows * pitch_y, columns * pitch_x - GAP, 3), 255, np.uint8)
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            y, x = r * pitch_y, c * pitch_x
            canvas[y:y + CELL, x:x + CELL] = cell
            # A thin frame: glyphs on white paper would otherwise float on the white page.
            canvas[[y, y + CELL - 1], x:x + CELL] = FRAME
            canvas[y:y + CELL, [x, x + CELL - 1]] = FRAME
    with _korean_text():
        # The axes fills a figure of exactly the canvas' size: one sheet pixel per PNG pixel. Text goes
        # around it, and the tight bounding box at saving grows the PNG to hold it.
        figure = Figure(figsize=(canvas.shape[1] / DPI, canvas.shape[0] / DPI))
        ax = figure.add_axes((0, 0, 1, 1))
        ax.imshow(canvas, interpolation='none')
        ax.axis('off')
        for c, header in enumerate(headers or []):
            ax.text(c * pitch_x + CELL / 2, -6, displayable(header), ha='center', va='bottom', fontsize=8)
        lift = 10 if row_notes else 0  # room for the note under the title
        for r, (text, colour) in enumerate(row_titles or []):
            ax.text(-14, r * pitch_y + CELL / 2 - lift, displayable(text), ha='right', va='center', fontsize=14,
                    color=colour)
        for r, note in enumerate(row_notes or []):
            ax.text(-14, r * pitch_y + CELL / 2 + 10, note, ha='right', va='top', fontsize=9, color='#555555')
        for r, row in enumerate(captions or []):
            for c, caption in enumerate(row):
                if caption:
                    text, colour = caption
                    ax.text(c * pitch_x + CELL / 2, r * pitch_y + CELL + 4, displayable(text), ha='center',
                            va='top', fontsize=10, color=colour)
        ax.text(canvas.shape[1] / 2, -60 if headers else -14, displayable(title), ha='center', va='bottom',
                fontsize=12)
        return _save(figure, path, tight=True)


def image_grid(images, captions, title, path, colour='black', columns=10):
    """Images in rows of ``columns``, each with a caption under it."""
    rows = [list(range(start, min(start + columns, len(images)))) for start in range(0, len(images), columns)]
    return image_sheet([[glyph_cell(images[i]) for i in row] for row in rows], title, path,
                       captions=[[(captions[i], colour) for i in row] for row in rows])


def confused_pairs_figure(pairs, samples, title, path):
    """One row per confused pair: 'truth → prediction', its count and share, then sample images of the
    truth read as the prediction. ``samples``: a list of image lists, one per pair."""
    return image_sheet([[glyph_cell(image) for image in images] for images in samples], title, path,
                       row_titles=[(f"{p['truth']} → {p['prediction']}", 'black') for p in pairs],
                       row_notes=[f"{p['count']:,} · {100 * p['rate']:.1f}%" for p in pairs])


def gradcam_figure(images, maps, titles, head_captions, title, path):
    """Grad-CAM sheet: per image a row of the image, then a heat map and an overlay for every head.

    ``maps``: {head: (N, H, W) in [0, 1]}; ``titles``: a (text, colour) per image;
    ``head_captions``: {head: a (text, colour) per image}, for the heads whose answer differs from the
    row's (the jamo heads).
    """
    cells, captions = [], []
    for i, image in enumerate(images):
        cells.append([glyph_cell(image)])
        captions.append([None])
        for head, heat in maps.items():
            cells[-1] += [heat_cell(heat[i]), heat_cell(heat[i], image)]
            captions[-1] += [None, head_captions[head][i] if head in head_captions else None]
    headers = ['image'] + [f'{head}\n{part}' for head in maps for part in ('heat map', 'overlay')]
    captioned = any(caption for row in captions for caption in row)
    return image_sheet(cells, title, path, captions=captions if captioned else None, headers=headers,
                       row_titles=titles)


def augmentation_figure(originals, augmented, row_labels, title, path):
    """Each row: a training image, then its augmented versions (``augmented``: (N, k, H, W))."""
    cells = [[glyph_cell(original)] + [glyph_cell(version) for version in versions]
             for original, versions in zip(originals, augmented)]
    headers = ['original'] + [f'augmented\n{k + 1}' for k in range(augmented.shape[1])]
    return image_sheet(cells, title, path, headers=headers,
                       row_titles=[(label, 'black') for label in row_labels])
