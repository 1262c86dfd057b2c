"""Character error rates of line readings: overall, on Hangul syllables, on everything else, on spaces."""
import re

from utils.data.hangul import is_syllable

SPACE_PLACEHOLDER = 'x'


def normalize_spaces(text):
    """Trimmed, with every run of whitespace one space."""
    return re.sub(r'\s+', ' ', text).strip()


def edit_distance(a, b):
    """Levenshtein distance: the fewest insertions, deletions and substitutions (cost 1 each) from a to b."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def hangul_only(text):
    return ''.join(c for c in text if is_syllable(c))


def non_hangul_only(text):
    return ''.join(c for c in text if not is_syllable(c) and c != ' ')


def space_pattern(text):
    """Every character but a space as one placeholder: 'ab cd' -> 'xx xx'."""
    return ''.join(c if c == ' ' else SPACE_PLACEHOLDER for c in text)


def _rate(errors, length):
    """errors / length; None when there was nothing to get right (length 0)."""
    return errors / length if length else None


def cer_report(pairs):
    """Error rates of (reference, hypothesis) pairs, each the summed edit distance over the summed reference
    length of the space-normalised strings (None where the references hold none of what is counted):

    - 'overall': the whole strings;
    - 'hangul': the strings reduced to their Hangul syllables;
    - 'non_hangul': reduced to everything that is neither a syllable nor a space;
    - 'spaces': the strings' space patterns (each other character one placeholder) over the number of
      reference spaces. A missed or extra space counts 1, and so does a missed or extra character, which
      shifts the pattern; a wrong character does not;
    - 'lines': the number of pairs.
    """
    pairs = [(normalize_spaces(reference), normalize_spaces(hypothesis)) for reference, hypothesis in pairs]
    views = {'overall': lambda text: text, 'hangul': hangul_only, 'non_hangul': non_hangul_only,
             'spaces': space_pattern}
    report = {}
    for name, view in views.items():
        errors = sum(edit_distance(view(reference), view(hypothesis)) for reference, hypothesis in pairs)
        if name == 'spaces':
            length = sum(reference.count(' ') for reference, _ in pairs)
        else:
            length = sum(len(view(reference)) for reference, _ in pairs)
        report[name] = _rate(errors, length)
    report['lines'] = len(pairs)
    return report
