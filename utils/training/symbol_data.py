"""Training examples for the line reader's symbol network, cut from rendered lines by the reader's own
segmenter, so the network learns exactly the candidates it will be shown: each run of pieces that is one
whole character gets that character's class (Hangul for a syllable), every other run 'not a whole
character'."""
import io

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage
from tqdm import tqdm

from utils.data.hangul import is_syllable
from utils.data.lines import LineRenderer
from utils.data.symbols import FRAGMENT_CLASS, HANGUL_CLASS, SYMBOL_CLASSES, SYMBOLS, symbol_class
from utils.inference import segment

SPRINKLED = 1.0   # the share of training lines given extra symbols (``sprinkle_symbols``)
WOBBLED = 0.5     # the share of training lines whose syllables are drawn smaller (``wobble``)
WOBBLE_SCALE = 0.25   # a wobbled syllable's size: the face's times 1 less up to this
LEANS = (-0.1, 0.3)   # a leaning line's slant (x += slant · height above the baseline), drawn from this range
LEAN_JITTER = 0.08    # each of its characters' slant: the line's, give or take up to this
COVERED = 0.3   # a character overlapped over this much of its width is in a run
EDGE = 0.06     # of the line height (2 px at least): how far inside a character's ink box a run may end
SLACK = 0.12    # of the line height: ink beyond the character a run may still hold and count as it


def class_weights(classes, balance):
    """{class: weight} for training the symbol network on ``classes``, or None at ``balance`` 0: each symbol's
    examples weighed by (its count / the average symbol's) ** -balance, so that a rare mark counts for more
    than its few examples, and their weights averaging 1 per example, so that symbols weigh as much in all as
    before; Hangul and fragments (and symbols without examples) at 1."""
    if not balance:
        return None
    counts = np.bincount(classes, minlength=len(SYMBOL_CLASSES)).astype(np.float64)
    weighed = counts > 0
    weighed[[HANGUL_CLASS, FRAGMENT_CLASS]] = False
    weights = np.ones(len(SYMBOL_CLASSES))
    if weighed.any():
        weights[weighed] = (counts[weighed] / counts[weighed].mean()) ** -balance
        weights[weighed] *= counts[weighed].sum() / (weights * counts)[weighed].sum()
    return {int(c): float(w) for c, w in enumerate(weights)}


