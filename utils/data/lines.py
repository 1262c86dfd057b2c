"""Draw a line of text in one font face: the image (ink 0 on white 255) and each character's box, for
training the line reader and for the line benchmark."""
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont


class LineRenderer:
    """Renders lines of one face with the text ``height`` px from ascender to descender.

    ``render`` places characters one by one at their advance widths, plus ``letter_spacing`` (a fraction
    of the height, negative to tighten), so every character's ink box is known exactly.
    """

    def __init__(self, font_path, height=40, face_index=0):
        try:
            probe = ImageFont.truetype(font_path, 100, index=face_index)
            ascent, descent = probe.getmetrics()
            self.size = max(4, round(100 * height / (ascent + descent)))
            self.font = ImageFont.truetype(font_path, self.size, index=face_index)
            with TTFont(font_path, fontNumber=face_index, lazy=True) as face:
                self.cmap = set(face.getBestCmap() or {})
        except Exception as e:  # fontTools and FreeType raise many types for a broken font
            raise ValueError(f'{font_path} (face {face_index}): cannot be read as a font ({e})') from None
        self.ascent, self.descent = self.font.getmetrics()
        self.height = height
        self._path, self._index, self._sized = font_path, face_index, {self.size: self.font}

    def covers(self, text):
        """True when the face has a glyph for every character of ``text`` but spaces."""
        return all(ord(c) in self.cmap for c in text if c != ' ')

    def render(self, text, letter_spacing=0.0, margin=0.25, scales=None, shifts=None, slants=None):
        """(uint8 image, boxes): ``boxes[i]`` is (left, top, right, bottom) of ``text[i]``'s ink, or its
        advance span over the text's rows for a space or an inkless character. ``margin`` is paper
        around the text, as a fraction of the height. ``scales``, ``shifts`` and ``slants``, one per
        character: its size as a fraction of the face's, how far (px) its baseline drops and how far its ink
        leans right (x += slant · height above the baseline), as a hand varies its letters; None: 1, 0 and 0
        for all."""
        if not self.covers(text):
            missing = sorted({c for c in text if c != ' ' and ord(c) not in self.cmap})
            raise ValueError(f'the font has no glyph for {"".join(missing)!r}')
        fonts = [self.font] * len(text) if scales is None else [self._font(scale) for scale in scales]
        shifts = [0] * len(text) if shifts is None else [round(shift) for shift in shifts]
        slants = [0.0] * len(text) if slants is None else slants
        pad = round(margin * self.height)
        spacing = letter_spacing * self.height
        advances = [font.getlength(c) for font, c in zip(fonts, text)]
        above = max([self.ascent] + [font.getmetrics()[0] - shift for font, shift in zip(fonts, shifts)])
        below = max([self.descent] + [font.getmetrics()[1] + shift for font, shift in zip(fonts, shifts)])
        # Room for the tops of the first and last characters to lean past the margin.
        lean_left, lean_right = (round(max(0.0, lean) * above) for lean in (-min(slants, default=0.0),
                                                                          max(slants, default=0.0)))
        width = pad * 2 + lean_left + lean_right + sum(advances) + spacing * max(0, len(text) - 1)
        image = Image.new('L', (max(1, int(np.ceil(width))), above + below + 2 * pad), 255)
        draw = ImageDraw.Draw(image)
        baseline, x, boxes = pad + above, float(pad + lean_left), []
        for char, advance, font, shift, slant in zip(text, advances, fonts, shifts, slants):
            ink = self._ink_box(char, font)
            if ink is not None and slant:
                boxes.append(self._draw_slanted(image, char, font, (x, baseline + shift), slant))
            elif ink is not None:
                draw.text((x, baseline + shift), char, font=font, fill=0, anchor='ls')
                boxes.append((int(x + ink[0]), baseline + shift + ink[1], int(np.ceil(x + ink[2])),
                              baseline + shift + ink[3]))
            else:
                boxes.append((int(x), pad, int(np.ceil(x + advance)), pad + above + below))
            x += advance + spacing
        return np.asarray(image), boxes

    def _font(self, scale):
        """The face at ``scale`` times its size (loaded once per size)."""
        size = max(4, round(self.size * scale))
        if size not in self._sized:
            self._sized[size] = ImageFont.truetype(self._path, size, index=self._index)
        return self._sized[size]

    @staticmethod
    def _draw_slanted(image, char, font, origin, slant):
        """Draw ``char`` at ``origin`` (x, baseline) onto ``image`` as ``ImageDraw.text`` would, but each ink row
        moved right by ``slant`` times its height above the baseline; its ink box."""
        x = int(origin[0])
        mask, (dx, dy) = font.getmask2(char, anchor='ls', start=(origin[0] - x, 0))
        glyph = Image.frombytes('L', mask.size, bytes(mask))
        leans = (-slant * dy, -slant * (dy + glyph.height))   # the moves of the glyph's top and bottom rows
        least = int(np.floor(min(leans)))
        width = glyph.width + int(np.ceil(max(leans))) - least
        # Each output pixel (u, v) takes the glyph's (u + slant · (dy + v) + least, v).
        leaned = glyph.transform((width, glyph.height), Image.AFFINE, (1, slant, slant * dy + least, 0, 1, 0),
                                 Image.BILINEAR)
        left, top = x + dx + least, int(origin[1]) + dy
        image.paste(0, (left, top), leaned)
        x0, y0, x1, y1 = leaned.getbbox() or (0, 0, 1, 1)
        return left + x0, top + y0, left + x1, top + y1

    @staticmethod
    def _ink_box(char, font):
        """The tight box of the character's ink in ``font`` relative to its origin on the baseline, or None."""
        if char == ' ':
            return None
        mask, (dx, dy) = font.getmask2(char, anchor='ls')
        box = mask.getbbox()
        return None if box is None else (dx + box[0], dy + box[1], dx + box[2], dy + box[3])
