"""The scripts as commands: user errors as one line naming the command, and a package of the [train] extra
that the light install left out named with the pip command that brings it. The console scripts of the pip
package (``koocr-predict``, ``koocr-train``, ...) start here."""
import contextlib
import importlib
import os
import sys

# Top-level names of what `pip install koocr[train]` adds to the light install.
TRAIN_EXTRA = {'tensorflow', 'keras', 'py7zr', 'gdown', 'tqdm', 'sklearn', 'matplotlib', 'tensorboard'}


@contextlib.contextmanager
def reported(errors=()):
    """Exit with one line instead of a traceback: for ``errors`` (what a user can fix: a bad file, a bad
    value), and for a missing package of the [train] extra."""
    command = os.path.basename(sys.argv[0]) or 'koocr'
    try:
        yield
    except ModuleNotFoundError as e:
        if (e.name or '').split('.')[0] not in TRAIN_EXTRA:
            raise
        sys.exit(f"{command}: needs {e.name}, which the light install leaves out: pip install 'koocr[train]' "
                 "(or 'koocr[gpu]' on an NVIDIA GPU)")
    except errors as e:
        sys.exit(f'{command}: {e}')


def _command(script):
    def start():
        with reported():
            module = importlib.import_module(script)
        sys.exit(module.cli())
    start.__doc__ = f'The console script of {script}.py.'
    return start


predict = _command('predict')
train = _command('train')
evaluate = _command('evaluate')
crawl = _command('crawl_data')
export = _command('export')
compress = _command('compress')
interpolate = _command('interpolate')
demo = _command('demo')
