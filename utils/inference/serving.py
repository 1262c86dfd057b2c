"""The SavedModel serving graph: raw image in, top-5 syllables out, every step a TensorFlow op.

A server (TF Serving, or ``tf.saved_model.load`` in a program that has never seen our code) gets what
``KoOCR.predict`` does: ``prepare`` (``preprocess.py``), the network, then the exact joint top-n of
``topn.py``, with the charset as a constant string tensor. Two signatures, each for one image (unbatched):

- ``serving_default(image_bytes)``: a scalar string of encoded PNG/JPEG/GIF/BMP bytes;
- ``serve_pixels(pixels)``: uint8 [H, W, C], C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).

Both return ``{'syllables': string [5], 'probabilities': float32 [5]}``, best first.

The preprocessing follows ``prepare`` step by step (grey as PIL computes it, transparency on white, the
working-size shrink, polarity from the border median against the middle of the 2nd/98th percentiles, the
lighting surface divided out, the stretch between the Otsu classes' medians, the ink box, then
``normalize_glyph``'s scaling and centring) with these differences:

- no connected components (TensorFlow has no such op): no speck is dropped by size or by distance from the
  glyph. The ink box is that of the dark pixels whose 3×3 neighbourhood is inked (as in ``clean_glyph``),
  which drops isolated one-pixel specks only; a larger speck or stray mark widens the box.
- resampling is TensorFlow's (area for the shrink, Lanczos-3 with antialiasing for a glyph scaled down,
  bicubic for one scaled up), not Pillow's: a prepared pixel may differ by a few grey levels.
"""
import tensorflow as tf

from utils.data import hangul
from utils.data.render import glyph_margin
from utils.inference.preprocess import MIN_CONTRAST, WORKING_SIDE

TOP_N = 5
BYTES_SIGNATURE = 'serving_default'
PIXELS_SIGNATURE = 'serve_pixels'


# Preprocessing, one image at a time (shapes are dynamic; values are grey levels 0-255 in float32) ------------

def to_gray(pixels):
    """uint8 [H, W, C] (C = 1..4) -> float32 [H, W] grey: alpha composited on white, then ITU-R 601 luma in
    Pillow's fixed point (``convert('L')``), so a PNG reads as ``load_gray`` reads it."""
    x = tf.cast(pixels, tf.float32)
    channels = tf.shape(x)[2]

    def on_white():
        alpha = x[..., -1:] / 255.0
        return tf.round(x[..., :-1] * alpha + 255.0 * (1.0 - alpha))

    colour = tf.cond(tf.equal(channels % 2, 0), on_white, lambda: x)

    def luma():
        rgb = tf.cast(colour, tf.int32)
        weighted = rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000
        return tf.cast(tf.bitwise.right_shift(weighted, 16), tf.float32)

    gray = tf.cond(tf.equal(tf.shape(colour)[2], 3), luma, lambda: colour[..., 0])
    return tf.ensure_shape(gray, [None, None])


def within(gray, longest):
    """Shrink so the longer side is at most ``longest`` (area averaging, rounded to grey levels)."""
    height, width = tf.shape(gray)[0], tf.shape(gray)[1]
    side = tf.maximum(height, width)

    def shrink():
        scale = tf.cast(longest, tf.float64) / tf.cast(side, tf.float64)
        size = tf.maximum(1, tf.cast(tf.round(tf.cast(tf.stack([height, width]), tf.float64) * scale), tf.int32))
        return tf.round(tf.image.resize(gray[..., None], size, method='area')[..., 0])

    return tf.ensure_shape(tf.cond(side > longest, shrink, lambda: gray), [None, None])


def percentile(values, q):
    """numpy's default (linear) percentile of any-shaped float values, q in 0..100."""
    ordered = tf.sort(tf.reshape(values, [-1]))
    position = q / 100.0 * tf.cast(tf.size(ordered) - 1, tf.float32)
    low = tf.cast(tf.floor(position), tf.int32)
    high = tf.cast(tf.math.ceil(position), tf.int32)
    fraction = position - tf.floor(position)
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def ink_dark(gray):
    """Flip light-on-dark to dark-on-light: the border median against the middle of the image's own range."""
    border = tf.concat([gray[0], gray[-1], gray[:, 0], gray[:, -1]], 0)
    middle = (percentile(gray, 2.0) + percentile(gray, 98.0)) / 2.0
    flipped = tf.cond(percentile(border, 50.0) < middle, lambda: 255.0 - gray, lambda: gray)
    return tf.ensure_shape(flipped, [None, None])


def uniform3(gray):
    """3×3 mean with mirrored edges (scipy's ``uniform_filter(x, 3)``)."""
    padded = tf.pad(gray, [[1, 1], [1, 1]], mode='SYMMETRIC')
    return tf.nn.avg_pool2d(padded[None, ..., None], 3, 1, 'VALID')[0, ..., 0]


def dilate(mask, iterations):
    """Binary dilation by the 4-neighbour cross (scipy's default structure), ``iterations`` times; bool."""
    grown = tf.while_loop(lambda i, g: i < iterations, lambda i, g: (i + 1, _dilate_once(g)),
                          (tf.constant(0), tf.cast(mask, tf.float32)))[1]
    return tf.ensure_shape(grown, [None, None]) > 0


def _dilate_once(grown):
    padded = tf.pad(grown, [[1, 1], [1, 1]])
    return tf.reduce_max(tf.stack([padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1],
                                   padded[1:-1, :-2], padded[1:-1, 2:]]), 0)


def otsu_threshold(values):
    """The Otsu grey level of float values (truncated to 0..255 levels, as ``preprocess.otsu_threshold``)."""
    levels = tf.cast(tf.clip_by_value(tf.reshape(values, [-1]), 0.0, 255.0), tf.int32)
    counts = tf.cast(tf.math.bincount(levels, minlength=256, maxlength=256), tf.float64)
    weight = tf.cumsum(counts)
    mean = tf.cumsum(counts * tf.range(256, dtype=tf.float64))
    total, grand_mean = weight[-1], mean[-1]
    between = tf.math.divide_no_nan((grand_mean * weight - total * mean) ** 2, weight * (total - weight))
    return tf.cast(tf.argmax(between[:-1]), tf.float32)


def median_of(values):
    return tf.cond(tf.size(values) > 0, lambda: percentile(values, 50.0), lambda: tf.constant(0.0))


def paper_surface(gray, paper):
    """A quadratic surface fitted through the paper pixels (``preprocess._paper_surface``), float64, or the
    flat 255 (nothing divided out) when fewer than 12 paper samples are left."""
    height, width = tf.shape(gray)[0], tf.shape(gray)[1]
    step = tf.maximum(1, tf.cast(tf.sqrt(tf.cast(height * width, tf.float64) / 1024.0), tf.int32))
    ys = tf.cast(tf.range(height), tf.float64) / tf.cast(height, tf.float64) - 0.5
    xs = tf.cast(tf.range(width), tf.float64) / tf.cast(width, tf.float64) - 0.5
    y, x = tf.meshgrid(ys, xs, indexing='ij')
    terms = tf.stack([tf.ones_like(x), x, y, x * x, x * y, y * y], -1)  # [H, W, 6]
    # A tensor stride leaves the rank unknown, which boolean_mask refuses: say it.
    sample = tf.ensure_shape(paper[::step, ::step], [None, None])
    sampled = tf.boolean_mask(tf.ensure_shape(terms[::step, ::step], [None, None, 6]), sample)
    targets = tf.boolean_mask(tf.ensure_shape(tf.cast(gray, tf.float64)[::step, ::step], [None, None]), sample)

    def fit():
        normal = tf.matmul(sampled, sampled, transpose_a=True) + 1e-6 * tf.eye(6, dtype=tf.float64)
        coefficients = tf.linalg.solve(normal, tf.matmul(sampled, targets[:, None], transpose_a=True))
        return tf.maximum(tf.tensordot(terms, coefficients[:, 0], 1), 1.0)

    return tf.cond(tf.reduce_sum(tf.cast(sample, tf.int32)) >= 12, fit,
                   lambda: tf.fill([height, width], tf.constant(255.0, tf.float64)))


def flatten_and_stretch(gray):
    """(stretched grey, usable): lighting divided out, paper at 255 and ink at 0 between the medians of the
    Otsu classes (``preprocess.flatten_and_stretch``); usable is False where ink and paper cannot be told apart."""
    contrast = tf.reduce_max(gray) - tf.reduce_min(gray) >= MIN_CONTRAST
    ink = gray <= otsu_threshold(uniform3(gray))
    surface = paper_surface(gray, tf.logical_not(dilate(ink, 2)))
    flat = tf.cast(tf.cast(gray, tf.float64) / surface * 255.0, tf.float32)
    paper = flat > otsu_threshold(flat)
    both = tf.logical_and(tf.reduce_any(paper), tf.logical_not(tf.reduce_all(paper)))
    paper_level = median_of(tf.boolean_mask(flat, paper))
    ink_level = median_of(tf.boolean_mask(flat, tf.logical_not(paper)))
    levels_apart = paper_level - ink_level >= MIN_CONTRAST
    stretched = (flat - ink_level) / tf.maximum(paper_level - ink_level, 1.0) * 255.0
    usable = tf.logical_and(contrast, tf.logical_and(both, levels_apart))
    return tf.round(tf.clip_by_value(stretched, 0.0, 255.0)), usable


