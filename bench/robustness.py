"""How KoOCR reads photo- and scan-like crops and display-face styles of fonts it never saw.

    nice -n 10 python bench/robustness.py --weights default --data_path ./val_data

The fonts are the held-out families of crawl_data.py's validation split (``manifest.tsv`` of --data_path),
printed and handwriting-style counted apart. Each font draws the same --per_font KS X 1001 syllables (chosen
at --seed); every family of bench/degrade.py (each photo degradation alone, all of them combined, and the
display styles) makes one crop of each, at a fixed seed per family, font and syllable. KoOCR reads the raw
crops through ``predict``'s path (``ocr.prepare`` then ``ocr.rank``); top-1 per family and group. Tesseract 5
(kor) reads the clean and combined crops in the same run, at the page segmentation mode and height that read
a separate clean sample best. Writes a JSON (--out) and contact sheets of the crops and of what the model saw.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import degrade  # noqa: E402
from tesseract_vs_koocr import GROUPS, Tesseract, top1_of  # noqa: E402  (workers import it by this name)
from utils.data import hangul  # noqa: E402
from utils.data.patches import read_manifest  # noqa: E402
from utils.data.render import GlyphRenderer  # noqa: E402
from utils.io import BUNDLED_FONT, atomic_write  # noqa: E402

RENDER_SIZE = 72            # the clean glyph's canvas: its longer side is ~60 px
SHEET_COLUMNS = 12
TESSERACT_FAMILIES = ('clean', 'combined')


def held_out_faces(data_path):
    """{group: [manifest row, ...]} of the validation faces of ``data_path/manifest.tsv``."""
    path = os.path.join(data_path, 'manifest.tsv')
    if not os.path.isfile(path):
        raise SystemExit(f'{path}: not found; run crawl_data.py (its --val_path) first, or pass --data_path')
    rows = [row for row in read_manifest(path) if row['split'] == 'val']
    faces = {group: [row for row in rows if row['kind'] in kinds] for group, kinds in GROUPS.items()}
    faces = {group: found for group, found in faces.items() if found}
    if not faces:
        raise SystemExit(f'{path}: names no held-out (split "val") printed or handwriting-style faces')
    for row in rows:
        if not os.path.isfile(row['file']):
            raise SystemExit(f"{path}: font file {row['file']} is missing on this machine")
    return faces


def glyphs(faces, per_font, seed):
    """[(group, font name, syllable, ink coverage)]: per_font syllables each face has, the same draw per face."""
    charset = hangul.load_charset('ksx1001')
    found = []
    for group, rows in faces.items():
        for row in rows:
            renderer = GlyphRenderer(row['file'], RENDER_SIZE, row['face_index'])
            order = np.random.default_rng([seed, row['font_id']]).permutation(len(charset))
            taken = 0
            for index in order:
                gray = renderer.render(charset[index])
                if gray is None:
                    continue
                found.append((group, f"{row['family']} {row['style']}", charset[index], degrade.ink_of(gray)))
                taken += 1
                if taken == per_font:
                    break
    return found


def crops(found, family, seed):
    """One crop of ``family`` per glyph, each from its own fixed generator."""
    number = degrade.FAMILIES.index(family)
    return [degrade.degrade(ink, family, np.random.default_rng([seed, number, i]))
            for i, (_, _, _, ink) in enumerate(found)]


def by_group(found, answers):
    labels = np.array([g[2] for g in found])
    groups = np.array([g[0] for g in found])
    return {group: dict(top1=top1_of([answers[i] for i in np.flatnonzero(groups == group)],
                                     labels[groups == group]), images=int((groups == group).sum()))
            for group in GROUPS if (groups == group).any()}


def koocr_answers(ocr, images, chunk=512):
    """Top-5 per raw crop, through predict's path (prepare, then rank)."""
    answers = []
    for start in range(0, len(images), chunk):
        answers += ocr.rank(ocr.prepare(images[start:start + chunk]), n=5)
    return answers


# Tesseract -------------------------------------------------------------------------------------------------

