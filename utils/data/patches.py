"""Patch files: ``<kind>_<n>.pickle`` (or ``.npz``) holding ``{'image': uint8 (N,H,W), 'label': (N,) str}``.

Pickles come from the internet (the seed's dataset), so they are read through an unpickler that admits
numpy arrays and dtypes only: a pickle that would call ``os.system`` is refused, naming the file.
"""
import glob
import io
import os
import pickle
import re
import tempfile
from typing import NamedTuple, Optional

import numpy as np

from utils import hangul

KINDS = ('handwritten', 'printed', 'clova')
_PATCH_NAME = re.compile(r'^(handwritten|printed|clova)_(\d+)\.(pickle|npz)$')

# What a numpy array pickles to, and nothing more.
_ALLOWED_GLOBALS = {
    ('numpy', 'ndarray'), ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('numpy.dtypes', 'UInt8DType'), ('numpy.dtypes', 'StrDType'), ('numpy.dtypes', 'Int64DType'),
    ('numpy.dtypes', 'Int32DType'), ('numpy.dtypes', 'Int16DType'), ('numpy.dtypes', 'ObjectDType'), ('numpy.dtypes', 'BytesDType'),
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


def atomic_write(path, write):
    """Call ``write(binary_file)`` on a temp file beside ``path``, then rename it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; ours are ordinary data files
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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
