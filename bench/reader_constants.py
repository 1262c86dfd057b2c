"""``--set NAME=VALUE``: change a constant of the line reader (``utils.inference.reading``, then
``utils.inference.segment``) for one more reading, as bench/line_tuning.py and bench/symbols_aside.py do."""


def owner(name):
    """The reader's module (reading, then segment) that has the constant ``name``, or None."""
    from utils.inference import reading, segment
    return next((module for module in (reading, segment) if hasattr(module, name)), None)


def add_argument(parser):
    parser.add_argument('--set', nargs='+', action='append', default=[], metavar='NAME=VALUE',
                        help='constants of utils.inference.reading or .segment to change for one more reading '
                             '(each --set adds to those before it)')


def _parsed(change):
    """'NAME=VALUE' -> (the module owning NAME or None, NAME, VALUE as text)."""
    name, _, value = change.partition('=')
    return owner(name), name, value


def check(parser, sets):
    """``parser.error`` unless every change of ``sets`` (lists of 'NAME=VALUE') names a reader constant and
    a value of its type."""
    for changes in sets:
        for change in changes:
            module, name, value = _parsed(change)
            if module is None or not name.isupper() or not value:
                parser.error(f'--set {change}: expected NAME=VALUE, NAME a constant of utils.inference.reading '
                             'or utils.inference.segment')
            try:
                type(getattr(module, name))(value)
            except ValueError:
                parser.error(f'--set {change}: {name} is a {type(getattr(module, name)).__name__}')


def apply(changes):
    """Set each 'NAME=VALUE' of ``changes`` on its module."""
    for change in changes:
        module, name, value = _parsed(change)
        setattr(module, name, type(getattr(module, name))(value))
