"""Helpers shared by the scripts' argument parsers."""
import argparse

_TRUE = ('true', '1', 'yes', 'y', 't')
_FALSE = ('false', '0', 'no', 'n', 'f')


def str2bool(value):
    """argparse type for the seed's ``--flag=true`` style: true/false, 1/0, yes/no (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f'expected true or false (or 1/0, yes/no), got {value!r}')
