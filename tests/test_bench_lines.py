"""bench/lines.py: its pure helpers, the line scan look, and one tiny run with Tesseract (no TensorFlow)."""
import importlib.util
import json
import os

import numpy as np
import pytest

from utils.data.lines import LineRenderer
from utils.data.render import GlyphRenderer, normalize_glyph
from utils.io import BUNDLED_FONT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location('bench_lines', os.path.join(ROOT, 'bench', 'lines.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
NANUM = '/usr/share/fonts/truetype/nanum/NanumGothic.ttf'


def record(group, font, condition, reference, reading):
    return dict(group=group, font=font, condition=condition, reference=reference, image=None,
                readings={'fake': reading})


def test_scan_look_is_mild_seeded_and_keeps_the_text():
    clean, _ = LineRenderer(BUNDLED_FONT, 40).render('한국어 문장')
    first = bench.scan_look(clean, np.random.default_rng(7))
    again = bench.scan_look(clean, np.random.default_rng(7))
    other = bench.scan_look(clean, np.random.default_rng(8))
    assert first.dtype == np.uint8 and np.array_equal(first, again) and not np.array_equal(first, other)
    assert abs(first.shape[0] - clean.shape[0]) <= 0.05 * clean.shape[1] + 2   # turned by at most 1°
    paper, ink = np.percentile(first, 90), np.percentile(first, 1)
    assert 190 < paper < 250 and 0 < ink < 110                                # contrast reduced, not lost


def test_read_all_gives_every_reader_both_conditions_of_the_lines_a_face_covers():
    faces = {'printed': [bench.fonts.FontFace(BUNDLED_FONT, 0, 'KoOCR Gothic', 'Regular')]}
    seen = []

    def reader(gray):
        seen.append(gray.shape)
        return '가나'
    pool = ['가나다 라마', '\u0f00 not covered', '바사아 자차', '카타파 하']
    records, seconds = bench.read_all(faces, pool, {'fake': reader}, lines=2, height=24, seed=0, log=lambda _: None)
    assert [(r['reference'], r['condition']) for r in records] == [
        ('가나다 라마', 'clean'), ('가나다 라마', 'scan'), ('바사아 자차', 'clean'), ('바사아 자차', 'scan')]
    assert len(seen) == 4 and seconds['fake'] > 0
    summary = bench.summarise(records, seconds)
    report = summary['cer']['fake']['printed']['clean']
    assert report['lines'] == 2 and report['overall'] == pytest.approx((4 + 6) / 12)  # '가나' read for two 6-char lines
    assert summary['lines_per_second']['fake'] == pytest.approx(4 / seconds['fake'])


def test_pick_samples_shows_each_group_and_condition_with_new_fonts_and_lines():
    records = [record(group, f'{group} {font}', condition, f'line {line}', '')
               for group in ('printed', 'handwriting') for font in range(3) for line in range(8)
               for condition in bench.CONDITIONS]
    picked = bench.pick_samples(records, 6)
    assert len(picked) == 6 and len({id(r) for r in picked}) == 6
    assert {(r['group'], r['condition']) for r in picked[:4]} == {
        (g, c) for g in ('printed', 'handwriting') for c in bench.CONDITIONS}
    assert len({r['font'] for r in picked}) == 6 and len({r['reference'] for r in picked[:4]}) == 4
    assert len(bench.pick_samples(records[:3], 6)) == 3


def test_markdown_table_has_a_row_per_group_and_condition():
    records = [record('printed', 'A', 'clean', '한글 문장', '한글 문장'),
               record('printed', 'A', 'scan', '한글 문장', '한금 문장')]
    table = bench.markdown_table(bench.summarise(records, {'fake': 0.5}))
    assert '| printed | clean | 1 | 0.0% (0.0%, 0.0%) |' in table
    assert '| printed | scan | 1 | 20.0% (25.0%, 0.0%) |' in table and 'fake 4.0' in table


def test_readers_flag_is_checked():
    assert bench.parse_args(['--readers', 'tesseract']).readers == ['tesseract']
    assert bench.parse_args([]).readers == ['koocr', 'tesseract']
    with pytest.raises(SystemExit):
        bench.parse_args(['--readers', 'easyocr'])


def test_a_tiny_run_with_tesseract_writes_the_report(tmp_path):
    pytest.importorskip('tesserocr')
    if not os.path.isfile(os.path.join(bench.TESSDATA, 'kor.traineddata')):
        pytest.skip('no Tesseract kor data (apt-get install tesseract-ocr-kor)')
    if not os.path.isfile(NANUM):
        pytest.skip('no NanumGothic (apt-get install fonts-nanum)')
    text = tmp_path / 'lines.txt'
    text.write_text('한국어 문장입니다\n글자 읽기\n', encoding='utf-8')
    out, figure = tmp_path / 'lines.json', tmp_path / 'lines.png'
    bench.main(['--readers', 'tesseract', '--lines', '2', '--fonts', NANUM, '--text', str(text),
                '--out', str(out), '--figure', str(figure)])
    report = json.loads(out.read_text(encoding='utf-8'))
    assert {'settings', 'machine', 'fonts', 'cer', 'lines_per_second', 'seconds', 'samples'} <= report.keys()
    assert report['fonts'] == {'printed': ['NanumGothic Regular']}
    by_condition = report['cer']['tesseract']['printed']
    assert set(by_condition) == set(bench.CONDITIONS)
    for cer in by_condition.values():
        assert cer['lines'] == 2
        assert all(0 <= cer[view] <= 1.5 for view in ('overall', 'hangul', 'spaces')) and cer['non_hangul'] is None
    assert report['lines_per_second']['tesseract'] > 0 and figure.stat().st_size > 1000


def test_missing_text_is_one_line_naming_the_file(tmp_path, capsys):
    missing = tmp_path / 'no_such_lines.txt'
    with pytest.raises(SystemExit) as stop:
        bench.cli(['--readers', 'tesseract', '--fonts', BUNDLED_FONT, '--text', str(missing),
                   '--out', str(tmp_path / 'lines.json')])
    assert 'no_such_lines.txt' in str(stop.value) and '\n' not in str(stop.value)
    assert not (tmp_path / 'lines.json').exists()


def test_line_losses_count_each_syllable_alone_cut_by_its_box_and_in_the_line():
    spec = importlib.util.spec_from_file_location('line_losses', os.path.join(ROOT, 'bench', 'line_losses.py'))
    losses = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(losses)
    pool = ['가나 A다', '가가가']
    renderer = LineRenderer(BUNDLED_FONT, 24)
    drawn = {renderer.render(text)[0].tobytes(): text for text in pool}
    shown = []

    class Reader:   # reads every glyph as 가, and every line as its text less its last character
        image_size = 48

        def rank(self, glyphs, n):
            shown.append(glyphs)
            return [['가'] for _ in glyphs]

        def read_text(self, image):
            return drawn[image.tobytes()][:-1]
    face = bench.fonts.FontFace(BUNDLED_FONT, 0, 'KoOCR Gothic', 'Regular')
    found = losses.face_losses(Reader(), face, pool, lines=2, height=24)
    assert found['syllables'] == 6 and [glyphs.shape for glyphs in shown] == [(6, 48, 48), (6, 48, 48)]
    alone = GlyphRenderer(BUNDLED_FONT, 48)
    cut = [normalize_glyph(image, 48, box=box) for image, boxes, text in
           ((*renderer.render(text), text) for text in pool) for char, box in zip(text, boxes) if char in '가나다']
    assert np.array_equal(shown[0], [alone.render(c) for c in '가나다가가가'])   # each syllable drawn alone
    assert np.array_equal(shown[1], cut)                                       # and cut by its own box
    assert found['isolated'] == found['true_boxes'] == pytest.approx(2 / 6)   # 나 and 다 are not 가
    assert found['line'] == pytest.approx(2 / 6)                               # 다 and the last 가 dropped
    drawn[renderer.render('AB 12')[0].tobytes()] = 'AB 12'
    assert losses.face_losses(Reader(), face, ['AB 12'], lines=1, height=24) is None   # no syllable to count


def test_line_tuning_reads_training_faces_and_checks_its_settings():
    spec = importlib.util.spec_from_file_location('line_tuning', os.path.join(ROOT, 'bench', 'line_tuning.py'))
    tuning = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tuning)
    args = tuning.parse_args(['--set', 'SYLLABLE_PRIOR=0.2', 'PRIOR_CENTRE=0', '--set', 'WIDE_PIECE=0.8'])
    assert args.set == [['SYLLABLE_PRIOR=0.2', 'PRIOR_CENTRE=0'], ['WIDE_PIECE=0.8']]
    assert tuning.reader_constants.owner('WIDE_PIECE').__name__ == 'utils.inference.segment'
    assert tuning.parse_args([]).runtime == 'auto' and tuning.parse_args(['--runtime', 'keras']).runtime == 'keras'
    for wrong in ('NO_SUCH=1', 'SYLLABLE_PRIOR', 'read_lines=1', 'SYLLABLE_PRIOR=abc', 'BEAM=2.5'):
        with pytest.raises(SystemExit):
            tuning.parse_args(['--set', wrong])
    face = bench.fonts.FontFace(BUNDLED_FONT, 0, 'KoOCR Gothic', 'Regular')
    pool = [f'가나 {k}' for k in range(200)] + ['\u0f00 not covered']
    found = tuning.tuning_lines({'printed': [face], 'handwriting': [face, face]}, pool)
    assert [(group, len(lines)) for group, _, lines in found] == [('printed', 30), ('handwriting', 40),
                                                                   ('handwriting', 40)]
    assert found[2][2][0] == pool[tuning.OFFSET]   # the second face of a kind starts further in


def test_symbols_aside_keeps_its_faces_out_of_training(monkeypatch):
    spec = importlib.util.spec_from_file_location('symbols_aside', os.path.join(ROOT, 'bench', 'symbols_aside.py'))
    aside = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(aside)
    assert aside.parse_args([]).out.endswith('symbols_aside.json')
    assert aside.parse_args(['--no-sprinkle', '--reshape']).out.endswith('symbols_aside_no_sprinkle_reshape.json')
    assert aside.parse_args(['--width', '24']).out.endswith('symbols_aside_width24.json')
    args = aside.parse_args(['--network', 'kept.keras', '--set', 'HANGUL_WEIGHT=0.4', '--set', 'WIDE_PIECE=0.7'])
    assert args.network == ['kept.keras'] and args.set == [['HANGUL_WEIGHT=0.4'], ['WIDE_PIECE=0.7']]
    assert aside.parse_args(['--network', 'a.keras', 'b.keras']).network == ['a.keras', 'b.keras']   # merged
    with pytest.raises(SystemExit):
        aside.parse_args(['--set', 'NO_SUCH=1'])
    faces = {bench.fonts.FontFace(BUNDLED_FONT, k, name, ''): ('train', 'printed')
             for k, name in enumerate(['Other', aside.ASIDE[0]])}
    monkeypatch.setattr(aside.fonts, 'split_faces', lambda ratio, seed: faces)
    with pytest.raises(SystemExit, match='found 1 of the 7'):
        aside.split_aside()
    monkeypatch.setattr(aside, 'ASIDE', aside.ASIDE[:1])
    train, kept = aside.split_aside()
    assert [face.name for face in train] == ['Other'] and [face.name for face in kept] == [aside.ASIDE[0]]


def test_symbol_runs_shares_count_each_kind_of_run():
    spec = importlib.util.spec_from_file_location('symbol_runs', os.path.join(ROOT, 'bench', 'symbol_runs.py'))
    runs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runs)
    from utils.data.symbols import SYMBOL_CLASSES
    apostrophe, digit = SYMBOL_CLASSES.index("'"), SYMBOL_CLASSES.index('1')
    classes = np.array([0, 0, 1, apostrophe, digit])
    predicted = np.array([0, 1, 1, 1, digit])
    found = runs.shares(predicted, classes)
    assert found['all'] == (0.6, 5) and found['hangul'] == (0.5, 2) and found['fragment'] == (1.0, 1)
    assert found['symbols'] == (0.5, 2) and found['rare'] == (0.0, 1)
