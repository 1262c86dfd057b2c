"""A user's image (path, PIL image or array of any size, colour or polarity) -> the model's input."""

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from utils.data.render import normalize_glyph

MIN_CONTRAST = 24  # grey levels between ink and paper below which an image counts as blank
LEVELS = np.arange(256.0)
WORKING_SIDE = 8   # larger images are cleaned at 8 times the model's side: plenty for a glyph


def load_gray(image):
    """Path, PIL image or array (H,W), (H,W,1|3), or with alpha (H,W,2|4) -> uint8 (H,W) grey; a
    transparent background counts as white paper."""
    if isinstance(image, (str, bytes)) or hasattr(image, '__fspath__'):
        try:
            with Image.open(image) as opened:
                opened.load()
                image = _on_white(opened)
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as e:
            raise ValueError(f'{image}: not a readable image ({e})') from None
    if isinstance(image, Image.Image):
        return np.asarray(_on_white(image))
    if not isinstance(image, (np.ndarray, list, tuple)) and not hasattr(image, '__array__'):
        raise TypeError(f'expected a path, PIL image or array, got {type(image).__name__}')
    array = np.asarray(image)
    if array.size == 0:
        raise ValueError(f'empty image of shape {array.shape}: it has no pixels')
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise TypeError(f'expected an array of numbers, got dtype {array.dtype}')
    check_finite(array, 'image')
    if array.ndim == 3 and array.shape[-1] in (2, 4):
        array = _array_on_white(array)
    if array.ndim == 3 and array.shape[-1] == 3:
        array = array.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    elif array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f'expected an image of shape (H, W) or (H, W, 1|2|3|4), got {np.asarray(image).shape}')
    if array.dtype != np.uint8:
        array = np.asarray(array, np.float32)
        if array.max() <= 1.0:
            array = array * 255.0
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array


def check_finite(array, what):
    """NaN or infinity in a float array is an error: the network would answer confidently all the same."""
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(f'{what} holds NaN or infinity ({int((~np.isfinite(array)).sum())} of {array.size} values)')


def _on_white(image):
    """A PIL image -> 'L', transparent parts on white (dark ink on a transparent sheet is common)."""
    if 'A' in image.getbands() or 'transparency' in image.info:
        rgba = image.convert('RGBA')
        image = Image.alpha_composite(Image.new('RGBA', rgba.size, 'white'), rgba)
    return image.convert('L')


def _array_on_white(array):
    """(H, W, C+1) colour + alpha -> (H, W, C) on white, in the array's own scale (0-255, or 0-1 floats)."""
    white = 255.0 if array.dtype == np.uint8 or array.max() > 1.0 else 1.0
    colour = array[..., :-1].astype(np.float32)
    alpha = array[..., -1:].astype(np.float32) / white
    on_white = colour * alpha + white * (1.0 - alpha)
    return np.rint(on_white).astype(np.uint8) if white == 255.0 else on_white


def otsu_threshold(values):
    """The grey level that best splits uint8-range values into two classes (Otsu, 1979). In floats: the
    squared sums of a 200 px image already overflow 64-bit integers."""
    counts = np.bincount(np.clip(values, 0, 255).astype(np.int64).ravel(), minlength=256)[:256].astype(np.float64)
    weight = np.cumsum(counts)
    mean = np.cumsum(counts * LEVELS)
    total, grand_mean = weight[-1], mean[-1]
    spread = weight * (total - weight)
    between = np.divide((grand_mean * weight - total * mean) ** 2, spread, out=np.zeros(256), where=spread > 0)
    return int(np.argmax(between[:-1]))


def percentiles(values, qs):
    """numpy's default (linear) percentiles of ``values`` at each q of ``qs`` (0..100), by one partial sort:
    the same numbers as ``np.percentile``, in a fraction of its time on a small image."""
    values = np.asarray(values).ravel()
    positions = np.asarray(qs, np.float64) / 100.0 * (values.size - 1)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, values.size - 1)
    ordered = np.partition(values, np.unique(np.concatenate([low, high])))
    fraction = positions - low
    return ordered[low] + (ordered[high].astype(np.float64) - ordered[low]) * fraction


def ink_dark(gray):
    """Flip a light-on-dark image so the ink is dark: the border is taken to be mostly paper, and it is
    compared with the middle of the image's own range, so dark paper under darker ink is not flipped."""
    gray = np.asarray(gray)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    low, high = percentiles(gray, (2, 98))
    return 255 - gray if percentiles(border, (50,))[0] < (low + high) / 2 else gray


def grown(mask, steps=1):
    """A boolean mask grown by ``steps`` 4-neighbour steps (``ndimage.binary_dilation`` with its default
    cross, ``steps`` iterations), by shifted ORs: a tenth of its time on a line image."""
    for _ in range(steps):
        out = mask.copy()
        out[1:] |= mask[:-1]
        out[:-1] |= mask[1:]
        out[:, 1:] |= mask[:, :-1]
        out[:, :-1] |= mask[:, 1:]
        mask = out
    return mask


def _paper_surface(gray, paper):
    """A quadratic surface through the paper pixels: the lighting across the image, for dividing out."""
    height, width = gray.shape
    step = max(1, int(np.sqrt(gray.size / 1024)))  # about 1,024 samples are plenty for six coefficients
    sample = paper[::step, ::step]
    if sample.sum() < 12:
        return None
    y, x = np.arange(height)[:, None] / height - 0.5, np.arange(width)[None, :] / width - 0.5
    rows, columns = np.nonzero(sample)
    ys, xs = y[::step, 0][rows], x[0, ::step][columns]
    terms = np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], -1)  # 1, x, y, x², xy, y²
    # The normal equations: a 6×6 solve costs microseconds where lstsq's SVD costs milliseconds.
    c = np.linalg.solve(terms.T @ terms + 1e-6 * np.eye(6), terms.T @ gray[::step, ::step][sample])
    return np.maximum(c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * x * y + c[5] * y * y, 1.0)


