"""Text as CTC tokens over the jamo factorization, for the CRNN line reader (``network/crnn.py``): a syllable
is its initial, medial and (when it has one) final jamo, each position with tokens of its own, so 67 tokens
name all 11,172 syllables; symbols and the space are a token each. Token 0 is CTC's blank."""
from utils.data import hangul
from utils.data.symbols import SYMBOLS

BLANK = 0
INITIALS, MEDIALS, FINALS = len(hangul.CHOSUNG), len(hangul.JUNGSUNG), len(hangul.JONGSUNG) - 1
FIRST_MEDIAL = 1 + INITIALS
FIRST_FINAL = FIRST_MEDIAL + MEDIALS
FIRST_SYMBOL = FIRST_FINAL + FINALS
SPACE = FIRST_SYMBOL + len(SYMBOLS)
TOKENS = SPACE + 1  # with the blank


def encode(text):
    """A line's tokens; ValueError for a character no token names."""
    tokens = []
    for char in ' '.join(text.split()):
        if hangul.is_syllable(char):
            index = ord(char) - hangul.FIRST_SYLLABLE
            initial, rest = divmod(index, MEDIALS * (FINALS + 1))
            medial, final = divmod(rest, FINALS + 1)
            tokens += [1 + initial, FIRST_MEDIAL + medial] + ([FIRST_FINAL + final - 1] if final else [])
        elif char == ' ':
            tokens.append(SPACE)
        elif char in SYMBOLS:
            tokens.append(FIRST_SYMBOL + SYMBOLS.index(char))
        else:
            raise ValueError(f'{char!r} (U+{ord(char):04X}): no line token names it')
    return tokens


def decode(tokens):
    """Tokens (blanks and repeats already collapsed) -> text: an initial and a medial make a syllable, with
    the final that follows them if any; a jamo out of that order is dropped."""
    text, k = [], 0
    while k < len(tokens):
        token = tokens[k]
        if 1 <= token < FIRST_MEDIAL and k + 1 < len(tokens) and FIRST_MEDIAL <= tokens[k + 1] < FIRST_FINAL:
            final = 0
            if k + 2 < len(tokens) and FIRST_FINAL <= tokens[k + 2] < FIRST_SYMBOL:
                final = tokens[k + 2] - FIRST_FINAL + 1
            medial = tokens[k + 1] - FIRST_MEDIAL
            text.append(chr(hangul.FIRST_SYLLABLE + ((token - 1) * MEDIALS + medial) * (FINALS + 1) + final))
            k += 3 if final else 2
            continue
        if FIRST_SYMBOL <= token < SPACE:
            text.append(SYMBOLS[token - FIRST_SYMBOL])
        elif token == SPACE:
            text.append(' ')
        k += 1
    return ' '.join(''.join(text).split())


def greedy(frames):
    """CTC's best path: per-frame token scores (T, TOKENS) -> tokens, repeats collapsed, blanks dropped."""
    best = frames.argmax(axis=-1)
    return [int(t) for k, t in enumerate(best) if t != BLANK and (k == 0 or t != best[k - 1])]
