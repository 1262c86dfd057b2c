"""A user's image (path, PIL image or array of any size, colour or polarity) -> the model's input."""
import numpy as np
from PIL import Image, UnidentifiedImageError

from utils.render import normalize_glyph


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
    array = np.asarray(image)
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


def ink_dark(gray):
    """Flip a light-on-dark image so the ink is dark: the border is taken to be paper."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if np.median(border) < 128 else gray


def prepare(image, image_size):
    """One image -> uint8 (S, S) ink-dark, the ink box centred and scaled as the training glyphs were."""
    gray = ink_dark(load_gray(image))
    glyph = normalize_glyph(gray, image_size)
    if glyph is None:  # a blank image: nothing to centre, keep it blank
        return np.full((image_size, image_size), 255, np.uint8)
    return glyph


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
    if inputs.ndim == 3:
        inputs = inputs[..., None]
    if inputs.ndim != 4 or inputs.shape[1:] != (image_size, image_size, 1):
        raise ValueError(f'expected prepared images of shape (N, {image_size}, {image_size}[, 1]), got '
                         f'{inputs.shape}; predict() prepares images of any size')
    return inputs