def ink_box(stretched):
    """(glyph, [top, left, bottom, right], found): ink is where the 3×3 mean is below 200 (``clean_glyph``);
    the box is where that ink is dark (< 128), and what lies farther from the ink than a few pixels becomes
    paper. ``found`` is False when there is no ink."""
    inked = uniform3(stretched) < 200.0
    core = tf.logical_and(inked, stretched < 128.0)
    core = tf.cond(tf.reduce_any(core), lambda: core, lambda: inked)
    rows = tf.where(tf.reduce_any(core, 1))[:, 0]
    cols = tf.where(tf.reduce_any(core, 0))[:, 0]
    found = tf.size(rows) > 0
    box = tf.cond(found, lambda: tf.cast(tf.stack([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]), tf.int32),
                  lambda: tf.constant([0, 0, 1, 1]))
    side = tf.cast(tf.reduce_max(tf.shape(stretched)), tf.float64)
    reach = tf.maximum(2, tf.cast(tf.round(side / 24.0), tf.int32))
    glyph = tf.where(dilate(inked, reach), stretched, 255.0)
    return glyph, box, found


def normalize_glyph(glyph, box, image_size):
    """Crop to the box, scale the longer side to the image less its margin, centre on white
    (``render.normalize_glyph``), float32 [S, S]."""
    crop = glyph[box[0]:box[2], box[1]:box[3]]
    height, width = tf.cast(box[2] - box[0], tf.float64), tf.cast(box[3] - box[1], tf.float64)
    scale = (image_size - 2 * glyph_margin(image_size)) / tf.maximum(height, width)
    size = tf.maximum(1, tf.cast(tf.round(tf.stack([height, width]) * scale), tf.int32))
    resized = tf.cond(scale < 1.0,
                      lambda: tf.image.resize(crop[..., None], size, method='lanczos3', antialias=True),
                      lambda: tf.image.resize(crop[..., None], size, method='bicubic'))[..., 0]
    resized = tf.round(tf.clip_by_value(resized, 0.0, 255.0))
    top, left = (image_size - size[0]) // 2, (image_size - size[1]) // 2
    canvas = tf.pad(resized, [[top, image_size - size[0] - top], [left, image_size - size[1] - left]],
                    constant_values=255.0)
    return tf.ensure_shape(canvas, [image_size, image_size])


def prepare(pixels, image_size):
    """uint8 [H, W, C] -> float32 [S, S] ink-dark on white, as ``preprocess.prepare`` (see the module notes)."""
    gray = ink_dark(within(to_gray(pixels), WORKING_SIDE * image_size))
    stretched, usable = flatten_and_stretch(gray)
    glyph, box, found = ink_box(stretched)
    blank = tf.fill([image_size, image_size], 255.0)
    return tf.cond(tf.logical_and(usable, found), lambda: normalize_glyph(glyph, box, image_size), lambda: blank)


# The network's outputs -> the top syllables ---------------------------------------------------------------

def top_syllables(outputs, charset, n=TOP_N):
    """{output name: [1, classes]} -> (string [n], float32 [n]): the exact joint top-n of ``topn.py``."""
    if 'output' in outputs:
        scores = tf.math.log(tf.maximum(outputs['output'][0], 1e-12))
    else:
        jamo = hangul.split_labels(list(charset))
        scores = sum(tf.gather(tf.math.log(tf.maximum(outputs[name][0], 1e-12)), jamo[:, column])
                     for column, name in enumerate(hangul.COMPONENTS))
    values, indices = tf.math.top_k(scores, k=min(n, len(charset)))
    return tf.gather(tf.constant(list(charset)), indices), tf.exp(values)


def serving_functions(network, charset, image_size):
    """{signature name: (function, input signature)} answering one image with the top-5 syllables."""
    output_names = list(network.output_names)

    def answer(pixels):
        prepared = prepare(pixels, image_size)
        outputs = network(prepared[None, ..., None], training=False)
        if not isinstance(outputs, dict):
            outputs = dict(zip(output_names, outputs if isinstance(outputs, (list, tuple)) else [outputs]))
        syllables, probabilities = top_syllables(outputs, charset)
        return {'syllables': syllables, 'probabilities': probabilities}

    def read_bytes(image_bytes):
        pixels = tf.io.decode_image(image_bytes, dtype=tf.uint8, expand_animations=False)
        return answer(pixels)

    return {
        BYTES_SIGNATURE: (read_bytes, [tf.TensorSpec([], tf.string, name='image_bytes')]),
        PIXELS_SIGNATURE: (answer, [tf.TensorSpec([None, None, None], tf.uint8, name='pixels')]),
    }


def export_saved_model(network, charset, image_size, path):
    """Write the serving SavedModel to the directory ``path``; returns nothing (see the module notes)."""
    import keras

    archive = keras.export.ExportArchive()
    archive.track(network)
    for name, (function, signature) in serving_functions(network, charset, image_size).items():
        archive.add_endpoint(name, function, input_signature=signature)
    archive.write_out(path, verbose=False)

