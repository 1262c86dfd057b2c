"""The characters of a text line that are not Hangul syllables, and the classes of the line reader's
symbol network: one per symbol, plus 'a Hangul syllable' (named by the syllable network) and 'not a whole
character' (a piece of one, or two run together)."""
import string

from utils.data.hangul import is_syllable

KOREAN_MARKS = '“”‘’·…～※'
SYMBOLS = string.digits + string.ascii_letters + string.punctuation + KOREAN_MARKS
HANGUL_CLASS, FRAGMENT_CLASS = 0, 1
SYMBOL_CLASSES = ('<hangul>', '<fragment>') + tuple(SYMBOLS)


def symbol_class(char):
    """The symbol network's class of one character: HANGUL_CLASS for a syllable, else its symbol's."""
    if is_syllable(char):
        return HANGUL_CLASS
    if char not in SYMBOLS:
        raise ValueError(f'{char!r} (U+{ord(char):04X}) is neither a Hangul syllable nor one of the '
                         f'{len(SYMBOLS)} symbols a line can hold')
    return SYMBOL_CLASSES.index(char)


def readable(char):
    """True for a character a line reader can name: a syllable, a symbol or a space."""
    return char == ' ' or is_syllable(char) or char in SYMBOLS
