"""Patch files: ``<kind>_<n>.pickle`` (or ``.npz``) holding ``{'image': uint8 (N,H,W), 'label': (N,) str}``.

Pickles come from the internet (the original's dataset), so they are read through an unpickler that admits
numpy arrays and dtypes only: a pickle that would call ``os.system`` is refused, naming the file.
Also here: the manifest of the fonts a crawl drew (``manifest.tsv``) and the spools that collect images on
disk before they are shuffled into patches (``PatchSpool``, ``SplitSpools``).
"""
import contextlib
import csv
import glob
import io
import itertools
import os
import pickle
import re
import tempfile
from typing import NamedTuple, Optional

import numpy as np

from utils.data import hangul
from utils.io import atomic_write

KINDS = ('handwritten', 'printed', 'clova')
HANDWRITING_KINDS = ('handwritten', 'clova')  # what adversarial learning tells from 'printed'
MANIFEST_COLUMNS = ('font_id', 'file', 'face_index', 'family', 'style', 'family_key', 'kind', 'split',
                    'glyphs', 'skipped', 'kind_families', 'kind_held_out')
_PATCH_NAME = re.compile(r'^(handwritten|printed|clova)_(\d+)\.(pickle|npz)$')

# What a numpy array pickles to, and nothing more.
_ALLOWED_GLOBALS = {
    ('numpy', 'ndarray'), ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('numpy.dtypes', 'UInt8DType'), ('numpy.dtypes', 'StrDType'), ('numpy.dtypes', 'Int64DType'),
    ('numpy.dtypes', 'Int32DType'), ('numpy.dtypes', 'Int16DType'),
    ('numpy.dtypes', 'ObjectDType'), ('numpy.dtypes', 'BytesDType'),
    ('builtins', 'str'),
    # Protocol 5 (Python 3.14's default) rebuilds arrays from a buffer; protocols 0-2 store bytes as
    # latin-1 text that _codecs.encode turns back into bytes. Both are pure data functions.
    ('numpy.core.numeric', '_frombuffer'), ('numpy._core.numeric', '_frombuffer'), ('_codecs', 'encode'),
}


class Patch(NamedTuple):
    images: np.ndarray             # uint8 (N, H, W), ink dark
    labels: np.ndarray             # str (N,), one syllable each
    fonts: Optional[np.ndarray]    # int (N,): row of the folder's manifest.tsv, when crawled from fonts


