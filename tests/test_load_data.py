"""load_data.py end to end against a local mirror; str2bool."""
import argparse
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import py7zr
import pytest

from local_server import QuietHandler, serve

from utils.config import str2bool
from utils.data.patches import read_patch, write_patch

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'load_data.py')


def run_script(cwd, *args, proxy=None):
    env = {key: value for key, value in os.environ.items() if 'proxy' not in key.lower()}
    env.update(HOME=str(cwd), NO_PROXY='127.0.0.1,localhost')
    if proxy:
        env.update(HTTPS_PROXY=proxy, NO_PROXY='')
    start = time.monotonic()
    result = subprocess.run([sys.executable, SCRIPT, *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=60)
    return result, time.monotonic() - start


def patch_bytes(tmp_path, name, labels):
    path = tmp_path / 'patches' / name
    images = np.full((len(labels), 8, 8), 255, np.uint8)
    write_patch(str(path), images, labels)
    return path.read_bytes()


@pytest.fixture
def mirror(tmp_path):
    """data.7z/.zip with a top folder 'data/', val_data.7z/.zip with the patches at the root."""
    site = tmp_path / 'site'
    site.mkdir()
    data = {'data/handwritten_0.pickle': patch_bytes(tmp_path, 'handwritten_0.pickle', ['가', '각']),
            'data/printed_0.pickle': patch_bytes(tmp_path, 'printed_0.pickle', ['나'])}
    val = {'clova_0.pickle': patch_bytes(tmp_path, 'clova_0.pickle', ['다'])}
    for name, files in (('data', data), ('val_data', val)):
        with py7zr.SevenZipFile(site / f'{name}.7z', 'w') as archive:
            for entry, content in files.items():
                archive.writestr(content, entry)
        with zipfile.ZipFile(site / f'{name}.zip', 'w') as archive:
            for entry, content in files.items():
                archive.writestr(entry, content)
    with serve(site) as url:
        yield site, url


@pytest.mark.parametrize('sevenzip', ['true', 'false'])
def test_load_data_from_mirror(tmp_path, mirror, sevenzip):
    _, url = mirror
    result, _ = run_script(tmp_path, f'--sevenzip={sevenzip}', f'--url={url}')
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / 'data')) == ['handwritten_0.pickle', 'printed_0.pickle']
    assert os.listdir(tmp_path / 'val_data') == ['clova_0.pickle']
    assert list(read_patch(str(tmp_path / 'data' / 'handwritten_0.pickle'))[1]) == ['가', '각']
    assert list(read_patch(str(tmp_path / 'val_data' / 'clova_0.pickle'))[1]) == ['다']
    extension = '7z' if sevenzip == 'true' else 'zip'
    assert sorted(os.listdir(tmp_path / 'downloads')) == [f'data.{extension}', f'val_data.{extension}']
    rerun, _ = run_script(tmp_path, f'--sevenzip={sevenzip}', f'--url={url}')  # cached, files kept
    assert rerun.returncode == 0, rerun.stderr


def test_load_data_custom_paths(tmp_path, mirror):
    _, url = mirror
    result, _ = run_script(tmp_path, f'--url={url}/', '--data_path=out/train', '--val_path=out/val')
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / 'out')) == ['train', 'val']


def test_load_data_truncated_archive(tmp_path, mirror):
    site, url = mirror
    data = (site / 'data.7z').read_bytes()
    (site / 'data.7z').write_bytes(data[:len(data) // 2])
    result, _ = run_script(tmp_path, f'--url={url}')
    assert result.returncode == 1
    assert 'data.7z' in result.stderr and 'not a complete' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'data').exists()
    assert [name for name in os.listdir(tmp_path) if name.startswith('.')] == []


def test_load_data_offline_mirror(tmp_path, closed_port):
    url = f'http://127.0.0.1:{closed_port}'
    result, seconds = run_script(tmp_path, f'--url={url}')
    assert result.returncode == 1 and seconds < 60
    assert 'python crawl_data.py' in result.stderr and f'{url}/data.7z' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'data').exists()
    assert os.listdir(tmp_path / 'downloads') == []


def test_load_data_offline_google_drive(tmp_path, closed_port):
    # A proxy on a closed port stands in for a machine without internet.
    result, seconds = run_script(tmp_path, '--sevenzip=false', proxy=f'http://127.0.0.1:{closed_port}')
    assert result.returncode == 1 and seconds < 60
    assert '1HBu43eBO-vXJsJp8crEp_Iih3_U7QSR2' in result.stderr
    assert 'python crawl_data.py' in result.stderr and 'Traceback' not in result.stderr


def test_bad_flag(tmp_path):
    result, _ = run_script(tmp_path, '--sevenzip=maybe')
    assert result.returncode == 2 and "'maybe'" in result.stderr


@pytest.mark.parametrize('text, value', [('true', True), ('True', True), ('1', True), ('yes', True),
                                         ('false', False), ('FALSE', False), ('0', False), ('no', False)])
def test_str2bool(text, value):
    assert str2bool(text) is value


def test_str2bool_rejects():
    with pytest.raises(argparse.ArgumentTypeError, match="'maybe'"):
        str2bool('maybe')


QUOTA_PAGE = (b'\n  <!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head>'
              b'<body>...</body></html>')


class _TypedHandler(QuietHandler):
    """Serves every .7z as text/html, as a web server does for its error and login pages."""

    def guess_type(self, path):
        return 'text/html' if str(path).endswith('.7z') else super().guess_type(path)


@pytest.mark.parametrize('page, handler', [(QUOTA_PAGE, QuietHandler), (b'Quota exceeded', _TypedHandler)],
                         ids=['html-bytes-as-7z', 'text/html-type'])
def test_load_data_web_page_instead_of_archive(tmp_path, page, handler):
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'data.7z').write_bytes(page)
    with serve(site, handler) as url:
        result, _ = run_script(tmp_path, f'--url={url}')
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert f'{url}/data.7z: the server sent a web page, not an archive (quota exceeded?' in result.stderr
    assert 'python crawl_data.py' not in result.stderr  # not an offline machine: no such advice
    assert os.listdir(tmp_path / 'downloads') == []  # no data.7z, no temp folder
    assert not (tmp_path / 'data').exists()
