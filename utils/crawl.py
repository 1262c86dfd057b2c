"""Fonts → patches: render the charset from every face in parallel, split by family, write shuffled patches."""
import csv
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from utils import fonts, patches
from utils.render import GlyphRenderer

BUNDLED_FONT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            'files', 'KoOCRGothic-Regular.ttf')
MANIFEST_COLUMNS = ('font_id', 'file', 'face_index', 'family', 'style', 'family_key', 'kind', 'split',
                    'glyphs', 'skipped')


def _render_face(job):
    face, charset, image_size, placement = job
    renderer = GlyphRenderer(face.path, image_size, face.index, **placement)
    images, labels = [], []
    for char in charset:
        image = renderer.render(char)
        if image is not None:
            images.append(image)
            labels.append(char)
    shape = (len(images), image_size, image_size)
    return np.array(images, dtype=np.uint8).reshape(shape), np.array(labels, dtype='<U1')


def render_faces(faces, charset, image_size, placement, workers=None):
    """Yield (face, images, labels) for each face, rendered on all cores, with a progress bar."""
    jobs = [(face, charset, image_size, placement) for face in faces]
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        results = pool.map(_render_face, jobs)
        for face, (images, labels) in tqdm(zip(faces, results), total=len(faces), desc='fonts', unit='font'):
            yield face, images, labels


def write_patches(folder, kind, images, labels, font_ids, pickle_size, rng):
    """Shuffle across fonts and characters, then write ``<kind>_<n>.pickle`` patches atomically."""
    order = rng.permutation(len(images))
    paths = []
    for n, start in enumerate(range(0, len(order), pickle_size)):
        chosen = order[start:start + pickle_size]
        path = os.path.join(folder, f'{kind}_{n}.pickle')
        patches.write_patch(path, images[chosen], labels[chosen], font_ids[chosen])
        paths.append(path)
    return paths


def write_manifest(path, rows):
    """The manifest: one row per face (its split, kind and counts), written atomically."""
    def write(f):
        text = [MANIFEST_COLUMNS] + [tuple(row[c] for c in MANIFEST_COLUMNS) for row in rows]
        f.write(''.join('\t'.join(map(str, r)) + '\n' for r in text).encode('utf-8'))
    patches.atomic_write(path, write)


def read_manifest(path):
    """Rows of a manifest as dicts (font_id as int)."""
    with open(path, encoding='utf-8') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    for row in rows:
        row['font_id'] = int(row['font_id'])
    return rows


def crawl_fonts(faces, kinds, charset, image_size, pickle_path, val_path, val_ratio, pickle_size,
                placement, seed=0, log=print):
    """Render every face, split by family into pickle_path / val_path; returns the manifest rows."""
    started = time.time()
    split = fonts.split_by_family(faces, kinds, val_ratio, seed)
    buffers, rows = {}, []
    for font_id, (face, images, labels) in enumerate(render_faces(faces, charset, image_size, placement)):
        key = (split[face], kinds[face])
        buffers.setdefault(key, []).append((images, labels, np.full(len(labels), font_id, np.int16)))
        rows.append(dict(font_id=font_id, file=face.path, face_index=face.index, family=face.family,
                         style=face.style, family_key=face.key, kind=kinds[face], split=split[face],
                         glyphs=len(labels), skipped=len(charset) - len(labels)))
        if len(labels) < len(charset):
            log(f'{face.name}: skipped {len(charset) - len(labels)} characters the font lacks')
    rng = np.random.default_rng(seed)
    for (part, kind), parts in sorted(buffers.items()):
        folder = pickle_path if part == 'train' else val_path
        images, labels, font_ids = (np.concatenate(column) for column in zip(*parts))
        written = write_patches(folder, kind, images, labels, font_ids, pickle_size, rng)
        log(f'{folder}: {len(written)} {kind} patches, {len(images)} images')
    for folder in {pickle_path, val_path}:
        write_manifest(os.path.join(folder, 'manifest.tsv'), rows)
    log(f'{len(faces)} fonts, {sum(r["glyphs"] for r in rows)} images in {time.time() - started:.0f} s')
    return rows


def contact_sheet(faces, chars, image_size, placement, path):
    """A PNG with one row per face: its name, then ``chars`` rendered as the crawl would."""
    label_width, cell = 360, image_size + 4
    sheet = Image.new('L', (label_width + cell * len(chars), cell * len(faces)), 255)
    draw = ImageDraw.Draw(sheet)
    label_font = ImageFont.truetype(BUNDLED_FONT, max(12, image_size // 4))
    for row, (face, images, labels) in enumerate(render_faces(faces, chars, image_size, placement)):
        draw.text((4, row * cell + cell // 3), face.name[:36], font=label_font, fill=0)
        rendered = dict(zip(labels, images))
        for column, char in enumerate(chars):
            if char in rendered:
                sheet.paste(Image.fromarray(rendered[char]), (label_width + column * cell, row * cell + 2))
    sheet.save(path)
    return path
