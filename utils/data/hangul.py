"""Hangul syllables ⇄ jamo indices, and the charsets a model can name.

A precomposed syllable is ``chr(0xAC00 + (cho * 21 + jung) * 28 + jong)`` (Unicode §3.12).
"""
import os

import numpy as np

CHOSUNG = list('ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ')
JUNGSUNG = list('ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ')
JONGSUNG = [''] + list('ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ')
COMPONENTS = {'CHOSUNG': CHOSUNG, 'JUNGSUNG': JUNGSUNG, 'JONGSUNG': JONGSUNG}
# The discriminator's output (adversarial learning, training only): P(handwriting-style) of an image.
DOMAIN_OUTPUT = 'domain'

FIRST_SYLLABLE = 0xAC00
SYLLABLE_COUNT = len(CHOSUNG) * len(JUNGSUNG) * len(JONGSUNG)  # 11,172
CHARSET_NAMES = ('ksx1001', 'all')
SPLIT_OUTPUTS = {name: len(jamo) for name, jamo in COMPONENTS.items()}  # the split model's heads


def output_sizes(split_components, charset_size):
    """{output name: classes}: CHOSUNG/JUNGSUNG/JONGSUNG (19/21/28) or 'output' over the charset."""
    return dict(SPLIT_OUTPUTS) if split_components else {'output': charset_size}


def is_syllable(char):
    """True when ``char`` is one precomposed Hangul syllable (가..힣)."""
    return (isinstance(char, str) and len(char) == 1
            and FIRST_SYLLABLE <= ord(char) < FIRST_SYLLABLE + SYLLABLE_COUNT)


def check_syllable(char):
    """Return ``char`` if it is a Hangul syllable, else raise ValueError naming it."""
    if not is_syllable(char):
        points = ' '.join(f'U+{ord(c):04X}' for c in str(char)) or 'empty'
        shown = repr(str(char)) if isinstance(char, str) else repr(char)  # np.str_('A') -> 'A'
        raise ValueError(f'{shown} ({points}) is not a precomposed Hangul syllable (U+AC00..U+D7A3)')
    return char


def split_syllable(char):
    """'각' -> (0, 0, 1): indices into CHOSUNG, JUNGSUNG, JONGSUNG."""
    offset = ord(check_syllable(char)) - FIRST_SYLLABLE
    return offset // (21 * 28), (offset // 28) % 21, offset % 28


def compose_syllable(cho, jung, jong=0):
    """(0, 0, 1) -> '각'."""
    for name, index, size in (('cho', cho, 19), ('jung', jung, 21), ('jong', jong, 28)):
        if not 0 <= int(index) < size:
            raise ValueError(f'{name}={index} is out of range 0..{size - 1}')
    return chr(FIRST_SYLLABLE + (int(cho) * 21 + int(jung)) * 28 + int(jong))


def split_labels(labels):
    """An array of syllables -> int32 array (N, 3) of (cho, jung, jong)."""
    return np.array([split_syllable(c) for c in labels], dtype=np.int32).reshape(-1, 3)


def _ksx1001():
    # The euc-kr codec also encodes the other 8,822 syllables, as 8-byte sequences: keep 2-byte ones.
    return [chr(p) for p in range(FIRST_SYLLABLE, FIRST_SYLLABLE + SYLLABLE_COUNT)
            if len(chr(p).encode('euc-kr')) == 2]


def load_charset(charset='ksx1001'):
    """The syllables a model names, in code-point order: 'ksx1001' (2,350), 'all' (11,172) or a file.

    A file is UTF-8 text; whitespace is ignored, every other character must be a Hangul syllable.
    """
    if isinstance(charset, (list, tuple)):
        return sorted(set(check_syllable(c) for c in charset))
    if charset == 'ksx1001':
        return _ksx1001()
    if charset == 'all':
        return [chr(p) for p in range(FIRST_SYLLABLE, FIRST_SYLLABLE + SYLLABLE_COUNT)]
    if not os.path.isfile(str(charset)):
        raise ValueError(f'charset {charset!r} is neither one of {CHARSET_NAMES} nor a file')
    with open(charset, encoding='utf-8-sig') as f:  # -sig: Windows editors start UTF-8 files with a BOM
        chars = [c for c in f.read() if not c.isspace()]
    try:
        return sorted(set(check_syllable(c) for c in chars))
    except ValueError as e:
        raise ValueError(f'{charset}: {e}') from None
