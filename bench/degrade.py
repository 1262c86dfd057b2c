"""Photo- and scan-like degradations and display-face styles of one rendered glyph, for bench/robustness.py,
and a mild scan look of a whole line, for bench/lines.py.

Written apart from the training augmentation (``network/augment.py``) on purpose: a benchmark built from the
training code would measure how well the model learnt that code, not how it reads other images. Glyph
steps work on ink coverage (float, 1 = ink, 0 = paper, cropped to the ink); ``photograph`` frames it and
turns it into a grey or RGB uint8 crop. All randomness comes from the ``rng`` passed in.
"""
import io

import numpy as np
from PIL import Image
from scipy import ndimage

DEGRADATIONS = ('clean', 'geometry', 'resolution', 'blur', 'contrast', 'lighting', 'noise', 'jpeg', 'combined')
STYLES = ('outline', 'heavy', 'shadow', 'oblique', 'condensed', 'expanded')
FAMILIES = DEGRADATIONS + STYLES
PHOTO_STEPS = DEGRADATIONS[1:-1]
CLEAN_MARGIN = 0.12  # of the glyph's longer side, on every side of a clean crop


def ink_of(gray):
    """A rendered grey glyph (ink 0 on white 255) -> its ink coverage, cropped to the ink."""
    ink = 1 - np.asarray(gray, np.float32) / 255
    return crop_to_ink(ink)


def crop_to_ink(ink, threshold=0.05):
    rows, cols = np.flatnonzero((ink > threshold).any(axis=1)), np.flatnonzero((ink > threshold).any(axis=0))
    if not len(rows):
        raise ValueError('the glyph has no ink')
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _disk(radius):
    y, x = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return x * x + y * y <= radius * radius + radius  # a round disk, not a diamond, at small radii


def _resize(image, width, height):
    """Float image (H, W) or (H, W, C) resized with bicubic filtering, per channel."""
    if image.ndim == 3:
        return np.stack([_resize(image[..., c], width, height) for c in range(image.shape[2])], axis=-1)
    return np.asarray(Image.fromarray(image.astype(np.float32), 'F').resize((width, height), Image.BICUBIC))


def affine(ink, rotation=0.0, shear=0.0):
    """Rotate (degrees, counter-clockwise) and shear (x += shear * y) about the centre; cropped to the ink."""
    side = int(max(ink.shape) * 1.6) + 4
    canvas = np.zeros((side, side), np.float32)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    canvas[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    angle = np.deg2rad(rotation)
    forward = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]]) @ [[1, -shear], [0, 1]]
    inverse = np.linalg.inv(forward)
    centre = np.array([side / 2, side / 2])
    offset = centre - inverse @ centre
    data = (inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1])
    moved = Image.fromarray(canvas, 'F').transform((side, side), Image.AFFINE, data, Image.BICUBIC)
    return crop_to_ink(np.clip(np.asarray(moved), 0, 1))


def cut(ink, rng, most=0.04):
    """Crop into one side of the glyph, removing up to ``most`` of its ink (a tight or careless crop)."""
    side = rng.integers(4)
    turned = np.rot90(ink, side)
    share = np.cumsum(turned.sum(axis=1)) / turned.sum()
    rows = int(np.searchsorted(share, rng.uniform(0.25, 1) * most))
    return np.rot90(turned[rows:], -side)


def frame(ink, margins):
    """Paper around the ink: ``margins`` (top, bottom, left, right) as fractions of the glyph's longer side."""
    pad = [int(round(m * max(ink.shape))) for m in margins]
    return np.pad(ink, ((pad[0], pad[1]), (pad[2], pad[3])))


def geometry(ink, rng):
    """Rotation up to ±6°, shear up to ±0.15, off-centre margins of 2-35% or (30%) a crop into the ink."""
    ink = affine(ink, rng.uniform(-6, 6), rng.uniform(-0.15, 0.15))
    margins = rng.uniform(0.02, 0.35, 4)
    if rng.random() < 0.3:
        ink = cut(ink, rng)
        margins[rng.integers(4)] = 0  # the cut side ends at the crop's edge
    return frame(ink, margins)


# Styles: what display faces do to strokes --------------------------------------------------------------------

def outline(ink, rng):
    """Hollow strokes: only an edge 1-3 px wide (at a 60 px glyph) is inked."""
    width = int(rng.integers(1, 4))
    solid = ink > 0.5
    edge = solid & ~ndimage.binary_erosion(solid, _disk(width), border_value=0)
    return ndimage.gaussian_filter(edge.astype(np.float32), 0.5)