class PatchError(ValueError):
    """A patch file that cannot be used; the message names the file."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f'refused to load {module}.{name}: only numpy arrays are allowed')
        return super().find_class(module, name)


def patch_kind(path):
    """'data/printed_3.pickle' -> 'printed'; None for a file that is not a patch."""
    match = _PATCH_NAME.match(os.path.basename(path))
    return match.group(1) if match else None


def list_patches(folder, kinds=None):
    """Patch files in ``folder`` (sorted), optionally only those of the given kinds."""
    paths = sorted(p for p in glob.glob(os.path.join(folder, '*')) if patch_kind(p))
    if kinds:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f'unknown data kinds {sorted(unknown)}; choose from {KINDS}')
        paths = [p for p in paths if patch_kind(p) in kinds]
    return paths


def read_patch(path, image_size=None):
    """Load and check one patch (a ``Patch``); errors name the file."""
    try:
        if path.endswith('.npz'):
            with np.load(path, allow_pickle=False) as data:
                content = {key: data[key] for key in data.files}
        else:
            with open(path, 'rb') as f:
                content = _NumpyOnlyUnpickler(f).load()
    except Exception as e:  # a damaged zip or pickle fails in many ways (BadZipFile, MemoryError, ...)
        raise PatchError(f'{path}: not a readable patch ({type(e).__name__}: {e})') from None
    return check_patch(content, path, image_size)


def check_patch(content, path, image_size=None):
    """Validate the patch schema; every error names ``path``."""
    if not isinstance(content, dict) or not {'image', 'label'} <= set(content):
        raise PatchError(f"{path}: expected a dict with 'image' and 'label'")
    images, labels = np.asarray(content['image']), np.asarray(content['label'])
    if images.dtype != np.uint8 or images.ndim != 3:
        raise PatchError(f'{path}: images must be uint8 (N, H, W), got {images.dtype} {images.shape}')
    if image_size and images.shape[1:] != (image_size, image_size):
        raise PatchError(f'{path}: images are {images.shape[2]}x{images.shape[1]}, '
                         f'expected {image_size}x{image_size} (the model\'s size)')
    if labels.ndim != 1 or len(labels) != len(images):
        raise PatchError(f'{path}: {len(images)} images but labels of shape {labels.shape}')
    try:
        labels = np.char.decode(labels, 'utf-8') if labels.dtype.kind == 'S' else labels.astype(str)
    except (UnicodeDecodeError, ValueError, TypeError) as e:
        raise PatchError(f'{path}: labels are not text ({e})') from None
    fonts = content.get('font')
    if fonts is not None:
        fonts = np.asarray(fonts)
        if fonts.shape != labels.shape or fonts.dtype.kind not in 'iu':
            raise PatchError(f'{path}: font ids must be integers, one per image')
    for index, label in enumerate(labels):
        try:
            hangul.check_syllable(label)
        except ValueError as e:
            raise PatchError(f'{path}: label {index}: {e}') from None
    return Patch(images, labels, fonts)


def write_patch(path, images, labels, fonts=None):
    """Write a patch (pickle or npz by extension) atomically: a crash never leaves half a file.

    Images must already be uint8 and labels one syllable each: casting a float image or cutting '가나' to
    '가' would write wrong data silently.
    """
    content = {'image': np.asarray(images), 'label': np.asarray(labels, dtype=str)}
    if fonts is not None:
        content['font'] = np.asarray(fonts, dtype=np.int16)
    check_patch(content, path)
    content['label'] = content['label'].astype('<U1')
    if path.endswith('.npz'):
        def write(f):
            buffer = io.BytesIO()
            np.savez(buffer, **content)
            f.write(buffer.getvalue())
    else:
        def write(f):
            pickle.dump(content, f, protocol=4)
    atomic_write(path, write)


def write_manifest(path, rows):
    """The manifest: one row per face (its split, kind and counts), written atomically."""
    count_held_out(rows, 0)  # the per-kind counts follow from the rows

    def write(f):
        text = [MANIFEST_COLUMNS] + [tuple(row[c] for c in MANIFEST_COLUMNS) for row in rows]
        f.write(''.join('\t'.join(map(str, r)) + '\n' for r in text).encode('utf-8'))
    atomic_write(path, write)


def read_manifest(path):
    """Rows of a manifest as dicts, its numbers as ints."""
    with open(path, encoding='utf-8') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    for row in rows:
        for column in ('font_id', 'face_index', 'glyphs', 'skipped', 'kind_families', 'kind_held_out'):
            if column in row:  # manifests written before the last two columns lack them
                row[column] = int(row[column])
    return rows


def count_held_out(rows, val_ratio):
    """Fill each row's ``kind_families`` and ``kind_held_out`` (families of its kind, and how many of them
    went to validation); returns one summary line per kind, which says so when a kind holds none out."""
    lines = []
    for kind in sorted({row['kind'] for row in rows}):
        of_kind = [row for row in rows if row['kind'] == kind]
        families = {row['family_key'] for row in of_kind}
        held_out = {row['family_key'] for row in of_kind if row['split'] == 'val'}
        for row in of_kind:
            row.update(kind_families=len(families), kind_held_out=len(held_out))
        plural = 'family' if len(families) == 1 else 'families'
        line = f'kind {kind}: {len(families)} {plural}, {len(held_out) or "none"} held out'
        if val_ratio > 0 and not held_out:
            line += ' (a kind needs two families to hold one out: it trains without validation)'
        lines.append(line)
    return lines


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
            write_patch(path, images[chosen], labels[chosen],
                                None if font_ids is None else font_ids[chosen])
            paths.append(path)
        return paths


class SplitSpools:
    """One ``PatchSpool`` per (part, kind), part naming a folder of ``folders`` ({'train': ..., 'val': ...}):
    what the font crawl and the AIHub conversion both fill, then write out."""

    def __init__(self, folders, image_size):
        self.folders, self.image_size, self.spools = folders, image_size, {}
        self._stack = contextlib.ExitStack()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stack.close()

    def add(self, part, kind, images, labels, font_ids=None):
        key = (part, kind)
        if key not in self.spools:
            self.spools[key] = self._stack.enter_context(PatchSpool(self.folders[part], self.image_size))
        self.spools[key].add(images, labels, font_ids)

    def write(self, pickle_size, rng, taken=(), source='', log=print):
        """Write every spool's patches (see ``PatchSpool.write``), part and kind in order; their paths."""
        paths = []
        for (part, kind), spool in sorted(self.spools.items()):
            written = spool.write(kind, pickle_size, rng, taken)
            log(f'{self.folders[part]}: {len(written)} {source}{kind} patches, {len(spool)} images')
            paths += written
        return paths
