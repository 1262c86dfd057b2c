"""Find Korean font faces, name their families and kinds, and split them into train / validation by family."""
import glob
import hashlib
import logging
import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass

from fontTools.ttLib import TTFont

from utils.data.render import GlyphRenderer

# fontTools logs harmless table quirks of some Debian fonts ("extra bytes in post.stringData array").
logging.getLogger('fontTools').setLevel(logging.ERROR)

FONT_EXTENSIONS = ('.ttf', '.otf', '.ttc', '.otc', '.woff', '.woff2')
SYSTEM_FONT_DIRS = ('/usr/share/fonts', '/usr/local/share/fonts', '~/.fonts', '~/.local/share/fonts',
                    '/Library/Fonts', '/System/Library/Fonts', '~/Library/Fonts', 'C:/Windows/Fonts')
# Handwriting-style faces (family keys, see family_key): patches of kind 'clova'.
HANDWRITING_FAMILIES = (
    'nanumpenscript', 'nanumbrushscript', 'nanumbarunpen', 'unpilgi', 'unpen', 'unpenheulim', 'unvada',
    'bmkiranghaerang', 'bmyeonsung', 'eunjinnakseo', 'bandal', 'bangwool', 'guseul', '나눔손글씨', 'clova',
)
_KOREAN_PROBES = '가한글'  # in KS X 1001, so fonts that cover only its 2,350 syllables count
# Words that name a weight, width or variant of one design, not another design.
_VARIANT_WORDS = re.compile(
    r'(ultralight|extralight|light|thin|regular|medium|semibold|demibold|extrabold|ultrabold|bold|black|heavy'
    r'|eco|yethangul|ligature|mono|coding|jamo|_ac|ttf|pro|air|\b(kr|jp|sc|tc|hk)\b|\d+yrs old)', re.I)
# Designs shipped under two names.
_SAME_DESIGN = {'unpilgia': 'unpilgi', 'nanumsquareac': 'nanumsquare'}


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int
    family: str          # the family name the face declares
    style: str

    @property
    def name(self):
        return f'{self.family} {self.style}'.strip()

    @property
    def key(self):
        return family_key(self.family)

    def kind(self, extra_handwriting=()):
        """'clova' for a handwriting-style face (by family or file name), else 'printed'."""
        names = (self.key, family_key(os.path.basename(self.path)))
        extra = tuple(family_key(e) for e in extra_handwriting)
        return 'clova' if any(h in n for h in HANDWRITING_FAMILIES + extra for n in names) else 'printed'


def family_key(family):
    """'NanumGothic Eco' and 'NanumGothic' -> 'nanumgothic': weights and variants of one design share a key."""
    key = re.sub(r'[^a-z0-9가-힣]', '', _VARIANT_WORDS.sub('', family.lower()))
    return _SAME_DESIGN.get(key, key)


def _faces_in(path):
    """The faces of a font file that have Korean syllables; ValueError naming the file when it is damaged."""
    faces = []
    try:
        with TTFont(path, fontNumber=0, lazy=True) as first:
            count = getattr(first.reader, 'numFonts', 1) if path.lower().endswith(('.ttc', '.otc')) else 1
        for index in range(count):
            with TTFont(path, fontNumber=index, lazy=True) as face:
                cmap = face.getBestCmap() or {}
                if not all(ord(c) in cmap for c in _KOREAN_PROBES):
                    continue
                names = face['name']
                family = str(names.getBestFamilyName() or os.path.basename(path))
                style = str(names.getBestSubFamilyName() or '')
                faces.append(FontFace(os.path.abspath(path), index, family, style))
    # A truncated file fails lazily, table by table, with TTLibError, struct.error, AssertionError, ...
    except Exception as e:
        raise ValueError(f'{path}: not a readable font file ({e})') from None
    return faces


def font_files(paths):
    """Font files under the given files or folders (recursively), sorted."""
    found = []
    for path in paths:
        path = os.path.expanduser(path)
        if os.path.isfile(path):
            found.append(path)
        for ext in FONT_EXTENSIONS:
            found += glob.glob(os.path.join(path, '**', '*' + ext), recursive=True)
            found += glob.glob(os.path.join(path, '**', '*' + ext.upper()), recursive=True)
    return sorted(set(found))


def system_font_files():
    """Font files with Korean glyphs known to fontconfig, or every font in the usual system folders."""
    if shutil.which('fc-list'):
        out = subprocess.run(['fc-list', ':lang=ko', 'file'], capture_output=True, text=True).stdout
        files = sorted({line.split(':')[0].strip() for line in out.splitlines() if line.strip()})
        if files:
            return files
    return font_files(SYSTEM_FONT_DIRS)


def _glyph_fingerprint(face):
    renderer = GlyphRenderer(face.path, 32, face.index)
    images = [renderer.render(c) for c in _KOREAN_PROBES]
    return hashlib.sha1(b''.join(i.tobytes() for i in images if i is not None)).hexdigest()


def korean_faces(paths, log=print):
    """Every distinct face with Korean syllables in the files; faces that draw Hangul identically
    (Noto CJK's JP/KR/SC/TC/HK and Mono faces) are kept once."""
    faces, seen = [], {}
    for path in paths:
        try:
            for face in _faces_in(path):
                fingerprint = _glyph_fingerprint(face)
                if fingerprint in seen:
                    continue
                seen[fingerprint] = face
                faces.append(face)
        except ValueError as e:
            log(f'skipped {e}')
    return faces


def split_by_family(faces, kinds, val_ratio, seed=0):
    """{face: 'train' | 'val'}: ``val_ratio`` of the families of each kind (``kinds``: {face: kind})
    go whole to validation, at least one family per kind when the kind has two or more."""
    # A family is counted under the kind of its first face, so that faces of one family marked as
    # different kinds (a file name matching --handwriting) still land on one side.
    family_kind = {}
    for face in faces:
        family_kind.setdefault(face.key, kinds[face])
    val_keys = set()
    for kind in sorted(set(family_kind.values())):
        keys = sorted(key for key, k in family_kind.items() if k == kind)
        random.Random(f'{seed}-{kind}').shuffle(keys)
        n_val = round(len(keys) * val_ratio)
        if val_ratio > 0 and len(keys) > 1:
            n_val = min(max(n_val, 1), len(keys) - 1)
        val_keys.update(keys[:n_val])
    return {face: 'val' if face.key in val_keys else 'train' for face in faces}


def split_faces(val_ratio=0.15, seed=0):
    """{face: (split, kind)} of this machine's Korean faces, split by family exactly as crawl_data.py does."""
    faces = korean_faces(system_font_files(), log=lambda message: None)
    kinds = {face: face.kind() for face in faces}
    split = split_by_family(faces, kinds, val_ratio, seed)
    return {face: (split[face], kinds[face]) for face in faces}
