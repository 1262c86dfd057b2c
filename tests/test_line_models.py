"""The line reader's language and spacing models: counting, fitting, files, and how the reader uses them."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import FONT, ROOT
from utils.data.lines import LineRenderer
from utils.data.symbols import FRAGMENT_CLASS, HANGUL_CLASS, SYMBOL_CLASSES
from utils.inference import reading, segment
from utils.inference.language import KINDS, LanguageModel, kind_of
from utils.inference.spacing import FEATURES, GapRecorder, SpaceModel, gap_features
from utils.training.spacing_data import space_labels

TEXT = ['다음 조건을 입력합니다.', '기본, 수식 (아래 참조)', '다시 보기: 다음 쪽', 'GIMP는 2.10 판입니다!']


def test_kinds_of_characters():
    assert [KINDS[kind_of(c)] for c in '가7Gg(.-'] == ['hangul', 'digit', 'capital', 'small', 'opening',
                                                       'closing', 'mark']


def test_counted_spaces_follow_the_text():
    language = LanguageModel.count(TEXT)
    hangul, closing, opening = kind_of('가'), kind_of('.'), kind_of('(')
    assert language.space[hangul, closing] < -2   # '다.', '본,', '판입니다!': never a space before
    assert language.space[closing, hangul] > 1    # '본, 수', ': 다': a space after
    assert language.space[hangul, opening] > 0    # '수식 (아'
    assert language.space[opening, hangul] < 0    # '(아'


def test_counted_syllables_rank_by_frequency_and_none_is_impossible():
    language = LanguageModel.count(TEXT)
    log_p = {c: language.syllables[ord(c) - 0xAC00] for c in '다음판힣'}
    assert log_p['다'] > log_p['음'] > log_p['판'] > log_p['힣'] > -np.inf   # 5, 2, 1 and 0 times
    assert np.exp(language.syllables).sum() == pytest.approx(1.0)


def test_spaces_after_and_before_syllables_are_counted_against_the_average_syllable():
    lines = ['값을 입력합니다', '문서를 엽니다', '셀을 고릅니다', '글꼴을 바꿉니다'] * 3
    language = LanguageModel.count(lines)
    after, before = (dict(zip('을다니', getattr(language, name)[[ord(c) - 0xAC00 for c in '을다니']]))
                     for name in ('after', 'before'))
    assert after['을'] > 1 and after['니'] < -1       # '셀을 고', '합니다': a word ends at the particle
    assert before['다'] < -1                           # never a space before the ending
    assert language.after[ord('힣') - 0xAC00] == 0     # never seen: the average syllable's odds
    odds_after, odds_before, pair, _ = language.syllable_odds(list('셀을A다'))
    assert odds_after.tolist() == [language.after[ord('셀') - 0xAC00], after['을'], 0.0]
    assert odds_before.tolist() == [language.before[ord('을') - 0xAC00], 0.0, before['다']]
    assert pair[1:].tolist() == [0.0, 0.0]     # no pairs of syllables there


def test_a_pair_of_syllables_says_more_than_each_alone():
    lines = ['다음 조건', '다음 조건을', '다음과 같이', '다음과 같이']
    language = LanguageModel.count(lines)
    assert language.pairs['음과'] == 2 and '음과' not in language.spaced and language.spaced['음조'] == 2
    after, before, pair, _ = language.syllable_odds(list('음과음조'))
    assert pair[0] < 0 < pair[2]         # 음과 never spaced; 음 조 always
    assert pair[1] == 0                  # 과음: never seen


def test_counters_after_a_digit_are_counted_apart_from_other_syllables():
    lines = ['3개 선택', '10개 창', '2 사용자', '5 사용자', '그 사용자', '21도'] * 5
    language = LanguageModel.count(lines)
    digit = dict(zip('개사도', language.after_digit[[ord(c) - 0xAC00 for c in '개사도']]))
    assert digit['개'] < -1 < 1 < digit['사']          # 3개 but 2 사용자
    assert language.after_digit[ord('창') - 0xAC00] == pytest.approx(0)  # never after a digit: the average odds
    *_, after_digit = language.syllable_odds(list('21개A사사'))
    assert after_digit.tolist() == [0.0, digit['개'], 0.0, 0.0, 0.0]   # only a digit then a syllable


def test_symbols_are_counted_after_the_character_before_them():
    lines = ['입력합니다. 선택하고, 닫습니다.', '열고, 저장합니다.', "'GIMP' 2.10"] * 3
    language = LanguageModel.count(lines)
    assert language.marks['.'] == 12 and language.mark_pairs['다.'] == 9 and language.mark_pairs['고,'] == 6
    assert language.mark_pmi('다', '.') > 0 > language.mark_pmi('다', ',')
    assert language.mark_pmi('고', ',') > 0 > language.mark_pmi('고', '.')
    assert language.mark_pmi('힣', '.') == language.mark_pmi(None, '.') == 0   # never followed: no news
    assert language.mark_pmi('고', '※') == 0       # never counted: as likely anywhere (the pages hold no ※)
    assert language.mark_pmi('다', "'") < 0        # counted, never after 다


def test_language_file_round_trip_and_refusals(tmp_path):
    path = tmp_path / 'language.json'
    language = LanguageModel.count(TEXT + ['다음 조건', '다음 조건', '다.'])   # 음 조: a pair spaced; 다. twice
    language.save(str(path), command='test')
    loaded = LanguageModel.load(str(path))
    assert np.allclose(loaded.space, language.space, atol=1e-3)
    for name in ('neighbours', 'syllables', 'after', 'before', 'after_digit'):
        assert np.allclose(getattr(loaded, name), getattr(language, name), atol=1e-3)
    assert loaded.pairs == language.pairs and language.pairs['다음'] == 4 and '합니' not in language.pairs
    assert loaded.spaced == language.spaced == {'음조': 3}   # pairs seen twice or more, and how often spaced
    assert loaded.marks == language.marks and loaded.mark_pairs == language.mark_pairs == {'다.': 2}
    content = json.loads(path.read_text(encoding='utf-8'))
    assert content['command'] == 'test' and len(content['syllables']['text']) == len(set(''.join(TEXT)) & {
        chr(p) for p in range(0xAC00, 0xD7A4)})
    for damage in ({'text': 'a' + content['after_digit']['text'][1:]}, {'values': [0.5]}):  # not syllables; too few
        path.write_text(json.dumps(content | {'after_digit': content['after_digit'] | damage}), encoding='utf-8')
        with pytest.raises(ValueError, match='language.json: not a language model file.*after_digit'):
            LanguageModel.load(str(path))
    path.write_text(json.dumps(content | {'mark_pairs': {'text': '다가', 'counts': '2'}}), encoding='utf-8')
    with pytest.raises(ValueError, match='language.json: marks and the second character of mark_pairs'):
        LanguageModel.load(str(path))
    content['pairs']['text'] = 'a' + content['pairs']['text'][1:]
    path.write_text(json.dumps(content), encoding='utf-8')
    with pytest.raises(ValueError, match='language.json: pairs must be two syllables'):
        LanguageModel.load(str(path))
    content['space'] = content['space'][:3]
    path.write_text(json.dumps(content), encoding='utf-8')
    with pytest.raises(ValueError, match='language.json: space must be'):
        LanguageModel.load(str(path))
    path.write_text('{"format": "other"}', encoding='utf-8')
    with pytest.raises(ValueError, match="language.json: not a language model file.*'other'"):
        LanguageModel.load(str(path))


def test_space_labels_skip_the_spaces_themselves():
    assert space_labels('가 나다  라').tolist() == [True, False, True]
    assert space_labels('가').tolist() == []


def separable_gaps(rng, count=400):
    """Gap features of synthetic lines: spaces 0.35 line heights wide, other gaps 0.05."""
    features, labels = [], []
    for _ in range(count // 8):
        spaced = rng.random(8) < 0.3
        blank = np.where(spaced, 0.35, 0.05) + rng.normal(0, 0.02, 8)
        zeros = np.zeros(8)
        features.append(gap_features(blank, blank, 0.2, zeros, np.ones(8, bool), zeros, zeros, zeros, zeros))
        labels.append(spaced)
    return np.concatenate(features), np.concatenate(labels)


def test_spacing_model_learns_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    features, labels = separable_gaps(rng)
    assert features.shape == (len(labels), len(FEATURES))
    model = SpaceModel.fit(features, labels)
    test_features, test_labels = separable_gaps(rng)
    assert (model.spaces(test_features) == test_labels).mean() > 0.97
    path = tmp_path / 'spacing.json'
    model.save(str(path), gaps=len(labels))
    loaded = SpaceModel.load(str(path))
    assert (loaded.spaces(test_features) == model.spaces(test_features)).all()
    with pytest.raises(ValueError, match='spaces and non-spaces'):
        SpaceModel.fit(features, np.zeros(len(labels), bool))
    content = json.loads(path.read_text())
    content['features'] = ['blank']
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match='spacing.json: not a spacing model file'):
        SpaceModel.load(str(path))


def test_the_spacing_model_places_the_spaces():
    line = segment.Line(0, 40, ((0, 30), (34, 64), (80, 110)))
    readings = {(0, 1): [('가', 0.0, 1.0)], (1, 2): [('나', 0.0, 1.0)], (2, 3): [('다', 0.0, 1.0)]}
    wide_blank = SpaceModel(np.eye(len(FEATURES))[FEATURES.index('blank')] * 10, -2.0)  # blank > 0.2
    narrow_blank = SpaceModel(np.eye(len(FEATURES))[FEATURES.index('blank')] * 10, -0.5)  # blank > 0.05
    text = lambda spacing: ''.join(c.text for c in reading._decode(line, readings, None, spacing))  # noqa: E731
    assert text(wide_blank) == '가나 다'
    assert text(narrow_blank) == '가 나 다'
    recorder = GapRecorder()
    assert text(recorder) == '가나다'
    assert recorder.lines[0].shape == (2, len(FEATURES))


def test_the_networks_offer_the_best_symbol_and_the_best_syllables():
    gray, _ = LineRenderer(FONT, 40).render('가')
    cleaned, ink = segment.clean_page(segment.stretched_page(gray))
    line, = segment.find_lines(ink)
    spans = [(line, (0, len(line.pieces)))] * 2
    bounds = [(line.pieces[0][0], line.pieces[-1][1])] * 2
    symbols = np.full((2, len(SYMBOL_CLASSES)), 1e-6)
    symbols[0, HANGUL_CLASS], symbols[0, SYMBOL_CLASSES.index('7')] = 0.8, 0.2
    symbols[1, SYMBOL_CLASSES.index('7')] = 0.9   # too unlikely a syllable to ask about
    asked = []

    def ranker(glyphs):
        asked.append(len(glyphs))
        return [[('갸', 0.51), ('가', 0.49)]]
    found = reading._candidate_readings(symbols, cleaned, segment.Components.of(ink), spans, bounds, ranker, 48)
    assert asked == [1] and [text for text, _, _ in found[0]] == ['7', '갸', '가'] and len(found[1]) == 1
    weight = reading.HANGUL_WEIGHT if len(line.pieces) <= reading.WEIGHED_PIECES else 1.0
    assert found[0][2][1] == pytest.approx(weight * np.log(0.8) + np.log(0.49))
    assert found[0][2][2] == pytest.approx(0.8 * 0.49)


def test_the_symbol_networks_doubt_of_a_syllable_weighs_less_for_runs_of_few_pieces():
    cleaned = np.full((40, 40), 255, np.uint8)
    ink = np.zeros((40, 40), bool)
    line = segment.Line(0, 40, ((0, 10), (10, 20), (20, 30)))
    runs = [(0, 1), (0, 2), (0, 3)]
    spans = [(line, run) for run in runs]
    bounds = [(line.pieces[i][0], line.pieces[j - 1][1]) for i, j in runs]
    symbols = np.full((3, len(SYMBOL_CLASSES)), 1e-6)
    symbols[:, HANGUL_CLASS] = 0.01   # the symbol network doubts these are syllables
    symbols[:, FRAGMENT_CLASS] = 0.98
    found = reading._candidate_readings(symbols, cleaned, segment.Components.of(ink), spans, bounds,
                                        lambda glyphs: [[('가', 0.9)]] * len(glyphs), 48)
    scores = [dict((text, score) for text, score, _ in readings)['가'] for readings in found]
    assert 0 < reading.HANGUL_WEIGHT < 1 and reading.WEIGHED_PIECES == 2
    assert scores[0] == scores[1] == pytest.approx(reading.HANGUL_WEIGHT * np.log(0.01) + np.log(0.9))
    assert scores[2] == pytest.approx(np.log(0.01) + np.log(0.9))   # three pieces: as the network says


def test_the_language_model_settles_a_close_call_by_the_syllable_before():
    """Two syllables the network finds about as likely: the one that follows the syllable before wins."""
    line = segment.Line(0, 40, ((0, 35), (40, 75)))
    readings = {(0, 1): [('합', np.log(0.9), 0.9)], (1, 2): [('너', np.log(0.5), 0.5), ('니', np.log(0.45), 0.45)],
                (0, 2): [('x', np.log(1e-4), 1e-4)]}
    text = lambda language: ''.join(c.text for c in reading._decode(line, readings, language, None))  # noqa: E731
    assert text(None) == '합너'
    language = LanguageModel.count(['합니다 합니다 너무 너도 너는 나는'])
    assert language.syllable_log_p('합', '니') > language.syllable_log_p(None, '니')
    assert language.syllable_log_p(None, '너') > language.syllable_log_p(None, '니')   # alone, 너 is commoner
    assert text(language) == '합니'


def test_the_language_model_tells_a_comma_from_a_full_stop_by_the_syllable_before():
    """A comma the symbol network finds a little less likely than a full stop: after 고 it is a comma, after
    다 a full stop."""
    language = LanguageModel.count(['입력합니다. 선택하고, 닫습니다.', '열고, 저장합니다.'] * 3)
    line = segment.Line(0, 40, ((0, 35), (40, 48)))
    mark = [('.', np.log(0.55), 0.55), (',', np.log(0.45), 0.45)]
    text = lambda syllable: ''.join(c.text for c in reading._decode(  # noqa: E731
        line, {(0, 1): [(syllable, 0.0, 1.0)], (1, 2): mark}, language, None))
    assert text('고') == '고,' and text('다') == '다.'


def test_the_texts_own_symbols_outweigh_those_sprinkled_evenly_in_training(monkeypatch):
    """A curly quote the symbol network finds a little likelier than an ASCII one: the text holds far more
    ASCII quotes, where the network trained on both about evenly, so the ASCII quote is read; a mark the text
    never holds is weighed as the network says."""
    language = LanguageModel.count(['그는 "예" 라고 말했다.'] * 7 + ['“아니”'])
    line = segment.Line(0, 40, ((0, 8),))
    quotes = {(0, 1): [('“', np.log(0.5), 0.5), ('"', np.log(0.47), 0.47)]}
    text = lambda: ''.join(c.text for c in reading._decode(line, quotes, language, None))  # noqa: E731
    assert reading.MARK_FREQUENCY > 0 and text() == '"'
    assert reading._prior('"', None, language) > reading._prior('“', None, language) > 0
    assert reading._prior('·', None, language) == reading._prior('※', None, language) == 0.0
    monkeypatch.setattr(reading, 'MARK_FREQUENCY', 0.0)
    assert text() == '“'


def test_the_symbol_network_offers_its_best_few_symbols():
    line = segment.Line(0, 40, ((0, 8),))
    symbols = np.full((1, len(SYMBOL_CLASSES)), 1e-6)
    symbols[0, [SYMBOL_CLASSES.index(c) for c in '.,:']] = 0.5, 0.4, 0.01
    found, = reading._candidate_readings(symbols, np.full((40, 8), 255, np.uint8), segment.Components.of(
        np.zeros((40, 8), bool)), [(line, (0, 1))], [(0, 8)], None, 48)
    assert reading.SYMBOLS_OFFERED == 3 and [text for text, _, _ in found] == ['.', ',', ':']
    symbols[0, SYMBOL_CLASSES.index(':')] = 1e-5   # far less likely than the best: not worth searching
    found, = reading._candidate_readings(symbols, np.full((40, 8), 255, np.uint8), segment.Components.of(
        np.zeros((40, 8), bool)), [(line, (0, 1))], [(0, 8)], None, 48)
    assert [text for text, _, _ in found] == ['.', ',']


def test_a_digit_inside_a_hangul_word_pays_for_its_unlikely_neighbours(monkeypatch):
    """A syllable the symbol network calls a 4 (Nanum Pen's 우): between two syllables, the 4 costs what
    its kind's rare neighbours say; after a digit, a digit costs nothing extra."""
    monkeypatch.setattr(reading, 'SYLLABLE_PRIOR', 0.0)   # the kinds alone
    monkeypatch.setattr(reading, 'MARK_PRIOR', 0.0)
    monkeypatch.setattr(reading, 'MARK_FREQUENCY', 0.0)
    language = LanguageModel.count(['마우스를 누르고 고릅니다 사용자 가나다', '12 34 56개'] * 3)
    hangul, digit = kind_of('가'), kind_of('4')
    assert language.neighbours[hangul, digit] < -1 < 1 < language.neighbours[digit, digit]
    assert language.neighbours[digit, hangul] > language.neighbours[hangul, digit]   # 56개; no 가1
    assert reading._prior('4', '마', language) == pytest.approx(reading.KIND_PRIOR * language.neighbours[hangul, digit])
    assert reading._prior('4', '3', language) == 0.0 and reading._prior('4', None, language) == 0.0
    line = segment.Line(0, 40, ((0, 35), (40, 75), (80, 115)))
    readings = {(0, 1): [('마', 0.0, 1.0)], (1, 2): [('4', np.log(0.6), 0.6), ('우', np.log(0.3), 0.3)],
                (2, 3): [('스', 0.0, 1.0)]}
    text = lambda language: ''.join(c.text for c in reading._decode(line, readings, language, None))  # noqa: E731
    assert text(None) == '마4스'
    assert text(language) == '마우스'


def test_train_lines_refuses_unknown_steps_and_names():
    for flags, message in ((['--steps', 'language,grammar'], '--steps=language,grammar'),
                           (['--out', '/tmp/other.keras'], 'symbols.keras'),
                           (['--members', '0'], '--members=0'),
                           (['--out', '/nonexistent/symbols.keras', '--steps', 'spacing'],
                            '/nonexistent/language.json: there is none')):
        result = subprocess.run([sys.executable, 'train_lines.py', *flags], cwd=ROOT, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr


def test_gap_examples_label_the_gaps_of_lines_read_right():
    import model
    from utils.data.fonts import FontFace
    from utils.training.spacing_data import gap_examples
    ocr = model.KoOCR()
    language = LanguageModel.count(TEXT)
    texts = ['새로운 글자', '한국어 문장을 읽습니다', '두 줄도 읽을 수 있어요', '오늘 날씨는 맑고']
    features, labels = gap_examples(ocr, language, [FontFace(FONT, 0, 'Bundled', 'Regular')], texts, 4, 40, 0)
    assert features.shape == (len(labels), len(FEATURES))
    assert 0 < labels.sum() < len(labels) <= sum(len(t.replace(' ', '')) - 1 for t in texts)
    assert not hasattr(ocr, 'line_models')  # the shipped language and spacing models come back next read
