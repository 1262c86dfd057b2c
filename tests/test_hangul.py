"""utils/hangul.py: jamo ⇄ syllable, charsets, label errors."""
import pytest

from utils.data import hangul


def test_round_trip_all_syllables():
    for point in range(0xAC00, 0xD7A4):
        char = chr(point)
        assert hangul.compose_syllable(*hangul.split_syllable(char)) == char
    assert hangul.SYLLABLE_COUNT == 11172


def test_split_examples():
    assert hangul.split_syllable('가') == (0, 0, 0)
    assert hangul.split_syllable('각') == (0, 0, 1)
    assert hangul.split_syllable('힣') == (18, 20, 27)
    cho, jung, jong = hangul.split_syllable('값')
    assert (hangul.CHOSUNG[cho], hangul.JUNGSUNG[jung], hangul.JONGSUNG[jong]) == ('ㄱ', 'ㅏ', 'ㅄ')
    assert hangul.split_labels(['가', '각']).tolist() == [[0, 0, 0], [0, 0, 1]]


@pytest.mark.parametrize('args', [(19, 0, 0), (0, 21, 0), (0, 0, 28), (-1, 0, 0)])
def test_compose_out_of_range(args):
    with pytest.raises(ValueError, match='out of range'):
        hangul.compose_syllable(*args)


def test_charsets():
    ksx = hangul.load_charset('ksx1001')
    every = hangul.load_charset('all')
    assert len(ksx) == 2350 and len(every) == 11172
    assert set(ksx) < set(every)
    assert ksx == sorted(ksx) and '가' in ksx and '똠' not in ksx  # 똠 is the classic KS X 1001 gap


def test_charset_file(tmp_path):
    path = tmp_path / 'chars.txt'
    path.write_text('\ufeff나 가\n다가\n', encoding='utf-8')  # a BOM, spaces, a duplicate
    assert hangul.load_charset(str(path)) == ['가', '나', '다']
    assert hangul.load_charset(['다', '가']) == ['가', '다']


def test_charset_file_with_a_non_hangul_char(tmp_path):
    path = tmp_path / 'chars.txt'
    path.write_text('가A', encoding='utf-8')
    with pytest.raises(ValueError, match=r"chars\.txt.*'A' \(U\+0041\)"):
        hangul.load_charset(str(path))


def test_unknown_charset():
    with pytest.raises(ValueError, match="'nope'.*ksx1001"):
        hangul.load_charset('nope')


@pytest.mark.parametrize('label, named', [('A', r"'A' \(U\+0041\)"), ('ㄱ', r"'ㄱ' \(U\+3131\)"),
                                          ('가나', r"'가나' \(U\+AC00 U\+B098\)"), ('', 'empty')])
def test_non_hangul_label(label, named):
    assert not hangul.is_syllable(label)
    with pytest.raises(ValueError, match=named):
        hangul.split_syllable(label)
