"""Fonts → patches: render the charset from every face in parallel, split by family, write shuffled patches
(through ``patches.SplitSpools``) and the manifest of the faces."""
import glob
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from utils.data import fonts, patches
from utils.data.render import GlyphRenderer
from utils.io import BUNDLED_FONT



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


def remove_stale_patches(folders, kinds, keep, log=print):
    """Delete the ``kinds`` patches in ``folders`` that are not in ``keep`` (left by an earlier, larger crawl),
    and temp files of a crawl that was killed."""
    keep = {os.path.abspath(p) for p in keep}
    removed = 0
    for folder in set(folders):
        leftovers = glob.glob(os.path.join(folder, '.tmp_*'))
        stale = [p for p in patches.list_patches(folder, kinds) if os.path.abspath(p) not in keep]
        for path in leftovers + stale:
            os.remove(path)
        removed += len(stale)
        if stale:
            log(f'{folder}: removed {len(stale)} {"/".join(sorted(kinds))} patches of an earlier crawl')
    return removed


def crawl_fonts(faces, kinds, charset, image_size, pickle_path, val_path, val_ratio, pickle_size,
                placement, seed=0, taken=(), log=print):
    """Render every face, split by family into pickle_path / val_path, number patches past ``taken``.

    Returns the manifest rows and the paths of the patches written.
    """
    started = time.time()
    split = fonts.split_by_family(faces, kinds, val_ratio, seed)
    folders = {'train': pickle_path, 'val': val_path}
    rows = []
    with patches.SplitSpools(folders, image_size) as spools:
        for font_id, (face, images, labels) in enumerate(render_faces(faces, charset, image_size, placement)):
            spools.add(split[face], kinds[face], images, labels, np.full(len(labels), font_id, np.int16))
            rows.append(dict(font_id=font_id, file=face.path, face_index=face.index, family=face.family,
                             style=face.style, family_key=face.key, kind=kinds[face], split=split[face],
                             glyphs=len(labels), skipped=len(charset) - len(labels)))
            if len(labels) < len(charset):
                log(f'{face.name}: skipped {len(charset) - len(labels)} characters the font lacks')
        paths = spools.write(pickle_size, np.random.default_rng(seed), taken, log=log)
    for line in patches.count_held_out(rows, val_ratio):
        log(line)
    for folder in {pickle_path, val_path}:
        patches.write_manifest(os.path.join(folder, 'manifest.tsv'), rows)
    log(f'{len(faces)} fonts, {sum(r["glyphs"] for r in rows)} images in {time.time() - started:.0f} s')
    return rows, paths


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
