"""Korean text lines for the line reader and its benchmark, from Debian's Korean help pages and word list.

Documents are the HTML pages of gimp-help-ko and libreoffice-help-ko; about HELD_OUT_SHARE of them (by a
stable hash of their id) are 'heldout', the rest 'train', so no held-out line comes from a page the
training text saw. The 'train' split adds lines of random words from hunspell-ko's dictionary.
"""
import functools
import hashlib
import os
import random
import re
import unicodedata
from html.parser import HTMLParser

from utils.data.hangul import is_syllable
from utils.data.symbols import readable

HTML_ROOTS = {'gimp-help-ko': '/usr/share/gimp/2.0/help/ko',
              'libreoffice-help-ko': '/usr/share/libreoffice/help/ko/text'}
HUNSPELL_DIC = '/usr/share/hunspell/ko.dic'
SPLITS = ('train', 'heldout')
HELD_OUT_SHARE = 0.2
MIN_CHARS = 6
MIN_HANGUL_SHARE = 0.4   # of a line's characters other than spaces
DICTIONARY_LINES = 20_000
# Elements whose text a browser does not show (the head holds the title, shown only in the tab).
_HIDDEN = {'head', 'script', 'style', 'noscript', 'template', 'svg'}
_VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
_BLOCKS = {'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'dd', 'div', 'dl', 'dt', 'figcaption',
           'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'nav', 'ol', 'p', 'pre',
           'section', 'table', 'td', 'th', 'tr', 'ul', 'button', 'label', 'option'}
_SPACES = re.compile(r'\s+')  # Python's \s covers U+00A0, U+2000..U+200A, U+3000 and friends


class _VisibleText(HTMLParser):
    """Collects the text a browser shows, one paragraph (block element) per line."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], []   # hidden: the open element that hides text, and its nesting depth

    def handle_starttag(self, tag, attrs):
        if self.hidden:
            if tag == self.hidden[0]:
                self.hidden[1] += 1
        elif tag not in _VOID and (tag in _HIDDEN or any(name == 'hidden' for name, _ in attrs)):
            self.hidden = [tag, 1]
        if tag in _BLOCKS:
            self.parts.append('\n')

    def handle_endtag(self, tag):
        if self.hidden and tag == self.hidden[0]:
            self.hidden[1] -= 1
            if not self.hidden[1]:
                self.hidden = []
        if tag in _BLOCKS:
            self.parts.append('\n')

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(_SPACES.sub(' ', data))


def visible_text(html):
    """The text a browser shows of an HTML page: paragraphs on their own lines, entities unescaped."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    paragraphs = (clean_text(p) for p in ''.join(parser.parts).split('\n'))
    return '\n'.join(p for p in paragraphs if p)


def clean_text(text):
    """NFC, with every kind of space (non-breaking, ideographic, ...) one plain space, trimmed."""
    return _SPACES.sub(' ', unicodedata.normalize('NFC', text)).strip()


def documents(roots=None):
    """[(doc_id, text)], one per HTML page under ``roots`` ({package: folder}, Debian's by default), sorted;
    doc_id is 'package/relative/path.html'. FileNotFoundError when no root exists."""
    roots = HTML_ROOTS if roots is None else roots
    return list(_documents(tuple(sorted(roots.items()))))


@functools.lru_cache(maxsize=4)
def _documents(roots):
    present = [(package, folder) for package, folder in roots if os.path.isdir(folder)]
    if not present:
        folders = ', '.join(folder for _, folder in roots)
        raise FileNotFoundError(f'no Korean help pages in {folders}: install them with '
                                f'`apt-get install {" ".join(package for package, _ in roots)}`')
    found = []
    for package, folder in present:
        for parent, _, files in os.walk(folder):
            for name in files:
                if name.endswith(('.html', '.htm')):
                    path = os.path.join(parent, name)
                    with open(path, encoding='utf-8', errors='replace') as f:
                        text = visible_text(f.read())
                    found.append((f'{package}/{os.path.relpath(path, folder)}', text))
    return tuple(sorted(found))


def split_of(doc_id):
    """'heldout' for about HELD_OUT_SHARE of documents, else 'train': a SHA-1 of the id, the same everywhere."""
    digest = hashlib.sha1(doc_id.encode('utf-8')).digest()
    return 'heldout' if int.from_bytes(digest[:8], 'big') / 2 ** 64 < HELD_OUT_SHARE else 'train'


def hangul_share(line):
    """The share of Hangul syllables among a line's characters other than spaces."""
    chars = line.replace(' ', '')
    return sum(map(is_syllable, chars)) / len(chars) if chars else 0.0


