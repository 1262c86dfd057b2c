"""Glyph augmentation inside the model, active in training only: the ways fonts, hands and cameras differ.

Works on ink = 1 images (after ``InkScale``), in this order:
- styles a font family may have: hollow (outline) strokes, ultra-heavy strokes, a drop shadow;
- one bilinear resampling for a random affine map (rotation, shear, scale, aspect, shift) and an elastic
  displacement field at once; then a stroke-width change (grey dilation or erosion);
- what a photo or scan leaves after ``utils.preprocess`` has stretched its contrast: a resolution round
  trip, blur, grey paper, gamma, ink darkness, an uneven-lighting gradient, sensor noise and JPEG.
Each step is a function of its own, so it can be tested alone; each picks its strength per image.
"""
import keras
import tensorflow as tf


def _bilinear_sample(images, ys, xs):
    """images (B,H,W,C) sampled at float coordinates (B,H,W); outside the image is paper (0)."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    ys = tf.clip_by_value(ys + 1.0, 0.0, tf.cast(height, tf.float32) + 1.0)
    xs = tf.clip_by_value(xs + 1.0, 0.0, tf.cast(width, tf.float32) + 1.0)
    y0, x0 = tf.floor(ys), tf.floor(xs)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    y0 = tf.cast(y0, tf.int32)
    x0 = tf.cast(x0, tf.int32)
    y1 = tf.minimum(y0 + 1, height + 1)
    x1 = tf.minimum(x0 + 1, width + 1)
    b = tf.broadcast_to(tf.range(batch)[:, None, None], tf.shape(y0))

    def at(y, x):
        return tf.gather_nd(padded, tf.stack([b, y, x], -1))

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


def _per_image(images, low, high):
    """One uniform value per image, shaped (B, 1, 1, 1) to scale whole images."""
    return tf.random.uniform([tf.shape(images)[0], 1, 1, 1], low, high)


def _chosen(images, probability):
    """1.0 for a random share ``probability`` of the images, else 0.0, shaped (B, 1, 1, 1)."""
    return tf.cast(_per_image(images, 0.0, 1.0) < probability, images.dtype)


def _dilate(images, pixels):
    return tf.nn.max_pool2d(images, 2 * pixels + 1, 1, 'SAME')


def _erode(images, pixels):
    return -tf.nn.max_pool2d(-images, 2 * pixels + 1, 1, 'SAME')


def hollow(images, probability):
    """Outline faces: the strokes thickened by a pixel, then only a 1 or 2 px rim of them kept."""
    outer = _dilate(images, 1)
    rim_1, rim_2 = outer - _erode(outer, 1), outer - _erode(outer, 2)
    rim = tf.where(_per_image(images, 0.0, 1.0) < 0.5, rim_1, rim_2)
    return images + _chosen(images, probability) * (rim - images)


def _shifted(images, step, axis):
    """Images moved ``step`` pixels along ``axis`` (1: down, 2: right; negative: up, left), paper filling in."""
    pad = [[0, 0]] * 4
    pad[axis] = [max(step, 0), max(-step, 0)]
    moved = tf.pad(images, pad)
    size = tf.shape(images)[axis]
    return tf.gather(moved, tf.range(max(-step, 0), max(-step, 0) + size), axis=axis)


def gap_middles(images, most=3):
    """1.0 on the paper pixels at the middle of a horizontal or vertical gap between strokes at most
    ``2 * most`` pixels wide (one or two pixels of each gap), else 0.0."""
    solid = tf.cast(images > 0.5, images.dtype)
    middles = tf.zeros_like(images)
    for axis in (1, 2):
        reach = []
        for direction in (1, -1):  # how far the nearest ink is before / after each pixel, most + 1 if farther
            distance = tf.fill(tf.shape(images), float(most + 1))
            for step in range(most, 0, -1):
                distance = tf.where(_shifted(solid, direction * step, axis) > 0, float(step), distance)
            reach.append(distance)
        middle = (reach[0] <= most) & (reach[1] <= most) & (tf.abs(reach[0] - reach[1]) <= 1)
        middles = tf.maximum(middles, tf.cast(middle, images.dtype))
    return middles * (1.0 - solid)


def embolden(images, probability):
    """Ultra-heavy faces: 1 to 3 px more stroke on every side (at 48 px), so counters nearly close. Nearly: a
    hairline stays down the middle of each narrow gap, as a display face keeps its strokes apart."""
    grown = [_dilate(images, pixels) for pixels in (1, 2, 3)]
    amount = _per_image(images, 0.0, 2.0)  # past 1 px: a fraction of the next pixel's growth, then the next
    heavier = (grown[0] + tf.clip_by_value(amount, 0.0, 1.0) * (grown[1] - grown[0])
               + tf.clip_by_value(amount - 1.0, 0.0, 1.0) * (grown[2] - grown[1]))
    heavier = tf.maximum(heavier * (1.0 - gap_middles(images)), images)
    return images + _chosen(images, probability) * (heavier - images)


def drop_shadow(images, probability):
    """A fainter copy of the glyph 1-3 px down and right, beneath it."""
    offset = tf.random.uniform([], 1, 4, tf.int32)
    shadow = tf.roll(images, [offset, offset], [1, 2]) * _per_image(images, 0.3, 0.7)
    return images + _chosen(images, probability) * (tf.maximum(images, shadow) - images)


def resample(images, probability, smallest=0.5):
    """A resolution round trip: down to ``smallest``-1.0 of the side (one size per batch) and back up."""
    side = tf.shape(images)[1:3]
    scale = tf.random.uniform([], smallest, 1.0)
    small = tf.maximum(tf.cast(tf.cast(side, tf.float32) * scale, tf.int32), 4)
    round_trip = tf.image.resize(tf.image.resize(images, small, antialias=True), side, method='bilinear')
    return images + _chosen(images, probability) * (round_trip - images)


def blur(images, strength):
    """A per-image blur from none to two 3×3 box passes (about σ 1 px at ``strength`` 2)."""
    once = tf.nn.avg_pool2d(images, 3, 1, 'SAME')
    twice = tf.nn.avg_pool2d(once, 3, 1, 'SAME')
    amount = _per_image(images, 0.0, strength)
    return images + tf.clip_by_value(amount, 0, 1) * (once - images) + \
        tf.clip_by_value(amount - 1, 0, 1) * (twice - once)


def paper_and_gamma(images, paper, gamma):
    """Ink darkness 0.6-1, paper greyed up to ``paper``, and a gamma of exp(±``gamma``)."""
    shaped = images ** tf.exp(_per_image(images, -gamma, gamma))
    ink = _per_image(images, 0.6, 1.0)
    grey = _per_image(images, 0.0, paper)
    return grey + (ink - grey) * shaped


def lighting(images, amplitude):
    """An uneven-lighting gradient: a ramp in a random direction, up to ``amplitude`` from end to end."""
    shape = tf.shape(images)
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    ys, xs = tf.meshgrid(tf.linspace(-0.5, 0.5, shape[1]), tf.linspace(-0.5, 0.5, shape[2]), indexing='ij')
    angle = _per_image(images, 0.0, 6.2832)
    ramp = tf.cos(angle) * xs[None, :, :, None] * width / tf.maximum(height, width) + \
        tf.sin(angle) * ys[None, :, :, None] * height / tf.maximum(height, width)
    return images + _per_image(images, 0.0, amplitude) * ramp


def noise(images, stddev):
    """Gaussian sensor noise, its deviation drawn per image up to ``stddev``."""
    return images + tf.random.normal(tf.shape(images)) * _per_image(images, 0.0, stddev)


def jpeg(images, probability, quality=(25, 90)):
    """JPEG round trips at a per-image quality, for a share ``probability`` of the images (ink = 1 in,
    ink = 1 out; the codec sees paper white as a scan would be)."""
    paper_white = tf.image.convert_image_dtype(1.0 - tf.clip_by_value(images, 0.0, 1.0), tf.uint8,
                                               saturate=True)
    qualities = tf.random.uniform([tf.shape(images)[0]], quality[0], quality[1] + 1, tf.int32)
    coded = tf.map_fn(lambda pair: tf.image.adjust_jpeg_quality(pair[0], pair[1]), (paper_white, qualities),
                      fn_output_signature=tf.uint8)
    coded = 1.0 - tf.image.convert_image_dtype(coded, tf.float32)
    return images + _chosen(images, probability) * (tf.reshape(coded, tf.shape(images)) - images)


@keras.saving.register_keras_serializable(package='koocr')
class GlyphAugmentation(keras.layers.Layer):
    """Random styles, affine + elastic warp, stroke width and photo/scan degradations; identity at inference.

    Args:
        rotation: max rotation in radians. shear: max shear (x += shear·y).
        scale: (min, max) zoom. aspect: max log aspect-ratio change. shift: max shift as a share of the side.
        elastic: max elastic displacement in pixels (a smooth 4×4 field, upsampled).
        stroke: max stroke-width change, in pixels of dilation (> 0) or erosion (< 0).
        noise: max standard deviation of the Gaussian noise. blur: max blur (1: one 3×3 box pass).
        hollow, heavy, shadow: share of images drawn as outline, ultra-heavy or shadowed faces.
        resample: share of images sent through a resolution round trip (down to half the side).
        jpeg: share of images JPEG-compressed (quality 25-90).
        paper: max grey of the paper (ink = 1). gamma: max |log gamma|. lighting: max lighting gradient.
        clean: share of images that skip the photo/scan steps (after the warp), as clean renders.
    Elastic distortion: Simard et al., "Best practices for CNNs applied to visual document analysis", 2003.
    """

    def __init__(self, rotation=0.12, shear=0.25, scale=(0.8, 1.05), aspect=0.3, shift=0.06, elastic=2.0,
                 stroke=1.0, noise=0.05, blur=1.0, hollow=0.08, heavy=0.12, shadow=0.04, resample=0.25,
                 jpeg=0.25, paper=0.15, gamma=0.4, lighting=0.15, clean=0.3, **kwargs):
        super().__init__(**kwargs)
        self.rotation, self.shear, self.scale, self.aspect = rotation, shear, tuple(scale), aspect
        self.shift, self.elastic, self.stroke, self.noise, self.blur = shift, elastic, stroke, noise, blur
        self.hollow, self.heavy, self.shadow, self.resample, self.jpeg = hollow, heavy, shadow, resample, jpeg
        self.paper, self.gamma, self.lighting, self.clean = paper, gamma, lighting, clean

    def get_config(self):
        names = ('rotation', 'shear', 'scale', 'aspect', 'shift', 'elastic', 'stroke', 'noise', 'blur',
                 'hollow', 'heavy', 'shadow', 'resample', 'jpeg', 'paper', 'gamma', 'lighting', 'clean')
        return {**super().get_config(), **{name: getattr(self, name) for name in names}}

    def call(self, images, training=None):
        if not training:
            return images
        return self._augment(images)

    def _uniform(self, batch, low, high):
        return tf.random.uniform([batch, 1, 1], low, high)

    def _warp(self, images):
        shape = tf.shape(images)
        batch, height, width = shape[0], shape[1], shape[2]
        h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
        grid_y, grid_x = tf.meshgrid(tf.range(h) - (h - 1) / 2, tf.range(w) - (w - 1) / 2, indexing='ij')
        angle = self._uniform(batch, -self.rotation, self.rotation)
        shear = self._uniform(batch, -self.shear, self.shear)
        log_aspect = self._uniform(batch, -self.aspect, self.aspect)
        zoom = self._uniform(batch, *self.scale)
        # Output pixel -> source pixel: the inverse of scaling then shearing then rotating.
        sy, sx = zoom * tf.exp(log_aspect / 2), zoom * tf.exp(-log_aspect / 2)
        cos, sin = tf.cos(angle), tf.sin(angle)
        ry = cos * grid_y[None] - sin * grid_x[None]
        rx = sin * grid_y[None] + cos * grid_x[None]
        rx = rx - shear * ry
        ys = ry / sy + (h - 1) / 2 + self._uniform(batch, -self.shift, self.shift) * h
        xs = rx / sx + (w - 1) / 2 + self._uniform(batch, -self.shift, self.shift) * w
        if self.elastic:
            field = tf.random.uniform([batch, 4, 4, 2], -1.0, 1.0) * self.elastic
            field = tf.image.resize(field, [height, width], method='bicubic')
            ys, xs = ys + field[..., 0], xs + field[..., 1]
        return _bilinear_sample(images, ys, xs)

    def _stroke(self, images):
        # Erosion is capped at half a pixel: a full 3×3 erosion erases the thin strokes of light faces.
        change = _per_image(images, -self.stroke / 2, self.stroke)
        dilated, eroded = _dilate(images, 1), _erode(images, 1)
        return images + tf.nn.relu(change) * (dilated - images) + tf.nn.relu(-change) * (eroded - images)

    def _augment(self, images):
        images = drop_shadow(embolden(hollow(images, self.hollow), self.heavy), self.shadow)
        images = tf.clip_by_value(self._stroke(self._warp(images)), 0.0, 1.0)
        return images + (1.0 - _chosen(images, self.clean)) * (self._degrade(images) - images)

    def _degrade(self, images):
        """What a photo or scan adds, as left after the contrast stretch of ``utils.preprocess``."""
        images = blur(resample(images, self.resample), self.blur)
        images = paper_and_gamma(tf.clip_by_value(images, 0.0, 1.0), self.paper, self.gamma)
        images = noise(lighting(images, self.lighting), self.noise)
        return tf.clip_by_value(jpeg(images, self.jpeg), 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape
