"""utils/io.py: atomic writes, JSON in and out, the bundled paths."""
import json
import os

import pytest

from utils import io


def test_atomic_write_replaces_whole_or_leaves_the_old_file(tmp_path):
    path = str(tmp_path / 'printed_0.pickle')
    io.atomic_write(path, lambda f: f.write(b'old'))

    def failing(f):
        f.write(b'half a patch')
        raise OSError('disk full')
    with pytest.raises(OSError, match='disk full'):
        io.atomic_write(path, failing)
    with pytest.raises(OSError, match='disk full'):
        io.atomic_write(str(tmp_path / 'printed_1.pickle'), failing)
    assert os.listdir(tmp_path) == ['printed_0.pickle']  # no temp, no new file
    assert open(path, 'rb').read() == b'old'
    io.atomic_write(path, lambda f: f.write(b'new'))
    assert open(path, 'rb').read() == b'new' and oct(os.stat(path).st_mode & 0o777) == '0o644'


def test_atomic_write_makes_the_folder(tmp_path):
    path = tmp_path / 'a' / 'b' / 'metrics.json'
    io.write_json(str(path), {'top1': 0.5})
    assert json.loads(path.read_text()) == {'top1': 0.5}


def test_json_keeps_korean_as_text_and_round_trips(tmp_path):
    path = str(tmp_path / 'x.json')
    content = {'truth': '가', 'pairs': [{'prediction': '카', 'count': 3}]}
    io.write_json(path, content)
    assert '가' in open(path, encoding='utf-8').read()
    assert io.read_json(path) == content


def test_bad_json_names_the_file_what_was_expected_and_what_to_do(tmp_path):
    path = tmp_path / 'train_state.json'
    path.write_bytes(b'{"epoch": ')
    with pytest.raises(ValueError, match=r'train_state\.json: not a training state \(.*\); delete it'):
        io.read_json(str(path), 'a training state', '; delete it')
    path.write_bytes(b'\xff\xfe')
    with pytest.raises(ValueError, match=r'train_state\.json: not valid JSON'):
        io.read_json(str(path))


def test_bundled_paths_exist():
    assert os.path.isfile(io.BUNDLED_FONT) and io.BUNDLED_FONT.endswith('.ttf')
    assert os.path.isdir(io.PRETRAINED) and os.path.isdir(os.path.join(io.ROOT, 'utils'))