def for_tesseract(image, height):
    """A crop in grey, scaled to ``height`` px (aspect kept), its edge extended by a sixth of that on each side:
    Tesseract binarizes it itself."""
    gray = Image.fromarray(image).convert('L')
    width = max(1, round(gray.width * height / gray.height))
    array = np.asarray(gray.resize((width, height), Image.BICUBIC))
    return np.ascontiguousarray(np.pad(array, height // 6, mode='edge'))


def tesseract_answers(engine, images, height):
    return engine.read_batch([for_tesseract(image, height) for image in images])


def tune_tesseract(engine, found, seed, psms, heights):
    """The (psm, height) that read a clean sample (other draws than the test's) best, and every one tried."""
    images, labels = crops(found, 'clean', seed + 1), [g[2] for g in found]
    tried = []
    for height in heights:
        for engine.psm in psms:
            tried.append(dict(psm=engine.psm, height=height,
                              top1=top1_of(tesseract_answers(engine, images, height), labels)))
            print(f"Tesseract tuning: psm {engine.psm}, {height} px: {tried[-1]['top1']:.1%}", flush=True)
    best = max(tried, key=lambda t: t['top1'])
    engine.psm = best['psm']
    return best, tried


# Report ----------------------------------------------------------------------------------------------------

def table(results, groups):
    pct = '{:.1%}'.format
    head = ['family'] + [f'KoOCR {g}' for g in groups]
    tess = results.get('tesseract', {}).get('families', {})
    if tess:
        head += [f'Tesseract {g}' for g in groups]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for family, scores in results['koocr'].items():
        row = [family] + [pct(scores[g]['top1']) for g in groups]
        if tess:
            row += [pct(tess[family][g]['top1']) if family in tess else '' for g in groups]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def contact_sheet(rows, path, cell=64):
    """One row per family: its name, then the first images, each fitted into a white cell."""
    label_width = 110
    sheet = Image.new('RGB', (label_width + cell * SHEET_COLUMNS, cell * len(rows)), 'white')
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(BUNDLED_FONT, 14)
    for r, (name, images) in enumerate(rows):
        draw.text((6, r * cell + cell // 2), name, fill='black', font=font, anchor='lm')
        for c, image in enumerate(images[:SHEET_COLUMNS]):
            picture = Image.fromarray(np.asarray(image, np.uint8).squeeze()).convert('RGB')
            picture.thumbnail((cell - 4, cell - 4), Image.BICUBIC)
            sheet.paste(picture, (label_width + c * cell + (cell - picture.width) // 2,
                                  r * cell + (cell - picture.height) // 2))
    grey = all(np.asarray(image).squeeze().ndim == 2 for _, images in rows for image in images)
    sheet = sheet.convert('L') if grey else sheet.quantize(64)  # small files: a grey sheet, or 64 colours
    atomic_write(path, lambda f: sheet.save(f, format='PNG', optimize=True))


def spread(images, count):
    """``count`` images spread evenly over the list (so every font shows)."""
    return [images[i] for i in np.linspace(0, len(images) - 1, min(count, len(images))).astype(int)]


def run(args):
    import model
    faces = held_out_faces(args.data_path)
    found = glyphs(faces, args.per_font, args.seed)
    groups = [g for g in GROUPS if g in faces]
    ocr = model.KoOCR(weights=args.weights, runtime=args.runtime)
    engine = None
    if args.tesseract != 'false':
        try:
            engine = Tesseract(args.tessdata, args.workers)
        except (ImportError, OSError, RuntimeError) as e:
            if args.tesseract == 'true':
                raise SystemExit(f'Tesseract is not usable here: {e}') from None
            print(f'robustness: no Tesseract ({e}); KoOCR only', file=sys.stderr)
    results = {'koocr': {}}
    raw_rows, seen_rows = [], []
    try:
        if engine:
            best, tried = tune_tesseract(engine, found, args.seed, [int(p) for p in args.psms.split(',')],
                                         [int(h) for h in args.heights.split(',')])
            results['tesseract'] = dict(engine=engine.name, psm=best['psm'], height=best['height'],
                                        tuning=tried, families={})
        for family in tqdm(args.families, desc='families', unit='family'):
            started = time.perf_counter()
            images = crops(found, family, args.seed)
            answers = koocr_answers(ocr, images)
            results['koocr'][family] = by_group(found, answers)
            shown = spread(images, SHEET_COLUMNS)  # glyphs come group by group, font by font
            raw_rows.append((family, shown))
            seen_rows.append((family, list(ocr.prepare(shown))))
            if engine and family in TESSERACT_FAMILIES:
                results['tesseract']['families'][family] = by_group(
                    found, tesseract_answers(engine, images, results['tesseract']['height']))
            print(f'{family}: ' + ', '.join(f"{g} {s['top1']:.1%}" for g, s in results['koocr'][family].items())
                  + f' ({time.perf_counter() - started:.0f} s)', flush=True)
    finally:
        if engine:
            engine.close()
    fonts = {group: [f"{r['family']} {r['style']}" for r in rows] for group, rows in faces.items()}
    return results, groups, fonts, raw_rows, seen_rows, ocr


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', default='default', help="'default' (the shipped model) or a .keras file")
    parser.add_argument('--runtime', default='auto', choices=('auto', 'keras', 'litert'))
    parser.add_argument('--data_path', default='./val_data', help="a crawl's validation folder (its manifest.tsv)")
    parser.add_argument('--per_font', type=int, default=200, help='syllables drawn per held-out face')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--families', nargs='+', default=list(degrade.FAMILIES), choices=degrade.FAMILIES)
    parser.add_argument('--tesseract', default='auto', choices=('auto', 'true', 'false'),
                        help="read the clean and combined crops with Tesseract too ('auto': when installed)")
    parser.add_argument('--psms', default='10,8,7', help='Tesseract page segmentation modes to try')
    parser.add_argument('--heights', default='48,96', help='crop heights (px) to try for Tesseract')
    parser.add_argument('--workers', type=int, default=os.cpu_count(), help='Tesseract processes')
    parser.add_argument('--tessdata', default='/usr/share/tesseract-ocr/5/tessdata')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'robustness.json'))
    args = parser.parse_args(argv)
    if args.per_font < 1:
        parser.error(f'--per_font={args.per_font}: must be at least 1')

    started = time.perf_counter()
    results, groups, fonts, raw_rows, seen_rows, ocr = run(args)
    report = table(results, groups)
    print(report)
    stem = os.path.splitext(args.out)[0]
    contact_sheet(raw_rows, stem + '_crops.png')
    contact_sheet(seen_rows, stem + '_prepared.png')
    summary = dict(command=' '.join(sys.argv), weights=ocr.weights_path, runtime='LiteRT' if ocr.lite else 'Keras',
                   data_path=args.data_path, held_out_fonts=fonts, per_font=args.per_font, seed=args.seed,
                   seconds=round(time.perf_counter() - started), results=results, table=report)
    text = json.dumps(summary, ensure_ascii=False, indent=1)
    atomic_write(args.out, lambda f: f.write(text.encode('utf-8')))
    print(f'wrote {args.out}, {stem}_crops.png, {stem}_prepared.png')


if __name__ == '__main__':
    main()
