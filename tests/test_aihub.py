"""utils/aihub.py on a small fake AIHub tree of the real layout."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from utils.data.aihub import AIHubNotFoundError, convert_aihub

SIZE = 32


def glyph_png(path, dark_background=False, transparent=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    ink, paper = (255, 0) if dark_background else (0, 255)
    if transparent:
        image = Image.new('RGBA', (60, 50), (0, 0, 0, 0))
        ink = (0, 0, 0, 255)
    else:
        image = Image.new('L', (60, 50), paper)
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 8, 40, 14), fill=ink)
    draw.rectangle((22, 8, 28, 40), fill=ink)
    image.save(path)


def annotation(image_id, text, kind='글자(음절)'):
    return {'id': f'a{image_id}', 'image_id': image_id, 'text': text, 'attributes': {'type': kind}}


def write_json(path, annotations, images=()):
    path.write_text(json.dumps({'info': {}, 'images': list(images), 'annotations': annotations},
                               ensure_ascii=False), encoding='utf-8')


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / 'AIhub'
    glyph_png(root / '1_syllable' / '00000001.png')
    glyph_png(root / '2_syllable' / '00000002.png', dark_background=True)
    glyph_png(root / '1_syllable' / '00000003.png')  # labelled as a word: skipped
    (root / '2_syllable' / '00000005.png').write_bytes(b'not a png')
    write_json(root / 'handwritten_label.json', [
        annotation('00000001', '가'),
        annotation('00000002', '나'),
        annotation('00000003', '가나', '단어(어절)'),
        annotation('00000004', '다'),  # no image
        annotation('00000005', '라'),  # unreadable image
        annotation('00000006', 'A'),  # not Hangul
    ], images=[{'id': '00000001', 'file_name': '00000001.png'}])
    glyph_png(root / 'syllable' / '00100001.png', transparent=True)
    glyph_png(root / 'syllable' / 'renamed.png')  # found through its file_name only
    write_json(root / 'printed_label.json', [
        annotation('00100001', '마'),
        annotation('00100002', '바'),
        annotation('00100003', '사장', '글자(음절)'),
    ], images=[{'id': '00100002', 'file_name': 'renamed.png'}])
    return root


def test_convert_aihub(tree, caplog):
    files_before = sorted(p for p in tree.rglob('*'))
    samples = convert_aihub(str(tree), SIZE)
    results = list(samples)
    assert [r.levelname for r in caplog.records] == ['WARNING'] * 2  # the missing and the unreadable image
    assert '00000004' in caplog.text and '00000005.png' in caplog.text
    assert [(kind, label) for kind, _, label in results] == [
        ('handwritten', '가'), ('handwritten', '나'), ('printed', '마'), ('printed', '바')]
    first = results[0][1]
    for _, image, _ in results:
        assert image.dtype == np.uint8 and image.shape == (SIZE, SIZE)
        assert image[0, 0] == 255 and image.min() < 64  # ink dark on white, whatever the source
        np.testing.assert_allclose(image, first, atol=40)  # the same shape drawn four ways
    assert samples.counts['handwritten'] == {'used': 2, 'not_syllable_type': 1, 'missing_image': 1,
                                             'unreadable_image': 1, 'not_syllable_text': 1}
    assert samples.counts['printed'] == {'used': 2, 'not_syllable_text': 1}
    assert sorted(p for p in tree.rglob('*')) == files_before  # the user's files are only read


def test_convert_aihub_one_kind(tree):
    results = list(convert_aihub(str(tree), SIZE, kinds=('printed',)))
    assert [label for _, _, label in results] == ['마', '바']


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match='nowhere') as info:
        convert_aihub(str(tmp_path / 'nowhere'), SIZE)
    assert isinstance(info.value, FileNotFoundError)


def test_one_part_missing_converts_the_other_and_says_so(tree, caplog):
    (tree / 'printed_label.json').unlink()
    samples = convert_aihub(str(tree), SIZE)
    assert 'no printed label file (printed_label.json, printed_data_info.json): converting handwritten only' \
        in caplog.text
    assert samples.kinds == ('handwritten',)
    assert [label for _, _, label in samples] == ['가', '나'] and '00000005.png' in caplog.text


def test_no_label_file_at_all_lists_what_the_folder_holds(tree):
    (tree / 'printed_label.json').unlink()
    (tree / 'handwritten_label.json').unlink()
    with pytest.raises(AIHubNotFoundError, match=r'no AIHub label file \(handwritten_label.json, '
                                                 r'handwriting_data_info1.json, .*the folder holds 1_syllable, '
                                                 r'2_syllable, syllable$'):
        convert_aihub(str(tree), SIZE)


def test_the_other_release_names_its_label_files_otherwise(tree):
    (tree / 'handwritten_label.json').rename(tree / 'handwriting_data_info1.json')
    (tree / 'printed_label.json').rename(tree / 'printed_data_info.json')
    assert [label for _, _, label in convert_aihub(str(tree), SIZE)] == ['가', '나', '마', '바']


def test_a_missing_image_is_named_and_the_others_converted(tree, caplog):
    samples = convert_aihub(str(tree), SIZE, kinds=('handwritten',))
    labels = [label for _, _, label in samples]
    assert labels == ['가', '나'] and samples.counts['handwritten']['missing_image'] == 1
    assert "image 00000004 of handwritten label '다' not found under 1_syllable, 2_syllable/: skipped" in caplog.text


@pytest.mark.parametrize('content', ['{"images": [', '[1, 2]', '{"annotations": 3}'])
def test_malformed_json(tree, content):
    (tree / 'handwritten_label.json').write_text(content, encoding='utf-8')
    with pytest.raises(ValueError, match='handwritten_label.json'):
        list(convert_aihub(str(tree), SIZE))


def test_unknown_kind(tree):
    with pytest.raises(ValueError, match="'clova'"):
        convert_aihub(str(tree), SIZE, kinds=('clova',))