def flatten_and_stretch(gray):
    """Ink-dark grey -> uint8 with the lighting divided out, paper at 255 and ink at 0. The two levels are
    the medians of the Otsu classes, not the min/max (one speck would set them) nor fixed percentiles (a
    glyph of few pixels would miss them). None when ink and paper cannot be told apart."""
    gray = np.asarray(gray, np.float32)
    if gray.max() - gray.min() < MIN_CONTRAST:
        return None
    # Paper for the lighting fit keeps 2 px clear of the ink: anti-aliased edges would bend the surface.
    ink = gray <= otsu_threshold(ndimage.uniform_filter(gray, 3))
    surface = _paper_surface(gray, ~grown(ink, 2))
    if surface is not None:
        gray = gray / surface * 255.0
    paper = gray > otsu_threshold(gray)
    if paper.all() or not paper.any():
        return None
    (paper_level,), (ink_level,) = percentiles(gray[paper], (50,)), percentiles(gray[~paper], (50,))
    if paper_level - ink_level < MIN_CONTRAST:
        return None
    stretched = (gray - ink_level) / (paper_level - ink_level) * 255.0
    return np.rint(np.clip(stretched, 0, 255)).astype(np.uint8)


def clean_glyph(stretched):
    """Keep the glyph, lose the rest. Ink is found on a 3×3-smoothed copy (noise neither breaks nor joins
    strokes; a 1 px stroke still reaches the level) and grouped into components, weighed by their dark
    pixels. The glyph is every component of 10% of the largest or more, and the smaller ones (down to 2%)
    that lie near them: the tick of ㅎ stays, a speck in the corner goes. Everything farther than a few
    pixels from the glyph becomes paper. Returns (image, ink box), or (None, None) when no ink is left."""
    ink = ndimage.uniform_filter(stretched.astype(np.float32), 3) < 200
    labels, count = ndimage.label(ink, structure=np.ones((3, 3)))
    if not count:
        return None, None
    dark = stretched < 128
    weights = np.bincount(labels[dark], minlength=count + 1)[1:]
    if not weights.any():
        weights = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    slices = ndimage.find_objects(labels)
    big = [i for i in range(count) if weights[i] >= 0.1 * weights.max()]
    top, left = min(slices[i][0].start for i in big), min(slices[i][1].start for i in big)
    bottom, right = max(slices[i][0].stop for i in big), max(slices[i][1].stop for i in big)
    pad = 0.2 * max(bottom - top, right - left)

    def near_the_big_ones(i):
        centre_y = (slices[i][0].start + slices[i][0].stop) / 2
        centre_x = (slices[i][1].start + slices[i][1].stop) / 2
        return top - pad <= centre_y <= bottom + pad and left - pad <= centre_x <= right + pad

    kept = np.zeros(count + 1, bool)
    kept[[i + 1 for i in range(count) if i in big or (weights[i] >= max(3, 0.02 * weights.max())
                                                      and near_the_big_ones(i))]] = True
    glyph = kept[labels]
    reach = max(2, round(max(stretched.shape) / 24))
    near = grown(glyph, reach)
    # The smoothed mask reaches a pixel past each crisp edge: the box is where the kept ink is dark.
    core = glyph & dark
    core = core if core.any() else glyph
    rows, cols = np.flatnonzero(core.any(axis=1)), np.flatnonzero(core.any(axis=0))
    box = cols[0], rows[0], cols[-1] + 1, rows[-1] + 1
    return np.where(near, stretched, 255).astype(np.uint8), box


def _within(gray, longest):
    """Shrink a large image so its longer side is at most ``longest`` (the cleaning costs per pixel)."""
    if max(gray.shape) <= longest:
        return gray
    scale = longest / max(gray.shape)
    size = max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale))
    return np.asarray(Image.fromarray(gray).resize(size, Image.BOX))


def prepare(image, image_size):
    """One image -> uint8 (S, S) ink-dark on white, the glyph's box centred and scaled as the training
    glyphs were: polarity from the border, lighting divided out, contrast stretched, specks dropped."""
    gray = ink_dark(_within(load_gray(image), WORKING_SIDE * image_size))
    stretched = flatten_and_stretch(gray)
    glyph, box = clean_glyph(stretched) if stretched is not None else (None, None)
    if glyph is None:  # a blank image: nothing to centre, keep it blank
        return np.full((image_size, image_size), 255, np.uint8)
    return normalize_glyph(glyph, image_size, box)


def is_batch(images):
    """True for a list/tuple of images or an array of shape (N, H, W) / (N, H, W, C)."""
    if isinstance(images, (list, tuple)):
        return True
    if not isinstance(images, np.ndarray):
        return False
    return images.ndim == 4 or (images.ndim == 3 and images.shape[-1] not in (1, 2, 3, 4))


def model_inputs(inputs, image_size):
    """Prepared images (N, S, S) or (N, S, S, 1) -> float32 (N, S, S, 1); other shapes are an error."""
    inputs = np.asarray(inputs, np.float32)
    check_finite(inputs, 'prepared images')
    if len(inputs) == 0 and inputs.size == 0:  # an empty batch, whatever shape it was given as
        return inputs.reshape(0, image_size, image_size, 1)
    if inputs.ndim == 3:
        inputs = inputs[..., None]
    if inputs.ndim != 4 or inputs.shape[1:] != (image_size, image_size, 1):
        raise ValueError(f'expected prepared images of shape (N, {image_size}, {image_size}[, 1]), got '
                         f'{inputs.shape}; predict() prepares images of any size')
    return inputs
