"""Where the line reader loses syllables, face by face: the syllable model alone against the whole reader.

    nice -n 10 python bench/line_losses.py

For every held-out face (bench/lines.py's faces and text, clean lines), three error rates over the same
syllables:
- ``isolated``: the syllable model on each syllable drawn alone (``GlyphRenderer``, as the crawl draws them);
- ``true_boxes``: the syllable model on each syllable cut from the line by its true ink box: what reading
  would get with a perfect segmenter and no symbol network;
- ``line``: ``read_text``'s Hangul CER (edit distance over the lines' syllables).
``line`` above ``true_boxes`` is what segmentation, the symbol network and the path search cost; ``true_boxes``
above ``isolated`` is what the line's smaller, tighter drawing costs the syllable model.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lines import SAMPLE_POOL, face_lines, held_out_faces  # noqa: E402
from utils.data import corpus  # noqa: E402
from utils.data.hangul import is_syllable  # noqa: E402
from utils.data.lines import LineRenderer  # noqa: E402
from utils.data.render import GlyphRenderer, normalize_glyph  # noqa: E402
from utils.evaluation.cer import cer_report  # noqa: E402
from utils.io import write_json  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--lines', type=int, default=50, help='lines per font')
    parser.add_argument('--height', type=int, default=40, help='text height in px, ascender to descender')
    parser.add_argument('--seed', type=int, default=0, help='seed of the line sample (bench/lines.py: 0)')
    parser.add_argument('--weights', default='default', help="KoOCR's weights")
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'line_losses.json'))
    return parser.parse_args(argv)


def error_rate(ranked, truth):
    return float(np.mean([top[0] != char for top, char in zip(ranked, truth)]))


def face_losses(ocr, face, pool, lines, height):
    """{'syllables', 'isolated', 'true_boxes', 'line'} of one face's first ``lines`` lines of ``pool``, or None
    when those hold no syllable."""
    renderer = LineRenderer(face.path, height, face.index)
    glyphs = GlyphRenderer(face.path, ocr.image_size, face.index)
    cut, alone, truth, pairs = [], [], [], []
    for text in face_lines(renderer, pool, lines):
        image, boxes = renderer.render(text)
        pairs.append((text, ocr.read_text(image)))
        for char, box in zip(text, boxes):
            if is_syllable(char):
                truth.append(char)
                cut.append(normalize_glyph(image, ocr.image_size, box=box))
                alone.append(glyphs.render(char))
    if not truth:
        return None
    return dict(syllables=len(truth), isolated=error_rate(ocr.rank(np.stack(alone), 1), truth),
                true_boxes=error_rate(ocr.rank(np.stack(cut), 1), truth), line=cer_report(pairs)['hangul'])


def main(argv=None):
    args = parse_args(argv)
    import model  # TensorFlow: after the arguments are checked
    ocr = model.KoOCR(weights=args.weights)
    pool = corpus.text_lines('heldout', count=SAMPLE_POOL, seed=args.seed)
    report = {}
    print('| face | syllables | isolated | true boxes | line (Hangul CER) |\n|---|---|---|---|---|')
    for group, faces in held_out_faces().items():
        for face in faces:
            found = face_losses(ocr, face, pool, args.lines, args.height)
            if found is None:
                print(f'| {face.name} | 0 | | | |')
                continue
            report[face.name] = dict(group=group, **found)
            print(f"| {face.name} | {found['syllables']} | {found['isolated']:.1%} | {found['true_boxes']:.1%} "
                  f"| {found['line']:.1%} |", flush=True)
    write_json(args.out, dict(settings=vars(args) | {'out': None}, faces=report))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
