"""Glyph augmentation inside the model, active in training only: the ways fonts and hands differ.

One bilinear resampling applies a random affine map (rotation, shear, scale, aspect, shift) and an elastic
displacement field at once; then the stroke width changes (grey dilation or erosion), the ink darkness,
blur and noise. Works on ink = 1 images (after ``InkScale``).
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


@keras.saving.register_keras_serializable(package='koocr')
class GlyphAugmentation(keras.layers.Layer):
    """Random affine + elastic warp, stroke width, ink darkness, blur and noise; identity at inference.

    Args:
        rotation: max rotation in radians. shear: max shear (x += shear·y).
        scale: (min, max) zoom. aspect: max log aspect-ratio change. shift: max shift as a share of the side.
        elastic: max elastic displacement in pixels (a smooth 4×4 field, upsampled).
        stroke: max stroke-width change, in pixels of dilation (> 0) or erosion (< 0).
        noise: standard deviation of the Gaussian noise. blur: max blur mix.
    Elastic distortion: Simard et al., "Best practices for CNNs applied to visual document analysis", 2003.
    """

    def __init__(self, rotation=0.12, shear=0.25, scale=(0.8, 1.05), aspect=0.2, shift=0.06, elastic=2.0,
                 stroke=1.0, noise=0.05, blur=0.5, **kwargs):
        super().__init__(**kwargs)
        self.rotation, self.shear, self.scale, self.aspect = rotation, shear, tuple(scale), aspect
        self.shift, self.elastic, self.stroke, self.noise, self.blur = shift, elastic, stroke, noise, blur

    def get_config(self):
        return {**super().get_config(), 'rotation': self.rotation, 'shear': self.shear, 'scale': self.scale,
                'aspect': self.aspect, 'shift': self.shift, 'elastic': self.elastic, 'stroke': self.stroke,
                'noise': self.noise, 'blur': self.blur}

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
        batch = tf.shape(images)[0]
        # Erosion is capped at half a pixel: a full 3×3 erosion erases the thin strokes of light faces.
        change = tf.random.uniform([batch, 1, 1, 1], -self.stroke / 2, self.stroke)
        dilated = tf.nn.max_pool2d(images, 3, 1, 'SAME')
        eroded = -tf.nn.max_pool2d(-images, 3, 1, 'SAME')
        return images + tf.nn.relu(change) * (dilated - images) + tf.nn.relu(-change) * (eroded - images)

    def _augment(self, images):
        batch = tf.shape(images)[0]
        images = self._stroke(self._warp(images))
        blurred = tf.nn.avg_pool2d(images, 3, 1, 'SAME')
        images += tf.random.uniform([batch, 1, 1, 1], 0, self.blur) * (blurred - images)
        images *= tf.random.uniform([batch, 1, 1, 1], 0.6, 1.0)
        images += tf.random.normal(tf.shape(images), stddev=self.noise)
        return tf.clip_by_value(images, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape
