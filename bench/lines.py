"""KoOCR's line reader against Tesseract 5 (Korean) on whole lines of held-out text in held-out fonts.

    nice -n 10 python bench/lines.py --weights default
    nice -n 10 python bench/lines.py --readers tesseract --lines 20

The fonts are the validation families of the shipped model's crawl (``fonts.split_by_family`` over this
machine's Korean faces at VAL_RATIO, seed 0), printed and handwriting-style counted apart. The text is
``corpus.text_lines('heldout')``: help pages no training line came from. Every face draws the first --lines
sample lines it covers, once clean and once with a mild scan look (bench/degrade.py's ``scan_look``, seeded
per face and line). Both readers read the same images in turn; only the reading calls are timed. Writes a
JSON (--out), prints a markdown table and draws sample readings (--figure).
"""
import argparse
import os
import platform
import sys
import time

os.environ.setdefault('OMP_THREAD_LIMIT', '1')  # Tesseract on one thread: lines/s comparable across machines
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from degrade import scan_look  # noqa: E402
from utils.data import corpus, fonts  # noqa: E402
from utils.data.lines import LineRenderer  # noqa: E402
from utils.cli import reported  # noqa: E402
from utils.evaluation.cer import cer_report, normalize_spaces  # noqa: E402
from utils.io import BUNDLED_FONT, atomic_write, write_json  # noqa: E402

# The shipped model's crawl held out 15% of the families (README: `crawl_data.py --val_ratio=0.15`, seed 0),
# not crawl_data.py's default 10%: this is the split whose fonts the glyph model never saw.
VAL_RATIO = 0.15
GROUPS = {'printed': 'printed', 'clova': 'handwriting'}   # FontFace.kind() -> the name reported
CONDITIONS = ('clean', 'scan')
READERS = ('koocr', 'tesseract')
TESSDATA = '/usr/share/tesseract-ocr/5/tessdata'
FIGURE_FONT = '/usr/share/fonts/truetype/nanum/NanumGothic.ttf'   # fonts-nanum
FIGURE_SAMPLES = 6
SAMPLE_POOL = 4000   # held-out lines drawn at --seed; each face reads the first --lines it covers


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--lines', type=int, default=50, help='lines per font per condition')
    parser.add_argument('--height', type=int, default=40, help='text height in px, ascender to descender')
    parser.add_argument('--seed', type=int, default=0, help='seed of the line sample and the scan looks')
    parser.add_argument('--weights', default='default', help="KoOCR's weights")
    parser.add_argument('--readers', default=','.join(READERS),
                        help=f'comma-separated, from {", ".join(READERS)}')
    parser.add_argument('--fonts', nargs='+', default=None,
                        help='font files to read instead of the held-out faces (their kind from the name)')
    parser.add_argument('--text', default=None,
                        help='a UTF-8 file of lines to read instead of the held-out help pages')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'lines.json'))
    parser.add_argument('--figure', default=os.path.join(ROOT, 'docs', 'lines.png'))
    args = parser.parse_args(argv)
    args.readers = [name.strip() for name in args.readers.split(',') if name.strip()]
    unknown = sorted(set(args.readers) - set(READERS))
    if unknown or not args.readers:
        parser.error(f'--readers={",".join(args.readers)}: choose one or more of {",".join(READERS)}')
    if args.lines < 1:
        parser.error(f'--lines={args.lines}: expected at least 1')
    if args.height < 8:
        parser.error(f'--height={args.height}: expected at least 8 (pixels)')
    return args


def held_out_faces(paths=None):
    """{group: [FontFace]}: the validation faces of the split at VAL_RATIO over the Korean faces of
    ``paths`` (the machine's by default), or every face of ``paths`` when they are given."""
    if paths is None:
        split = fonts.split_faces(VAL_RATIO, seed=0)
        faces = [face for face, (side, _) in split.items() if side == 'val']
    else:
        faces = fonts.korean_faces(paths)
    kinds = {face: face.kind() for face in faces}
    chosen = {group: [face for face in faces if GROUPS[kinds[face]] == group] for group in GROUPS.values()}
    chosen = {group: found for group, found in chosen.items() if found}
    if not chosen:
        raise SystemExit('bench/lines.py: no held-out Korean font faces; install fonts-nanum and the other '
                         'Korean font packages, or pass --fonts')
    return chosen


