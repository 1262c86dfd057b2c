"""utils/evaluation/cer.py: Levenshtein against a breadth-first search over single edits, and the report."""
import itertools
from collections import deque

import pytest

from utils.evaluation.cer import cer_report, edit_distance, normalize_spaces, space_pattern


def edits_by_search(source, alphabet, longest):
    """{string: fewest single-character edits from source}, found by breadth-first search (the oracle)."""
    found, queue = {source: 0}, deque([source])
    while queue:
        text = queue.popleft()
        neighbours = {text[:i] + text[i + 1:] for i in range(len(text))}
        neighbours |= {text[:i] + c + text[i + 1:] for i in range(len(text)) for c in alphabet}
        if len(text) < longest:
            neighbours |= {text[:i] + c + text[i:] for i in range(len(text) + 1) for c in alphabet}
        for other in neighbours - found.keys():
            found[other] = found[text] + 1
            queue.append(other)
    return found


def test_edit_distance_matches_a_search_over_every_short_string():
    alphabet = '가a'
    strings = [''.join(p) for n in range(5) for p in itertools.product(alphabet, repeat=n)]
    for source in strings:
        oracle = edits_by_search(source, alphabet, longest=5)
        for target in strings:
            assert edit_distance(source, target) == oracle[target], (source, target)


@pytest.mark.parametrize('a, b, distance', [
    ('kitten', 'sitting', 3), ('', '한글', 2), ('한글', '', 2), ('한국어', '한국어', 0),
    ('한국어 문장', '한국 어문장', 2), ('가나다라', '나다라마', 2), ('abc', 'cba', 2)])
def test_edit_distance_by_hand(a, b, distance):
    assert edit_distance(a, b) == edit_distance(b, a) == distance


def test_normalize_spaces_and_space_pattern():
    assert normalize_spaces('  한국\t\n 어  문장 ') == '한국 어 문장'
    assert space_pattern('한국 a.') == 'xx xx'


def test_cer_report_counts_each_view_apart():
    report = cer_report([('한국어 문장 3개.', '한국머  문장 3게'),    # 머: hangul; 게: hangul; '.' lost
                         ('가나다 ABC', '가나다ABC')])               # a lost space
    # overall: 3 + 1 errors over 10 + 7 characters; hangul: 2 over 6 + 3; non-hangul: 1 ('.') over 2 + 3;
    # spaces: 1 ('.' shortens the pattern) + 1 (the lost space) over 3 reference spaces.
    assert report == {'overall': 4 / 17, 'hangul': 2 / 9, 'non_hangul': 1 / 5, 'spaces': 2 / 3, 'lines': 2}


def test_cer_report_is_zero_for_a_perfect_reading_and_none_where_nothing_counts():
    assert cer_report([('한글 ok', ' 한글  ok ')]) == {'overall': 0.0, 'hangul': 0.0, 'non_hangul': 0.0,
                                                     'spaces': 0.0, 'lines': 1}
    report = cer_report([('', 'x'), ('한글', '한글')])
    assert report['overall'] == 1 / 2 and report['spaces'] is None and report['non_hangul'] is None
    assert cer_report([]) == {'overall': None, 'hangul': None, 'non_hangul': None, 'spaces': None, 'lines': 0}
