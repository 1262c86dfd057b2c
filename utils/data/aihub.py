"""AIHub's Korean OCR data (images + JSON labels) → normalized syllable glyphs, one at a time, and patches.

Layout under ``aihub_path``: ``handwritten_label.json`` (or, as another AIHub release names it,
``handwriting_data_info1.json``) with images in ``1_syllable/`` or ``2_syllable/``, ``printed_label.json``
(or ``printed_data_info.json``) with images in ``syllable/``; either part alone is converted too. Only
'글자(음절)' (syllable) annotations are used. The original deleted each image after reading it; we only read.
"""
import collections
import hashlib
import logging
import os

import numpy as np
from tqdm import tqdm

from utils.data.hangul import is_syllable
from utils.data.patches import SplitSpools
from utils.inference.preprocess import prepare
from utils.io import read_json

log = logging.getLogger(f'koocr.{__name__}')

SYLLABLE_TYPE = '글자(음절)'
KINDS = {  # kind -> (label file names, first found wins; image folders)
    'handwritten': (('handwritten_label.json', 'handwriting_data_info1.json'), ('1_syllable', '2_syllable')),
    'printed': (('printed_label.json', 'printed_data_info.json'), ('syllable',)),
}
NAMED_MISSING = 10  # missing images named one by one per kind; the rest are only counted


class AIHubNotFoundError(FileNotFoundError, ValueError):
    """The AIHub folder or one of its label files is missing; the message names the path."""


def _label_names(kinds):
    return [name for kind in kinds for name in KINDS[kind][0]]


def _load_labels(path):
    content = read_json(path)
    if not isinstance(content, dict) or not isinstance(content.get('annotations'), list):
        raise ValueError(f"{path}: expected an object with an 'annotations' list")
    file_names = {str(image.get('id')): image.get('file_name')
                  for image in content.get('images') or [] if isinstance(image, dict)}
    return content['annotations'], file_names


class AIHubSamples:
    """Iterator of (kind, image uint8 (S, S), label) over AIHub syllable images.

    ``counts[kind]`` tallies what was used and why the rest was skipped: 'used', 'not_syllable_type',
    'not_syllable_text', 'missing_image', 'unreadable_image', 'blank_image'.
    """

    def __init__(self, aihub_path, image_size, kinds=('handwritten', 'printed'), with_ids=False):
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f'unknown AIHub kinds {sorted(unknown)}; choose from {sorted(KINDS)}')
        if not os.path.isdir(aihub_path):
            raise AIHubNotFoundError(f'AIHub folder {aihub_path} not found')
        self.aihub_path, self.image_size, self.with_ids = aihub_path, image_size, with_ids
        found = {kind: next((os.path.join(aihub_path, name) for name in KINDS[kind][0]
                             if os.path.isfile(os.path.join(aihub_path, name))), None) for kind in kinds}
        missing = [kind for kind, path in found.items() if path is None]
        if len(missing) == len(found):
            held = sorted(os.listdir(aihub_path))
            raise AIHubNotFoundError(
                f'{aihub_path}: no AIHub label file ({", ".join(_label_names(missing))}); the folder holds '
                + (', '.join(held[:20]) + (f' and {len(held) - 20} more' if len(held) > 20 else '') or 'nothing'))
        if missing:
            log.warning(f'{aihub_path}: no {" or ".join(missing)} label file ({", ".join(_label_names(missing))})'
                        f': converting {" and ".join(k for k in found if k not in missing)} only')
        self.label_paths = {kind: path for kind, path in found.items() if path}
        self.kinds = tuple(self.label_paths)
        self.counts = {kind: collections.Counter() for kind in self.kinds}
        self._samples = self._generate()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._samples)

    def _image_path(self, kind, image_id, file_name):
        names = [f'{image_id}.png'] + ([file_name] if file_name else [])
        candidates = [os.path.join(self.aihub_path, folder, name)
                      for name in names for folder in KINDS[kind][1]]
        if file_name:
            candidates.append(os.path.join(self.aihub_path, file_name))
        return next((path for path in candidates if os.path.isfile(path)), None)

    def _generate(self):
        for kind in self.kinds:
            annotations, file_names = _load_labels(self.label_paths[kind])
            counts = self.counts[kind]
            for note in annotations:
                attributes = note.get('attributes') if isinstance(note, dict) else None
                if not isinstance(attributes, dict) or attributes.get('type') != SYLLABLE_TYPE:
                    counts['not_syllable_type'] += 1
                    continue
                label = str(note.get('text', '')).strip()
                if not is_syllable(label):
                    counts['not_syllable_text'] += 1
                    continue
                image_id = str(note.get('image_id'))
                path = self._image_path(kind, image_id, file_names.get(image_id))
                if path is None:
                    counts['missing_image'] += 1
                    if counts['missing_image'] <= NAMED_MISSING:
                        log.warning(f'{self.aihub_path}: image {image_id} of {kind} label {label!r} not found '
                                    f'under {", ".join(KINDS[kind][1])}/: skipped')
                    continue
                try:  # prepared as predict() prepares a user's image
                    image = prepare(path, self.image_size)
                except (OSError, ValueError) as e:
                    log.warning(f'{path}: unreadable image skipped ({e})')
                    counts['unreadable_image'] += 1
                    continue
                if image.min() == 255:  # prepare() keeps an image without ink blank
                    counts['blank_image'] += 1
                    continue
                counts['used'] += 1
                yield (kind, image, label, image_id) if self.with_ids else (kind, image, label)


def convert_aihub(aihub_path, image_size, kinds=('handwritten', 'printed'), with_ids=False):
    """Iterate (kind, image uint8 (S, S) ink-dark, syllable) over the AIHub tree at ``aihub_path``
    (with ``with_ids``, (kind, image, syllable, image_id)).

    Checks the folder and label files at once (AIHubNotFoundError, a ValueError naming the path); a
    malformed label file raises ValueError naming it when reached. The result's ``counts`` tell how many
    annotations were used and skipped per kind. AIHub handwriting feeds ``handwritten_<n>`` patches,
    AIHub print ``printed_<n>``.
    """
    return AIHubSamples(aihub_path, image_size, kinds, with_ids)


def in_validation(image_id, val_ratio, seed=0):
    """Whether an AIHub image goes to validation: a seeded hash of its id, so it keeps its side on every
    rerun (the data names no writer to split by)."""
    digest = hashlib.sha256(f'{seed}/{image_id}'.encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big') / 2 ** 64 < val_ratio


def write_aihub_patches(aihub_path, image_size, pickle_path, val_path, val_ratio, pickle_size, seed=0,
                        log=print):
    """AIHub handwriting → ``handwritten_<n>.pickle``, AIHub print → ``printed_<n>.pickle``: shuffled
    patches of ``pickle_size`` images, numbered from 0; about ``val_ratio`` of the images go to ``val_path``
    (see ``in_validation``). Returns the paths written."""
    samples = convert_aihub(aihub_path, image_size, with_ids=True)
    folders = {'train': pickle_path, 'val': val_path}
    with SplitSpools(folders, image_size) as spools:
        for kind, image, label, image_id in tqdm(samples, desc='AIHub', unit='image'):
            spools.add('val' if in_validation(image_id, val_ratio, seed) else 'train', kind, image[None], [label])
        paths = spools.write(pickle_size, np.random.default_rng(seed), source='AIHub ', log=log)
    for kind, counts in samples.counts.items():
        log(f'AIHub {kind}: ' + ', '.join(f'{n} {what}' for what, n in sorted(counts.items())))
    return paths
