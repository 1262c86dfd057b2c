"""utils/fonts.py: family keys, kinds, the split by family, finding Korean faces."""
import os
import shutil

import pytest

from utils.data.fonts import FontFace, family_key, font_files, korean_faces, split_by_family

from conftest import FONT  # noqa: E402
DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'


def face(family, style='Regular', path=None):
    return FontFace(path or f'/fonts/{family}-{style}.ttf', 0, family, style)


@pytest.mark.parametrize('same', [('NanumGothic', 'NanumGothic Bold', 'NanumGothic Eco', 'NanumGothic ExtraBold'),
                                  ('NanumSquare', 'NanumSquare_ac', 'NanumSquare Light'),
                                  ('UnPilgi', 'UnPilgia'),
                                  ('Noto Sans CJK KR', 'Noto Sans CJK JP', 'Noto Sans Mono CJK KR')])
def test_family_key_groups_weights_and_variants(same):
    assert len({family_key(name) for name in same}) == 1


def test_family_key_keeps_designs_apart():
    names = ['NanumSquare', 'NanumSquareRound', 'NanumGothic', 'NanumMyeongjo', 'UnPen', 'UnPenheulim',
             'Baekmuk Gulim', 'Baekmuk Dotum']
    assert len({family_key(name) for name in names}) == len(names)


def test_kind():
    assert face('Nanum Pen Script').kind() == 'clova'
    assert face('UnPilgi', 'Bold').kind() == 'clova'
    assert face('BM KIRANGHAERANG').kind() == 'clova'
    assert face('NanumGothic').kind() == 'printed'
    clova_download = face('NanumSonGeulssi', path='/fonts/나눔손글씨 가람연꽃.ttf')  # known by file name
    assert clova_download.kind() == 'clova'
    taza = face('UnTaza')
    assert taza.kind() == 'printed'
    assert taza.kind(['UnTaza']) == 'clova' and taza.kind(['un taza bold']) == 'clova'


def families_by_split(split):
    sides = {}
    for f, side in split.items():
        sides.setdefault(f.key, set()).add(side)
    return sides


def test_split_by_family():
    printed = [face(family, style) for family in ['NanumGothic', 'NanumMyeongjo', 'UnDotum', 'UnBatang',
                                                  'Baekmuk Gulim', 'NanumSquare', 'NanumSquareRound']
               for style in ['Regular', 'Bold']]
    clova = [face('Nanum Pen Script'), face('UnPilgi'), face('UnPilgi', 'Bold')]
    faces = printed + clova
    kinds = {f: f.kind() for f in faces}
    for seed in range(5):
        split = split_by_family(faces, kinds, 0.3, seed)
        assert set(split) == set(faces)
        assert all(len(sides) == 1 for sides in families_by_split(split).values())
        val = [f for f in faces if split[f] == 'val']
        assert len({f.key for f in val if kinds[f] == 'printed'}) == 2  # round(7 * 0.3)
        assert len({f.key for f in val if kinds[f] == 'clova'}) == 1  # at least one of two
        assert split == split_by_family(faces, kinds, 0.3, seed)  # deterministic
    assert len({frozenset(f for f, s in split_by_family(faces, kinds, 0.3, seed).items() if s == 'val')
                for seed in range(5)}) > 1


def test_split_edge_cases():
    faces = [face('NanumGothic'), face('NanumGothic', 'Bold'), face('UnPilgi')]
    kinds = {f: f.kind() for f in faces}
    assert set(split_by_family(faces, kinds, 0.3).values()) == {'train'}  # one family per kind
    assert set(split_by_family(faces, kinds, 0.0).values()) == {'train'}
    two = faces + [face('UnDotum')]
    assert list(split_by_family(two, {f: f.kind() for f in two}, 0.9).values()).count('train') >= 1


def test_a_family_of_mixed_kinds_stays_on_one_side():
    faces = [face('Mix', 'Regular'), face('Mix', 'Bold', path='/fonts/MixPen-handwriting.ttf'),
             face('NanumGothic'), face('UnDotum'), face('UnPen'), face('UnVada')]
    kinds = {f: f.kind(['MixPen']) for f in faces}
    assert kinds[faces[0]] != kinds[faces[1]]
    for seed in range(10):
        assert all(len(s) == 1 for s in families_by_split(split_by_family(faces, kinds, 0.5, seed)).values())


def test_font_files(tmp_path):
    (tmp_path / 'a' / 'b').mkdir(parents=True)
    for name in ['a/x.ttf', 'a/b/y.OTF', 'a/z.ttc', 'a/readme.txt']:
        (tmp_path / name).write_bytes(b'')
    found = [os.path.relpath(p, tmp_path) for p in font_files([str(tmp_path)])]
    assert found == ['a/b/y.OTF', 'a/x.ttf', 'a/z.ttc']
    assert font_files([str(tmp_path / 'a' / 'x.ttf')]) == [str(tmp_path / 'a' / 'x.ttf')]


def test_korean_faces(tmp_path):
    shutil.copy(FONT, tmp_path / 'copy.ttf')  # the same glyphs twice: kept once
    data = open(FONT, 'rb').read()
    (tmp_path / 'truncated.ttf').write_bytes(data[:len(data) // 3])
    (tmp_path / 'text.ttf').write_text('not a font')
    paths = [FONT, str(tmp_path / 'copy.ttf'), str(tmp_path / 'truncated.ttf'), str(tmp_path / 'text.ttf')]
    if os.path.exists(DEJAVU):
        paths.append(DEJAVU)  # no Hangul: not a Korean face
    logged = []
    faces = korean_faces(paths, log=logged.append)
    assert [(f.path, f.index, f.kind()) for f in faces] == [(FONT, 0, 'printed')]
    assert len(logged) == 2 and 'text.ttf' in logged[1] and 'truncated.ttf' in logged[0]  # skipped, named
