"""Files written whole or not at all, JSON in and out, and the paths of what the repository bundles."""
import json
import os
import shutil
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLED_FONT = os.path.join(ROOT, 'files', 'KoOCRGothic-Regular.ttf')  # OFL Korean font: tests, figure labels
PRETRAINED = os.path.join(ROOT, 'pretrained')


def atomic_write(path, write):
    """Call ``write(binary_file)`` on a temp file beside ``path``, then rename it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; ours are ordinary data files
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def atomic_write_dir(path, write):
    """Call ``write(temp_folder)`` on a new folder beside ``path``, then rename it into place; a folder
    already at ``path`` is replaced only once the new one is whole."""
    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix='.tmp_' + os.path.basename(path))
    try:
        write(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp makes folders private
        if os.path.isdir(path):
            old = tempfile.mkdtemp(dir=parent, prefix='.old_' + os.path.basename(path))
            os.replace(path, os.path.join(old, 'replaced'))
            try:
                os.replace(tmp, path)
            except BaseException:
                os.replace(os.path.join(old, 'replaced'), path)  # the old folder goes back where it was
                os.rmdir(old)
                raise
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path, text):
    """UTF-8 text written atomically."""
    atomic_write(path, lambda f: f.write(text.encode('utf-8')))


def write_json(path, content):
    """JSON (UTF-8, Korean as is) written atomically; ``content`` holds plain Python values."""
    write_text(path, json.dumps(content, ensure_ascii=False, indent=2))


def read_json(path, what='valid JSON', hint=''):
    """The JSON value in ``path``; a ValueError naming the file when it is not JSON (``what``: what was
    expected, ``hint``: what to do about it)."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f'{path}: not {what} ({e}){hint}') from None
