"""utils/data/corpus.py on a tiny tree of fake help pages and word list, and once on Debian's own."""
import os
import random

import pytest

from utils.data import corpus
from utils.data.hangul import is_syllable
from utils.data.symbols import readable

# One vocabulary per page, so a line names the page it came from.
VOCABULARY = (('고양이', '강아지', '토끼가', '뛰어요', '빠르게', '들판에서'),
              ('바다의', '파도는', '높고', '푸르며', '시원한', '바람이'),
              ('도서관', '책상에', '연필과', '공책을', '놓았다', '조용히'),
              ('하늘에', '별들이', '반짝이는', '밤이면', '노래를', '부른다'))
SHARED = '같은 문장임'  # MIN_CHARS long: never cut


def page_names():
    """Two page names that split_of sends to 'heldout' and two to 'train'."""
    names = {'heldout': [], 'train': []}
    for number in range(200):
        name = f'page{number}.html'
        names[corpus.split_of(f'pkg-a/{name}')].append(name)
    return names['heldout'][:2] + names['train'][:2]


def page(words, rng):
    sentences = ['<p>' + ' '.join(rng.choice(words) for _ in range(rng.randint(3, 12))) + '.</p>'
                 for _ in range(30)]
    return ('<html><head><title>제목은 보이지 않는다</title><style>p { color: red; }</style></head><body>'
            '<script>var 스크립트 = "보이지 않는다";</script><span hidden>숨은 <span>글자</span></span>'
            f'<div>{"".join(sentences)}<p>{SHARED}</p><p>A&nbsp;&amp;&#44608;B</p></div>'
            '</body></html>')


@pytest.fixture
def sources(tmp_path):
    """(roots, .dic path, {doc_id: vocabulary}) of four pages under package 'pkg-a' and a word list."""
    rng = random.Random(0)
    folder = tmp_path / 'pkg-a' / 'sub'
    folder.mkdir(parents=True)
    vocabulary = {}
    for name, words in zip(page_names(), VOCABULARY):
        (folder / name).write_text(page(words, rng), encoding='utf-8')
        vocabulary[f'pkg-a/sub/{name}'] = words
    dic = tmp_path / 'ko.dic'
    dic.write_text('5\n사전단어/10\n낱말풀이/25\n국어사전\n漢字어/3\n말뭉치/1\n', encoding='utf-8')
    roots = {'pkg-a': str(tmp_path / 'pkg-a'), 'pkg-missing': str(tmp_path / 'nowhere')}
    return roots, str(dic), vocabulary


def test_documents_hold_visible_text_only(sources):
    roots, _, vocabulary = sources
    docs = dict(corpus.documents(roots))
    assert sorted(docs) == sorted(vocabulary)
    text = docs[min(docs)]
    assert SHARED in text.split('\n')
    assert not any(hidden in text for hidden in ('제목', 'color', '스크립트', '숨은', '글자'))
    assert 'A &김B' in text.split('\n')   # &nbsp; became a space, other entities their characters


def test_missing_sources_name_the_packages_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match='apt-get install gimp-help-ko libreoffice-help-ko'):
        corpus.documents({'gimp-help-ko': str(tmp_path / 'a'), 'libreoffice-help-ko': str(tmp_path / 'b')})
    with pytest.raises(FileNotFoundError, match=r'nothing\.dic: .*apt-get install hunspell-ko'):
        corpus.dictionary_words(str(tmp_path / 'nothing.dic'))


def test_lines_are_split_by_document(sources):
    roots, dic, vocabulary = sources
    by_split = {split: corpus.text_lines(split, roots=roots, dictionary=dic, n_dictionary=0)
                for split in corpus.SPLITS}
    assert by_split['heldout'] and by_split['train']
    for split, lines in by_split.items():
        for line in lines:
            sources_of_line = {doc for doc, words in vocabulary.items() if set(line.strip('.').split()) <= set(words)}
            if line == SHARED:
                assert split == 'heldout'  # on every page: kept with the held-out text only
                continue
            assert sources_of_line and {corpus.split_of(doc) for doc in sources_of_line} == {split}, line
    assert not set(by_split['heldout']) & set(by_split['train'])


@pytest.mark.parametrize('max_chars', [8, 24])
def test_lines_are_readable_hangul_and_within_the_lengths(sources, max_chars):
    roots, dic, _ = sources
    lines = corpus.text_lines('train', roots=roots, dictionary=dic, max_chars=max_chars, n_dictionary=300)
    assert len(lines) == len(set(lines)) > 20
    for line in lines:
        assert corpus.MIN_CHARS <= len(line) <= max_chars and all(map(readable, line)), line
        assert line == ' '.join(line.split())
        chars = line.replace(' ', '')
        assert sum(map(is_syllable, chars)) >= 0.4 * len(chars), line


def test_train_gets_dictionary_lines_without_flags(sources):
    roots, dic, _ = sources
    plain = set(corpus.text_lines('train', roots=roots, dictionary=dic, n_dictionary=0))
    lines = corpus.text_lines('train', roots=roots, dictionary=dic, n_dictionary=300)
    words = {w.strip(',.?!:') for line in set(lines) - plain for w in line.split()}
    assert {'사전단어', '낱말풀이', '국어사전', '말뭉치'} <= words
    assert not any('/' in w or '漢' in w for w in words)
    assert corpus.dictionary_words(dic) == ['사전단어', '낱말풀이', '국어사전', '말뭉치']  # '5' is the count line
    held_out = corpus.text_lines('heldout', roots=roots, dictionary=dic)
    assert not any('사전단어' in line for line in held_out)


def test_samples_are_reproducible(sources):
    roots, dic, _ = sources
    draw = [corpus.text_lines('train', count=15, seed=seed, roots=roots, dictionary=dic, n_dictionary=100)
            for seed in (3, 3, 4)]
    assert draw[0] == draw[1] != draw[2] and len(draw[0]) == 15
    every = corpus.text_lines('heldout', roots=roots, dictionary=dic)
    assert sorted(corpus.text_lines('heldout', count=10 ** 6, roots=roots)) == sorted(every)


def test_cut_lines_breaks_at_spaces_and_cuts_a_long_word():
    rng = random.Random(0)
    lines = corpus.cut_lines('가나다 라마바사 아자차카타파하가나다라마바 사아', 8, rng)
    assert all(len(line) <= 8 for line in lines)
    assert ''.join(lines).replace(' ', '') == '가나다라마바사아자차카타파하가나다라마바사아'
    assert '아자차카타파하가' in lines   # the 12-letter word, cut at 8


def test_bad_arguments_are_quoted():
    with pytest.raises(ValueError, match="split='val'"):
        corpus.text_lines('val')
    with pytest.raises(ValueError, match='max_chars=3'):
        corpus.text_lines('train', max_chars=3)


@pytest.mark.skipif(not all(os.path.isdir(folder) for folder in corpus.HTML_ROOTS.values())
                    or not os.path.isfile(corpus.HUNSPELL_DIC),
                    reason='needs gimp-help-ko, libreoffice-help-ko and hunspell-ko (apt-get install them)')
def test_the_debian_packages_give_thousands_of_held_out_lines():
    held_out = corpus.text_lines('heldout', count=2000, seed=1)
    assert len(held_out) == 2000 and all(corpus.keep(line, 24) for line in held_out)
    docs = corpus.documents()
    share = sum(corpus.split_of(doc_id) == 'heldout' for doc_id, _ in docs) / len(docs)
    assert 0.17 < share < 0.23