def stroke_width(ink):
    """Typical stroke width (px) of a glyph: twice the median distance to paper along the strokes' ridges."""
    solid = ink > 0.5
    distance = ndimage.distance_transform_edt(solid)
    ridge = solid & (distance == ndimage.maximum_filter(distance, 3))
    return 2 * float(np.median(distance[ridge])) if ridge.any() else 1.0


def heavy(ink, rng):
    """Ultra-heavy strokes: the ink grown towards strokes 16-22% of the glyph's longer side wide, whatever
    the face's own weight. Dense syllables stop short of it: strokes reach a median 15% of the side
    (12.5-17.6% for 80% of glyphs; the clean faces' 9.4%). Counters and the gaps between strokes close to
    a hairline but stay open, as an ultra-heavy display face keeps them (a blob of merged strokes is no
    character a person could read): the ink grows one distance layer at a time, only by pixels whose inking
    joins no two strokes and fills no counter, and never over the middle of a gap or of a stroke's bay."""
    target = rng.uniform(0.16, 0.22) * max(ink.shape)
    radius = max(1, int(round((target - stroke_width(ink)) / 2)))
    solid = np.pad(ink > 0.5, radius + 1)
    distance, nearest = ndimage.distance_transform_edt(~solid, return_indices=True)
    middle = np.zeros_like(solid)  # the middle of each gap, bays of one stroke included, stays paper
    for axis in (0, 1):
        # Neighbours whose nearest ink lies on opposite sides of a gap (far apart for how far it is) straddle
        # its middle.
        jump = np.hypot(*(np.diff(index, axis=axis) for index in nearest))
        reach = np.minimum(np.delete(distance, -1, axis), np.delete(distance, 0, axis))
        straddle = (reach >= 1.5) & (jump > 1.6 * reach)
        for side in (slice(None, -1), slice(1, None)):
            middle[tuple(side if a == axis else slice(None) for a in (0, 1))] |= straddle
    for layer in range(1, radius + 1):
        candidates = ~solid & ~middle & (distance <= layer)
        while True:
            added = 0
            for dy in range(3):  # pixels 3 apart see none of each other's neighbours: add them at once
                for dx in range(3):
                    subfield = np.zeros_like(solid)
                    subfield[dy::3, dx::3] = True
                    simple = candidates & subfield & _keeps_topology(solid)
                    solid |= simple
                    candidates &= ~simple
                    added += int(simple.sum())
            if not added:
                break
    return crop_to_ink(ndimage.gaussian_filter(solid.astype(np.float32), 0.5))


def _keeps_topology(solid):
    """Where inking one more paper pixel would neither join two strokes (8-connected) nor close a counter
    (4-connected paper): Yokoi's connectivity number of its eight neighbours is 1."""
    padded = np.pad(solid, 1)
    height, width = solid.shape
    # x1..x8: right, top-right, top, top-left, left, bottom-left, bottom, bottom-right (paper = 1)
    offsets = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))
    paper = [~padded[1 + dy:1 + dy + height, 1 + dx:1 + dx + width] for dy, dx in offsets]
    number = sum(paper[k].astype(np.int8) - (paper[k] & paper[k + 1] & paper[(k + 2) % 8]) for k in (0, 2, 4, 6))
    return number == 1


def shadow(ink, rng):
    """A grey drop shadow 2-4 px down and right of the ink."""
    dy, dx = rng.integers(2, 5, 2)
    shade = np.zeros((ink.shape[0] + dy, ink.shape[1] + dx), np.float32)
    shade[dy:, dx:] = ink * rng.uniform(0.35, 0.6)
    shade[:ink.shape[0], :ink.shape[1]] = np.maximum(shade[:ink.shape[0], :ink.shape[1]], ink)
    return shade


def oblique(ink, rng):
    """Italic: slanted 11-19° to the right."""
    return affine(ink, 0.0, rng.uniform(0.2, 0.35))


def condensed(ink, rng):
    """Narrow width: 55-75% of the face's."""
    return np.clip(_resize(ink, max(1, round(ink.shape[1] * rng.uniform(0.55, 0.75))), ink.shape[0]), 0, 1)


def expanded(ink, rng):
    """Wide width: 130-160% of the face's."""
    return np.clip(_resize(ink, round(ink.shape[1] * rng.uniform(1.3, 1.6)), ink.shape[0]), 0, 1)


# Photo steps: on the framed crop, grey (H, W) or RGB (H, W, 3) float in 0-255 --------------------------------