def augment_line(gray, rng):
    """A rendered line (ink 0 on 255) -> a mildly photographed one: resampled height, blur, lowered
    contrast, sometimes light on dark, noise, JPEG. All randomness from ``rng``."""
    image = Image.fromarray(gray)
    scale = rng.uniform(0.6, 1.4)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         Image.BILINEAR)
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.0)))
    array = np.asarray(image, np.float32) / 255.0
    ink, paper = rng.uniform(0, 90), rng.uniform(170, 255)
    array = ink + array * (paper - ink)
    if rng.random() < 0.15:
        array = 255.0 - array
    array = np.clip(array + rng.normal(0, rng.uniform(0, 8), array.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, 'JPEG', quality=int(rng.integers(40, 95)))
        array = np.asarray(Image.open(buffer).convert('L'))
    return array, scale


def sprinkle_symbols(text, rng):
    """``text`` with one to three symbols, drawn evenly from every symbol, put at word edges: the help pages
    hold hundreds of full stops for each apostrophe and no ※ at all, and the network must see every mark
    in many faces. Only the symbol network trains on these; the language model counts the text as it is."""
    words = text.split(' ')
    for _ in range(rng.integers(1, 4)):
        k = int(rng.integers(len(words)))
        symbol = SYMBOLS[rng.integers(len(SYMBOLS))]
        words[k] = symbol + words[k] if rng.random() < 0.5 else words[k] + symbol
    return ' '.join(words)


def wobble(text, height, rng):
    """{'scales', 'shifts'} for ``LineRenderer.render``: each syllable of ``text`` drawn up to WOBBLE_SCALE
    smaller than the face draws it, anywhere from its baseline up to its middle, as a hand writes:
    handwriting-style faces draw some syllables half the height of others (Nanum Pen Script's 어 beside its
    설), which the network must still call whole syllables. Never larger, and other characters untouched:
    the line's height is what the network sizes letters by, and size is what tells O from o."""
    hangul = np.array([is_syllable(char) for char in text])
    scales = np.where(hangul, 1 - rng.uniform(0, WOBBLE_SCALE, len(text)), 1.0)
    return {'scales': scales, 'shifts': -rng.uniform(0, 1, len(text)) * (1 - scales) * height / 2}


def lean(text, rng):
    """{'slants'} for ``LineRenderer.render``: the line's characters leaning as a hand slants its writing,
    mostly to the right, each a little differently; the syllable network learns slants from its affine
    augmentation, the symbol network from these."""
    return {'slants': rng.uniform(*LEANS) + rng.uniform(-LEAN_JITTER, LEAN_JITTER, len(text))}


def reshape_line(gray, boxes, rng):
    """A rendered line (ink 0 on 255) and its characters' boxes -> the same drawn in another face's manner:
    strokes a pixel bolder or lighter, and the line condensed or widened by up to a quarter (boxes
    scaled alike). Shapes, not fonts, are what the network must learn to read through: on training faces
    kept aside, this cut the line error of unseen handwriting-style faces (bench/README.md)."""
    if rng.random() < 0.5:
        thicken = rng.random() < 0.7
        gray = (ndimage.grey_erosion if thicken else ndimage.grey_dilation)(gray, size=(2, 2))
    if rng.random() < 0.5:
        scale = rng.uniform(0.8, 1.25)
        width = max(1, round(gray.shape[1] * scale))
        gray = np.asarray(Image.fromarray(gray).resize((width, gray.shape[0]), Image.BILINEAR))
        boxes = [(int(x0 * scale), top, int(np.ceil(x1 * scale)), bottom) for x0, top, x1, bottom in boxes]
    return gray, boxes


def label_run(left, right, boxes, text, height):
    """The symbol class of columns ``left:right`` given the characters' ink boxes: a character's own class
    when the run holds it whole and little else, else FRAGMENT_CLASS."""
    covered = []
    for char, (x0, _, x1, _) in zip(text, boxes):
        if char == ' ':
            continue
        overlap = min(right, x1) - max(left, x0)
        if overlap > COVERED * max(1, x1 - x0):
            covered.append((char, x0, x1, overlap))
    if len(covered) != 1:
        return FRAGMENT_CLASS
    char, x0, x1, overlap = covered[0]
    edge = max(2, EDGE * height)
    if left > x0 + edge or right < x1 - edge or (right - left) - overlap > SLACK * height:
        return FRAGMENT_CLASS
    return symbol_class(char)


def line_examples(gray, boxes, text):
    """(views uint8 (N, 32, 32), classes int (N,)) of every candidate run of one line image (the boxes in
    its pixels); empty when the segmenter does not see exactly one line."""
    stretched = segment.stretched_page(gray)
    if stretched is None:
        return _empty()
    cleaned, ink = segment.clean_page(stretched)
    lines = segment.find_lines(ink)
    if len(lines) != 1:
        return _empty()
    line = lines[0]
    _, columns = segment.candidate_columns(line)
    classes = [label_run(left, right, boxes, text, line.height) for left, right in columns]
    return segment.symbol_views(cleaned, line, columns), np.array(classes, np.int32)


def _empty():
    return np.zeros((0, segment.SYMBOL_SIDE, segment.SYMBOL_SIDE), np.uint8), np.zeros(0, np.int32)


def examples_of(renderer, text, rng, reshape=False, wobbled=False, leaning=False):
    """Render ``text`` with a random letter spacing (its syllables wobbled and its characters leaning, when
    asked: ``wobble``, ``lean``), reshape it (``reshape_line``, when asked) and photograph it mildly, cut it:
    ``line_examples``."""
    varied = {**(wobble(text, renderer.height, rng) if wobbled else {}), **(lean(text, rng) if leaning else {})}
    gray, boxes = renderer.render(text, letter_spacing=rng.uniform(-0.04, 0.12), **varied)
    if reshape:
        gray, boxes = reshape_line(gray, boxes, rng)
    gray, scale = augment_line(gray, rng)
    boxes = [tuple(round(v * scale) for v in box) for box in boxes]
    return line_examples(gray, boxes, text)


def examples(faces, texts, lines_per_face, height, seed, what, sprinkled=SPRINKLED, reshape=False,
             wobbled=WOBBLED, slanted=0.0):
    """(views, classes) of ``lines_per_face`` random texts per face (those it covers), the share
    ``sprinkled`` of them given extra symbols (those the face covers), the share ``wobbled`` drawn with
    smaller syllables (``wobble``), the share ``slanted`` leaning (``lean``), reshaped when asked, and
    photographed."""
    rng = np.random.default_rng(seed)
    views, classes = [_empty()[0]], [_empty()[1]]
    for face in tqdm(faces, desc=f'{what} lines', unit='face'):
        renderer = LineRenderer(face.path, height, face.index)
        covered = [text for text in texts if renderer.covers(text)]
        for index in rng.choice(len(covered), size=min(len(covered), lines_per_face), replace=False):
            text = covered[index]
            if sprinkled and rng.random() < sprinkled:
                decorated = sprinkle_symbols(text, rng)
                text = decorated if renderer.covers(decorated) else text
            v, c = examples_of(renderer, text, rng, reshape, bool(wobbled) and rng.random() < wobbled,
                               bool(slanted) and rng.random() < slanted)
            views.append(v)
            classes.append(c)
    return np.concatenate(views), np.concatenate(classes)