class Tesseract:
    """Tesseract 5 reading one line image: one API object, reused."""

    def __init__(self):
        from tesserocr import PSM, PyTessBaseAPI
        self.api = PyTessBaseAPI(path=TESSDATA, lang='kor', psm=PSM.SINGLE_LINE)

    def __call__(self, gray):
        self.api.SetImage(Image.fromarray(gray))
        return self.api.GetUTF8Text().strip()


def make_readers(names, weights):
    """{name: read(gray uint8 line) -> str}."""
    readers = {}
    for name in names:
        if name == 'tesseract':
            readers[name] = Tesseract()
        elif name == 'koocr':
            import model  # TensorFlow: loaded only when KoOCR reads
            readers[name] = model.KoOCR(weights=weights).read_text
    return readers


def read_lines(path):
    """The lines of a UTF-8 file, space-normalised, empty ones dropped."""
    with open(path, encoding='utf-8') as f:
        return [line for line in (normalize_spaces(row) for row in f) if line]


def face_lines(renderer, pool, count):
    """The first ``count`` lines of ``pool`` that the face covers."""
    return [line for line in pool if renderer.covers(line)][:count]


def read_all(faces, pool, readers, lines, height, seed, log=print):
    """(records, seconds per reader): one record per image (group, font, condition, reference, image,
    readings by reader); the readers take turns on each image, and only their calls are timed."""
    records, seconds = [], dict.fromkeys(readers, 0.0)
    every_face = [(group, face) for group, group_faces in faces.items() for face in group_faces]
    for face_number, (group, face) in enumerate(every_face):
        renderer = LineRenderer(face.path, height, face.index)
        chosen = face_lines(renderer, pool, lines)
        log(f'{group}: {face.name}: {len(chosen)} lines')
        for line_number, text in enumerate(chosen):
            clean, _ = renderer.render(text)
            rng = np.random.default_rng([seed, face_number, line_number])
            for condition, image in (('clean', clean), ('scan', scan_look(clean, rng))):
                readings = {}
                for name, read in readers.items():
                    started = time.perf_counter()
                    readings[name] = read(image)
                    seconds[name] += time.perf_counter() - started
                records.append(dict(group=group, font=face.name, condition=condition, reference=text,
                                    image=image, readings=readings))
    return records, seconds


def summarise(records, seconds):
    """{'cer': {reader: {group: {condition: cer_report}}}, 'lines_per_second': {reader: lines/s}}."""
    cer = {name: {} for name in seconds}
    for name in seconds:
        for group in dict.fromkeys(r['group'] for r in records):
            cer[name][group] = {
                condition: cer_report([(r['reference'], r['readings'][name]) for r in records
                                       if r['group'] == group and r['condition'] == condition])
                for condition in CONDITIONS}
    speed = {name: len(records) / total if total else None for name, total in seconds.items()}
    return {'cer': cer, 'lines_per_second': speed}


def percent(rate):
    return '–' if rate is None else f'{100 * rate:.1f}%'


def markdown_table(summary):
    """Rows group × condition; per reader, CER overall / on Hangul / on spaces."""
    readers = list(summary['cer'])
    header = '| fonts | condition | lines | ' + ' | '.join(f'{name} CER (Hangul, spaces)' for name in readers) + ' |'
    rows = [header, '|' + '---|' * (3 + len(readers))]
    first = summary['cer'][readers[0]]
    for group, by_condition in first.items():
        for condition, report in by_condition.items():
            cells = []
            for name in readers:
                r = summary['cer'][name][group][condition]
                cells.append(f"{percent(r['overall'])} ({percent(r['hangul'])}, {percent(r['spaces'])})")
            rows.append(f"| {group} | {condition} | {report['lines']} | " + ' | '.join(cells) + ' |')
    speeds = [f"{name} {value:.1f}" for name, value in summary['lines_per_second'].items() if value]
    return '\n'.join(rows) + '\n\nlines/s: ' + ', '.join(speeds)


def pick_samples(records, count=FIGURE_SAMPLES):
    """``count`` records taken in turn from each (group, condition), each of a font and a line not shown yet
    (or, when those run out, the first records not picked)."""
    by_kind = {}
    for record in records:
        by_kind.setdefault((record['group'], record['condition']), []).append(record)
    picked, fonts_shown, lines_shown = [], set(), set()
    while len(picked) < min(count, len(records)):
        added = False
        for found in by_kind.values():
            fresh = [r for r in found if r['font'] not in fonts_shown and r['reference'] not in lines_shown]
            if fresh and len(picked) < count:
                picked.append(fresh[0])
                fonts_shown.add(fresh[0]['font'])
                lines_shown.add(fresh[0]['reference'])
                added = True
        if not added:
            picked += [r for r in records if not any(r is p for p in picked)][:count - len(picked)]
    return picked


def draw_figure(samples, path):
    """Each sample's image, and below it the reference and every reader's reading."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.font_manager import FontProperties
    font = FontProperties(fname=FIGURE_FONT if os.path.isfile(FIGURE_FONT) else BUNDLED_FONT, size=11)
    readers = list(samples[0]['readings'])
    figure, axes = plt.subplots(2 * len(samples), 1, figsize=(8, 1.6 * len(samples)),
                                gridspec_kw={'height_ratios': [1, 0.35 * (1 + len(readers))] * len(samples)})
    for number, sample in enumerate(samples):
        picture, words = axes[2 * number], axes[2 * number + 1]
        picture.imshow(sample['image'], cmap='gray', vmin=0, vmax=255)
        picture.set_anchor('W')
        picture.set_title(f"{sample['font']} · {sample['condition']}", fontsize=9, loc='left')
        lines = [('reference', sample['reference'])] + [(name, sample['readings'][name]) for name in readers]
        for row, (label, text) in enumerate(lines):
            words.text(0, 1 - (row + 0.5) / len(lines), f'{label}: {text}', fontproperties=font, va='center')
        for ax in (picture, words):
            ax.axis('off')
    figure.tight_layout()
    atomic_write(path, lambda f: figure.savefig(f, format='png', dpi=100))
    plt.close(figure)


def main(argv=None):
    args = parse_args(argv)
    faces = held_out_faces(args.fonts)
    pool = read_lines(args.text) if args.text else corpus.text_lines('heldout', count=SAMPLE_POOL, seed=args.seed)
    readers = make_readers(args.readers, args.weights)
    started = time.time()
    records, seconds = read_all(faces, pool, readers, args.lines, args.height, args.seed)
    summary = summarise(records, seconds)
    samples = pick_samples(records)
    write_json(args.out, {
        'settings': dict(lines=args.lines, height=args.height, seed=args.seed, weights=args.weights,
                         readers=args.readers, val_ratio=VAL_RATIO),
        'machine': dict(platform=platform.platform(), processor=platform.processor(), cpus=os.cpu_count()),
        'fonts': {group: [face.name for face in found] for group, found in faces.items()},
        **summary,
        'seconds': dict(reading=seconds, wall=time.time() - started),
        'samples': [{k: v for k, v in s.items() if k != 'image'} for s in samples],
    })
    draw_figure(samples, args.figure)
    print(markdown_table(summary))
    print(f'wrote {args.out} and {args.figure}')


def cli(argv=None):
    """main, with a missing text file or help-page folder said in one line."""
    with reported((FileNotFoundError, ValueError)):
        main(argv)


if __name__ == '__main__':
    cli()
