"""KoOCR.read_text and predict.py --text with the shipped models, on the bundled line images."""
import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import FONT, ROOT
from utils.data.lines import LineRenderer

LINES = os.path.join(ROOT, 'examples', 'lines')


def line_examples():
    with open(os.path.join(LINES, 'texts.tsv'), encoding='utf-8') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    return [(row['file'], row['text (lines joined by \\n)'].replace('\\n', '\n')) for row in rows]


@pytest.fixture(scope='module')
def ocr():
    import model
    return model.KoOCR()


# Not yet read exactly (see the issue-16 note): in the handwriting-style line (Nanum Pen Script, a held-out
# face) the syllable model reads 우 as 으.
NOT_YET_EXACT = {'line_hand.png': 0.1}  # the CER each must stay within: 우 read as 으


@pytest.mark.parametrize('name, text', line_examples())
def test_example_lines_read(ocr, name, text):
    from utils.evaluation.cer import cer_report
    reading = ocr.read_text(os.path.join(LINES, name))
    if name in NOT_YET_EXACT:
        assert cer_report([(text, reading)])['overall'] <= NOT_YET_EXACT[name], reading
    else:
        assert reading == text


def test_details_are_the_text_with_boxes_inside_the_image(ocr):
    path = os.path.join(LINES, 'paragraph.png')
    characters = ocr.read_text(path, details=True)
    assert ''.join(c.text for c in characters) == ocr.read_text(path)
    assert [c.text for c in characters].count('\n') == 1 and ' ' in [c.text for c in characters]
    from PIL import Image
    width, height = Image.open(path).size
    for c in characters:
        left, top, right, bottom = c.box
        assert 0 <= left <= right <= width and 0 <= top < bottom <= height
        assert 0 < c.probability <= 1
    firsts = [c for c in characters if c.text not in ' \n']
    assert all(a.box[0] < b.box[0] for a, b in zip(firsts, firsts[1:]) if a.box[1] == b.box[1])


def test_a_drawn_line_in_colour_reads_as_in_grey(ocr):
    gray, _ = LineRenderer(FONT, 40).render('새로운 글자')
    colour = np.stack([gray // 2 + 100, gray // 3 + 60, gray], -1).astype(np.uint8)
    assert ocr.read_text(colour) == ocr.read_text(gray) == '새로운 글자'


def test_an_empty_image_reads_as_nothing(ocr):
    blank = np.full((40, 300), 255, np.uint8)
    assert ocr.read_text(blank) == ''
    assert ocr.read_text(blank, details=True) == []


def test_a_file_that_is_no_image_is_named(ocr, tmp_path):
    bad = tmp_path / 'notes.png'
    bad.write_text('not an image')
    with pytest.raises(ValueError, match='notes.png'):
        ocr.read_text(str(bad))


def test_without_the_symbol_network_the_error_says_how_to_get_one(tmp_path):
    import model
    from utils.inference.shipped import DEFAULT_WEIGHTS
    for name in ('model.keras', 'config.json'):
        shutil.copy(os.path.join(DEFAULT_WEIGHTS, name), tmp_path / name)
    ocr = model.KoOCR(weights=str(tmp_path), runtime='keras')
    with pytest.raises(FileNotFoundError, match='symbols.keras.*train_lines.py'):
        ocr.read_text(np.zeros((40, 80), np.uint8) + np.eye(40, 80, dtype=np.uint8) * 255)


def test_predict_text_prints_each_files_text(tmp_path):
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'\x89PNG truncated')
    result = subprocess.run([sys.executable, 'predict.py', '--text', '--json', 'examples/lines/paragraph.png',
                             'examples/lines/line_mixed.png', str(bad)], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 1
    answers = json.loads(result.stdout)
    expected = dict(line_examples())
    assert answers['examples/lines/paragraph.png'] == {'text': expected['paragraph.png']}
    assert answers['examples/lines/line_mixed.png'] == {'text': expected['line_mixed.png']}
    assert 'broken.png' in answers[str(bad)]['error'] and 'broken.png' in result.stderr
