"""Draw one character of one font face as an S×S uint8 image, ink 0 on white 255.

Two placements: the original's ('legacy') (text origin at ``x_offset, y_offset``, font size ``char_size``) and centred
(the ink box scaled to fill the image less a margin, aspect kept), the default because many fonts' metrics
push glyphs out of the original's box, and because ``normalize_glyph`` does the same to a user's image.
"""
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

# The original's table: image size -> (x_offset, y_offset, char_size).
LEGACY_OFFSETS = {64: (5, 5, 50), 96: (8, 8, 80), 128: (14, 10, 100), 256: (50, 10, 200)}
PLACEMENTS = ('center', 'legacy')
PLACEMENT_ALIASES = {'seed': 'legacy'}  # its old name: "seed" now means the random seed only
_NOTDEF_PROBE = '\U0010FFFD'  # a private-use code point no font maps: renders .notdef


def legacy_offsets(image_size):
    """The original's (x_offset, y_offset, char_size) for a size, scaled from 64 px for sizes not in its table."""
    if image_size in LEGACY_OFFSETS:
        return LEGACY_OFFSETS[image_size]
    x, y, size = LEGACY_OFFSETS[64]
    scale = image_size / 64
    return round(x * scale), round(y * scale), round(size * scale)


def glyph_margin(image_size):
    """White border kept around a centred glyph: ~8% of the side (4 px at 48, 8 px at 96)."""
    return max(1, round(image_size * 0.08))


def ink_box(gray, threshold=None):
    """(left, top, right, bottom) of the dark pixels of a grey uint8 image, or None if it has no ink."""
    if threshold is None:
        low, high = int(gray.min()), int(gray.max())
        if high - low < 32:
            return None
        threshold = (low + high) / 2
    ink = gray < threshold
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return None
    return cols[0], rows[0], cols[-1] + 1, rows[-1] + 1


def normalize_glyph(gray, image_size, box=None):
    """Crop a grey ink-dark image to its ink (or to ``box``), scale the longer side to fill the image less
    the margin, centre it on white. Returns uint8 (S, S), or None when there is no ink."""
    gray = np.asarray(gray, dtype=np.uint8)
    box = ink_box(gray) if box is None else box
    if box is None:
        return None
    left, top, right, bottom = box
    crop = Image.fromarray(gray[top:bottom, left:right])
    inner = image_size - 2 * glyph_margin(image_size)
    scale = inner / max(crop.width, crop.height)
    size = max(1, round(crop.width * scale)), max(1, round(crop.height * scale))
    crop = crop.resize(size, Image.LANCZOS if scale < 1 else Image.BICUBIC)
    canvas = np.full((image_size, image_size), 255, np.uint8)
    left, top = (image_size - size[0]) // 2, (image_size - size[1]) // 2
    canvas[top:top + size[1], left:left + size[0]] = np.asarray(crop)
    return canvas


class GlyphRenderer:
    """Renders characters of one font face, skipping those the face lacks (tofu).

    A character is missing when the face's cmap lacks it, it draws no ink, or it draws exactly what the
    face draws for a code point it has no glyph for (.notdef).
    """

    def __init__(self, font_path, image_size, face_index=0, placement='center',
                 x_offset=None, y_offset=None, char_size=None):
        placement = PLACEMENT_ALIASES.get(placement, placement)
        if placement not in PLACEMENTS:
            raise ValueError(f'placement={placement!r}; choose from {PLACEMENTS}')
        default_x, default_y, default_size = legacy_offsets(image_size)
        self.image_size, self.placement = image_size, placement
        self.x_offset = default_x if x_offset is None else x_offset
        self.y_offset = default_y if y_offset is None else y_offset
        self.char_size = default_size if char_size is None else char_size
        # Centred glyphs are drawn large, then scaled down: smoother than drawing at the final size.
        font_size = self.char_size if placement == 'legacy' else 2 * image_size
        try:
            self.font = ImageFont.truetype(font_path, font_size, index=face_index)
            with TTFont(font_path, fontNumber=face_index, lazy=True) as face:
                self.cmap = set(face.getBestCmap() or {})
        except Exception as e:  # fontTools and FreeType raise many types for a broken font
            raise ValueError(f'{font_path} (face {face_index}): cannot be read as a font ({e})') from None
        self.notdef = self._draw(_NOTDEF_PROBE)

    def _draw(self, char):
        if self.placement == 'legacy':
            image = Image.new('L', (self.image_size, self.image_size), 255)
            ImageDraw.Draw(image).text((self.x_offset, self.y_offset), char, font=self.font, fill=0)
            return np.asarray(image)
        side = 4 * self.image_size
        image = Image.new('L', (side, side), 255)
        ImageDraw.Draw(image).text((side // 2, side // 2), char, font=self.font, fill=0, anchor='mm')
        return normalize_glyph(np.asarray(image), self.image_size)

    def render(self, char):
        """uint8 (S, S) image of ``char``, or None when the face has no real glyph for it."""
        if ord(char) not in self.cmap:
            return None
        image = self._draw(char)
        if image is None or image.min() > 128:
            return None
        if self.notdef is not None and np.array_equal(image, self.notdef):
            return None
        return image


def render_glyph(font_path, char, image_size, face_index=0, **placement):
    """One character from one font face (S×S uint8, ink 0), or None when the face lacks it."""
    return GlyphRenderer(font_path, image_size, face_index, **placement).render(char)