def keep(line, max_chars):
    """True for a line of MIN_CHARS..max_chars readable characters, at least MIN_HANGUL_SHARE Hangul."""
    return (MIN_CHARS <= len(line) <= max_chars and all(map(readable, line))
            and hangul_share(line) >= MIN_HANGUL_SHARE)


def cut_lines(paragraph, max_chars, rng):
    """A paragraph cut at spaces into lines of at most ``max_chars`` (a longer word is cut), each filled up
    to a length drawn from MIN_CHARS..max_chars, so lines come in every length."""
    lines, line = [], ''
    target = rng.randint(MIN_CHARS, max_chars)
    for word in paragraph.split(' '):
        while len(word) > max_chars:
            if line:
                lines.append(line)
            lines.append(word[:max_chars])
            line, word = '', word[max_chars:]
        if line and len(line) + 1 + len(word) > target:
            lines.append(line)
            line, target = '', rng.randint(MIN_CHARS, max_chars)
        line = f'{line} {word}' if line else word
    if line:
        lines.append(line)
    return lines


def document_lines(docs, max_chars):
    """{split: [line, ...]} of the documents' kept lines, deduplicated; a line found in both splits is kept
    in 'heldout' only, so held-out text is not trained on through another page that repeats it."""
    found = {split: {} for split in SPLITS}   # dicts keep first-seen order
    for doc_id, text in docs:
        rng = random.Random(doc_id)          # the cuts depend on the page alone
        for paragraph in text.split('\n'):
            for line in cut_lines(clean_text(paragraph), max_chars, rng):
                if keep(line, max_chars):
                    found[split_of(doc_id)][line] = None
    return {'heldout': list(found['heldout']),
            'train': [line for line in found['train'] if line not in found['heldout']]}


def dictionary_words(path=HUNSPELL_DIC):
    """The words of a hunspell .dic (its count line and '/flags' dropped) that are readable and have Hangul."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: no Korean word list; install it with `apt-get install hunspell-ko`')
    words = {}
    with open(path, encoding='utf-8') as f:
        for number, row in enumerate(f):
            word = clean_text(row.split('/')[0])
            if number == 0 and word.isdigit():
                continue
            if word and ' ' not in word and all(map(readable, word)) and any(map(is_syllable, word)):
                words[word] = None
    return list(words)


def dictionary_lines(words, latin, count, max_chars, seed):
    """``count`` lines of random dictionary ``words`` joined by spaces, now and then with a number, a word of
    ``latin`` or punctuation mixed in (all drawn from ``seed``)."""
    rng = random.Random(f'dictionary-{seed}')
    lines = []
    for _ in range(count):
        target, parts = rng.randint(MIN_CHARS, max_chars), []
        while sum(map(len, parts)) + len(parts) < target:
            draw = rng.random()
            if draw < 0.1:
                parts.append(str(rng.randint(0, 10 ** rng.randint(1, 4))) + rng.choice(('', '', '%', '.5', '개')))
            elif draw < 0.18 and latin:
                parts.append(rng.choice(latin))
            else:
                parts.append(rng.choice(words) + rng.choice(('',) * 12 + tuple(',.?!:')))
        lines.append(' '.join(parts)[:max_chars].strip())
    return lines


def latin_words(docs):
    """ASCII words of 2..12 letters in the documents ('GIMP', 'Ctrl'), sorted."""
    return sorted({w for _, text in docs for w in re.findall(r'\b[A-Za-z]{2,12}\b', text)})


def text_lines(split, count=None, max_chars=24, seed=0, roots=None, dictionary=HUNSPELL_DIC,
               n_dictionary=DICTIONARY_LINES):
    """Korean lines of ``split`` ('train' or 'heldout'), MIN_CHARS..max_chars readable characters each,
    deduplicated: the help pages' prose cut at word boundaries, and for 'train' also ``n_dictionary``
    lines of random dictionary words. ``count`` lines drawn at ``seed`` (all of them, shuffled, when fewer
    exist), or every line in corpus order when ``count`` is None."""
    if split not in SPLITS:
        raise ValueError(f'split={split!r}; choose from {SPLITS}')
    if max_chars < MIN_CHARS:
        raise ValueError(f'max_chars={max_chars}: expected at least {MIN_CHARS}')
    docs = documents(roots)
    by_split = document_lines(docs, max_chars)
    lines = by_split[split]
    if split == 'train' and n_dictionary:
        train_docs = [doc for doc in docs if split_of(doc[0]) == 'train']
        extra = dictionary_lines(dictionary_words(dictionary), latin_words(train_docs), n_dictionary, max_chars,
                                 seed)
        held_out, seen = set(by_split['heldout']), set(lines)
        for line in extra:
            if line not in seen and line not in held_out and keep(line, max_chars):
                seen.add(line)
                lines.append(line)
    if count is None:
        return lines
    return random.Random(seed).sample(lines, min(count, len(lines)))
