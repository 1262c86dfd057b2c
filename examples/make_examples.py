"""Make the example images: syllables drawn with the bundled font, with handwriting-style Debian fonts,
in colour, white on black and at odd sizes; and lines of text (lines/, for read_text). Run from the
repository root: python examples/make_examples.py"""
import os
import sys

import numpy as np

from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = os.path.join(HERE, '..', 'files', 'KoOCRGothic-Regular.ttf')
PEN = '/usr/share/fonts/truetype/nanum/NanumPen.ttf'          # fonts-nanum
PILGI = '/usr/share/fonts/truetype/unfonts-core/UnPilgi.ttf'  # fonts-unfonts-core
DOTUM = '/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf'  # fonts-unfonts-core: has the Korean marks

# (file, syllable, font, size (w, h), ink colour, paper colour, kind)
EXAMPLES = [
    ('printed_01.png', '한', BUNDLED, (96, 96), 'black', 'white', 'printed'),
    ('printed_02.png', '글', BUNDLED, (64, 64), 'black', 'white', 'printed'),
    ('printed_03.png', '됐', BUNDLED, (128, 128), 'black', 'white', 'printed'),
    ('printed_04_colour.png', '닭', BUNDLED, (200, 150), (30, 60, 160), (245, 235, 210), 'printed'),
    ('printed_05_inverted.png', '읽', BUNDLED, (80, 80), 'white', 'black', 'printed'),
    ('printed_06_small.png', '꽃', BUNDLED, (28, 28), 'black', 'white', 'printed'),
    ('hand_01.png', '사', PEN, (96, 96), 'black', 'white', 'handwriting-style'),
    ('hand_02.png', '랑', PILGI, (96, 96), (20, 20, 20), (250, 250, 250), 'handwriting-style'),
]

# (file, lines of text, font, ink grey, paper grey, kind): lines/ and lines/texts.tsv
LINES = [
    ('line_printed.png', ['오늘 날씨는 맑고 기온은 21도입니다.'], BUNDLED, 0, 255, 'printed'),
    ('line_mixed.png', ['KoOCR 2.0 버전을 설치하세요!'], BUNDLED, 0, 255, 'printed'),
    ('line_hand.png', ['우리 내일 같이 점심 먹자'], PEN, 20, 250, 'handwriting-style'),
    ('line_inverted.png', ['흰 글씨와 검은 바탕'], BUNDLED, 255, 30, 'printed'),
    ('line_marks.png', ['※ 참고: 가·나의 “인용” 1～5쪽…'], DOTUM, 0, 255, 'printed'),
    ('paragraph.png', ['한국어 문장을 읽습니다.', '두 줄도 읽을 수 있어요.'], BUNDLED, 0, 255, 'printed'),
]


def draw_lines(lines, font, ink, paper):
    """Lines of text, 40 px high, one under the other, as ink/paper greys."""
    sys.path.insert(0, os.path.join(HERE, '..'))
    from utils.data.lines import LineRenderer
    renderer = LineRenderer(font, 40)
    images = [renderer.render(text)[0] for text in lines]
    page = np.full((sum(i.shape[0] for i in images), max(i.shape[1] for i in images)), 255, np.uint8)
    top = 0
    for image in images:
        page[top:top + image.shape[0], :image.shape[1]] = image
        top += image.shape[0]
    return Image.fromarray(np.rint(ink + page / 255.0 * (paper - ink)).astype(np.uint8))


def draw(char, font_path, size, ink, paper):
    image = Image.new('RGB', size, paper)
    font = ImageFont.truetype(font_path, int(min(size) * 0.75))
    ImageDraw.Draw(image).text((size[0] / 2, size[1] / 2), char, font=font, fill=ink, anchor='mm')
    return image


def main():
    with open(os.path.join(HERE, 'labels.tsv'), 'w', encoding='utf-8') as labels:
        labels.write('file\tlabel\tkind\n')
        for name, char, font, size, ink, paper, kind in EXAMPLES:
            if not os.path.isfile(font):
                print(f'skipped {name}: {font} is not installed')
                continue
            with TTFont(font, lazy=True) as face:
                if ord(char) not in face.getBestCmap():  # never ship a tofu box as an example
                    raise ValueError(f'{font} has no glyph for {char!r}')
            draw(char, font, size, ink, paper).save(os.path.join(HERE, name))
            labels.write(f'{name}\t{char}\t{kind}\n')
    os.makedirs(os.path.join(HERE, 'lines'), exist_ok=True)
    with open(os.path.join(HERE, 'lines', 'texts.tsv'), 'w', encoding='utf-8') as texts:
        texts.write('file\ttext (lines joined by \\n)\tkind\n')
        for name, lines, font, ink, paper, kind in LINES:
            draw_lines(lines, font, ink, paper).save(os.path.join(HERE, 'lines', name))
            texts.write(f'{name}\t' + '\\n'.join(lines) + f'\t{kind}\n')


if __name__ == '__main__':
    main()