def colour(ink, rng):
    """Ink and paper 80-255 grey levels apart; 15% light ink on dark paper; 35% tinted colour (RGB)."""
    gap = rng.uniform(80, 255)
    dark = rng.uniform(0, 255 - gap)
    paper, ink_level = (dark, dark + gap) if rng.random() < 0.15 else (dark + gap, dark)
    if rng.random() < 0.35:
        tint = rng.uniform(-0.25, 0.25, 3) * gap
        paper, ink_level = np.clip(paper + tint, 0, 255), np.clip(ink_level - rng.uniform(-0.25, 0.25, 3) * gap,
                                                                  0, 255)
        return paper + (ink_level - paper) * ink[..., None]
    return paper + (ink_level - paper) * ink


def resolution(image, rng):
    """The glyph's longer side down to 22-64 px and back up (a small crop, enlarged)."""
    height, width = image.shape[:2]
    scale = rng.uniform(22, 64) / (max(height, width) / (1 + 2 * CLEAN_MARGIN))
    if scale >= 1:
        return image
    small = _resize(image, max(1, round(width * scale)), max(1, round(height * scale)))
    return _resize(small, width, height)


def blur(image, rng):
    """Gaussian blur, σ 0.3-1 px."""
    sigma = rng.uniform(0.3, 1.0)
    return ndimage.gaussian_filter(image, (sigma, sigma, 0) if image.ndim == 3 else sigma)


def lighting(image, rng):
    """Uneven light: brightness falling linearly by 15-50% across the crop in a random direction."""
    height, width = image.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    y, x = np.mgrid[0:height, 0:width]
    ramp = np.cos(angle) * x / max(width - 1, 1) + np.sin(angle) * y / max(height - 1, 1)
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
    light = 1 - rng.uniform(0.15, 0.5) * ramp
    return image * (light[..., None] if image.ndim == 3 else light)


def noise(image, rng):
    """Sensor noise: Gaussian, 3-12 grey levels."""
    return image + rng.normal(0, rng.uniform(3, 12), image.shape)


def jpeg(image, rng):
    """A JPEG round trip at quality 25-80 (uint8 in, uint8 out)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format='JPEG', quality=int(rng.integers(25, 81)))
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))


STYLE_STEPS = {'outline': outline, 'heavy': heavy, 'shadow': shadow, 'oblique': oblique,
               'condensed': condensed, 'expanded': expanded}
IMAGE_STEPS = {'resolution': resolution, 'blur': blur, 'lighting': lighting, 'noise': noise}


def photograph(ink, rng, steps=()):
    """Frame the ink and apply the photo ``steps`` (names in PHOTO_STEPS) in the order a camera would:
    geometry, contrast/colour, resolution, blur, lighting, noise, JPEG. Returns uint8 (H, W) or (H, W, 3)."""
    unknown = set(steps) - set(PHOTO_STEPS)
    if unknown:
        raise ValueError(f'unknown photo steps {sorted(unknown)}; choose from {PHOTO_STEPS}')
    ink = geometry(ink, rng) if 'geometry' in steps else frame(ink, [CLEAN_MARGIN] * 4)
    image = colour(ink, rng) if 'contrast' in steps else 255 * (1 - ink)
    for name, step in IMAGE_STEPS.items():
        if name in steps:
            image = step(image, rng)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return jpeg(image, rng) if 'jpeg' in steps else image


def degrade(ink, family, rng):
    """The crop of benchmark ``family`` (one of FAMILIES) made from a glyph's ink coverage."""
    if family in STYLE_STEPS:
        return photograph(STYLE_STEPS[family](ink, rng), rng)
    if family == 'combined':
        return photograph(ink, rng, PHOTO_STEPS)
    if family == 'clean':
        return photograph(ink, rng)
    if family in PHOTO_STEPS:
        return photograph(ink, rng, (family,))
    raise ValueError(f'family={family!r}; choose from {FAMILIES}')


# Lines: a whole rendered line, for bench/lines.py ----------------------------------------------------------

def scan_look(gray, rng):
    """A mild scan of a rendered line (uint8, ink 0 on paper 255): ink 15-60 and paper 205-245 grey, turned
    up to ±1° (corners filled with paper), blurred σ 0.3-0.7 px, noise σ 2-6 grey levels, JPEG quality 60-80."""
    ink_level, paper = rng.uniform(15, 60), rng.uniform(205, 245)
    image = paper + (ink_level - paper) * (1 - np.asarray(gray, np.float32) / 255)
    turned = Image.fromarray(image.astype(np.float32), 'F').rotate(rng.uniform(-1, 1), Image.BICUBIC, expand=True,
                                                                    fillcolor=paper)
    image = ndimage.gaussian_filter(np.asarray(turned), rng.uniform(0.3, 0.7))
    image = image + rng.normal(0, rng.uniform(2, 6), image.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8)).save(buffer, format='JPEG',
                                                                          quality=int(rng.integers(60, 81)))
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
