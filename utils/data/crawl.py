"""Fonts → patches: render the charset from every face in parallel, split by family, write shuffled patches."""
import contextlib
import csv
import glob
import itertools
import os
import tempfile
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


def _free_paths(folder, kind, taken):
    """``<folder>/<kind>_0.pickle``, ``_1``, ... skipping the paths in ``taken``."""
    taken = {os.path.abspath(p) for p in taken}
    for n in itertools.count():
        path = os.path.join(folder, f'{kind}_{n}.pickle')
        if os.path.abspath(path) not in taken:
            yield path


class PatchSpool:
    """Images collected in an anonymous temp file beside the patches, then written out as shuffled patches.

    Memory holds the labels only, so the whole Debian font set or all of AIHub fits on a small machine;
    the temp file has no name and vanishes however the process ends.
    """

    def __init__(self, folder, image_size):
        os.makedirs(folder, exist_ok=True)
        self.folder, self.image_size = folder, image_size
        self._file = tempfile.TemporaryFile(dir=folder)
        self._labels, self._font_ids = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()

    def __len__(self):
        return sum(map(len, self._labels))

    def add(self, images, labels, font_ids=None):
        """Append uint8 (N, S, S) images with their labels (and font ids, for every add or none)."""
        self._file.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
        self._labels.append(np.asarray(labels, dtype='<U1'))
        if font_ids is not None:
            self._font_ids.append(np.asarray(font_ids))

    def write(self, kind, pickle_size, rng, taken=()):
        """Shuffle, then write ``<kind>_<n>.pickle`` patches of ``pickle_size`` images atomically, numbered
        from 0 past the paths in ``taken`` (patches written earlier in this run); returns their paths."""
        count = len(self)
        if not count:
            return []
        self._file.flush()
        images = np.memmap(self._file, np.uint8, 'r', shape=(count, self.image_size, self.image_size))
        labels = np.concatenate(self._labels)
        font_ids = np.concatenate(self._font_ids) if self._font_ids else None
        order = rng.permutation(count)
        names = _free_paths(self.folder, kind, taken)
        paths = []
        for start in range(0, count, pickle_size):
            chosen = np.sort(order[start:start + pickle_size])  # read the temp file forwards...
            chosen = chosen[rng.permutation(len(chosen))]      # ...then shuffle within the patch
            path = next(names)
            patches.write_patch(path, images[chosen], labels[chosen],
                                None if font_ids is None else font_ids[chosen])
            paths.append(path)
        return paths


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


def write_manifest(path, rows):
    """The manifest: one row per face (its split, kind and counts), written atomically."""
    def write(f):
        text = [MANIFEST_COLUMNS] + [tuple(row[c] for c in MANIFEST_COLUMNS) for row in rows]
        f.write(''.join('\t'.join(map(str, r)) + '\n' for r in text).encode('utf-8'))
    patches.atomic_write(path, write)


def read_manifest(path):
    """Rows of a manifest as dicts, its numbers as ints."""
    with open(path, encoding='utf-8') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    for row in rows:
        for column in ('font_id', 'face_index', 'glyphs', 'skipped'):
            row[column] = int(row[column])
    return rows


def crawl_fonts(faces, kinds, charset, image_size, pickle_path, val_path, val_ratio, pickle_size,
                placement, seed=0, taken=(), log=print):
    """Render every face, split by family into pickle_path / val_path, number patches past ``taken``.

    Returns the manifest rows and the paths of the patches written.
    """
    started = time.time()
    split = fonts.split_by_family(faces, kinds, val_ratio, seed)
    folders = {'train': pickle_path, 'val': val_path}
    rows, paths = [], []
    with contextlib.ExitStack() as stack:
        spools = {}
        for font_id, (face, images, labels) in enumerate(render_faces(faces, charset, image_size, placement)):
            key = (split[face], kinds[face])
            if key not in spools:
                spools[key] = stack.enter_context(PatchSpool(folders[key[0]], image_size))
            spools[key].add(images, labels, np.full(len(labels), font_id, np.int16))
            rows.append(dict(font_id=font_id, file=face.path, face_index=face.index, family=face.family,
                             style=face.style, family_key=face.key, kind=kinds[face], split=split[face],
                             glyphs=len(labels), skipped=len(charset) - len(labels)))
            if len(labels) < len(charset):
                log(f'{face.name}: skipped {len(charset) - len(labels)} characters the font lacks')
        rng = np.random.default_rng(seed)
        for (part, kind), spool in sorted(spools.items()):
            written = spool.write(kind, pickle_size, rng, taken)
            log(f'{folders[part]}: {len(written)} {kind} patches, {len(spool)} images')
            paths += written
    for folder in {pickle_path, val_path}:
        write_manifest(os.path.join(folder, 'manifest.tsv'), rows)
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
