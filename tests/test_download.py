"""utils/download.py against a local HTTP server: downloads, archive safety, Clova fonts."""
import os
import stat
import struct
import time
import zipfile
import zlib

import py7zr
import pytest

import local_server
from local_server import QuietHandler
from utils.data.download import (ArchiveError, DownloadError, WebPageError, download_clova_fonts, download_file,
                            extract_archive)


class _Handler(QuietHandler):
    def do_GET(self):
        if self.path == '/short':  # announces 1000 bytes, sends 10: a dropped connection
            self.send_response(200)
            self.send_header('Content-Length', '1000')
            self.end_headers()
            self.wfile.write(b'0123456789')
            return
        super().do_GET()


def serve(folder):
    return local_server.serve(folder, _Handler)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch, tmp_path):
    for name in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'all_proxy'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))  # gdown's cookie file


def leftovers(folder):
    return [name for name in os.listdir(folder) if name.startswith('.')]


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / 'site'
    folder.mkdir()
    (folder / 'file.bin').write_bytes(b'payload' * 100)
    with serve(folder) as url:
        yield folder, url


# Downloads

@pytest.mark.parametrize('gdrive', [False, True])
def test_download_file_and_skip_existing(site, tmp_path, gdrive):
    folder, url = site
    dest = tmp_path / 'out' / 'file.bin'
    assert download_file(f'{url}/file.bin', str(dest), gdrive=gdrive) == str(dest)
    assert dest.read_bytes() == b'payload' * 100
    (folder / 'file.bin').write_bytes(b'changed')
    download_file(f'{url}/file.bin', str(dest), gdrive=gdrive)
    assert dest.read_bytes() == b'payload' * 100
    assert leftovers(dest.parent) == []


@pytest.mark.parametrize('gdrive', [False, True])
@pytest.mark.parametrize('path', ['missing.bin', 'short'])
def test_download_failure_leaves_nothing(site, tmp_path, gdrive, path):
    _, url = site
    dest = tmp_path / 'out' / 'file.bin'
    with pytest.raises(DownloadError, match=f'{url}/{path}'):
        download_file(f'{url}/{path}', str(dest), gdrive=gdrive)
    assert os.listdir(dest.parent) == []


def test_download_closed_port(tmp_path, closed_port):
    url = f'http://127.0.0.1:{closed_port}/file.bin'
    start = time.monotonic()
    with pytest.raises(DownloadError, match='check the network') as info:
        download_file(url, str(tmp_path / 'file.bin'))
    assert url in str(info.value) and '\n' not in str(info.value)
    assert time.monotonic() - start < 30
    assert not (tmp_path / 'file.bin').exists() and leftovers(tmp_path) == []


def test_gdrive_id_offline(tmp_path, monkeypatch, closed_port):
    # A proxy on a closed port stands in for a machine without internet.
    proxy = f'http://127.0.0.1:{closed_port}'
    monkeypatch.setenv('HTTPS_PROXY', proxy)
    monkeypatch.setenv('NO_PROXY', '')
    with pytest.raises(DownloadError, match='Google Drive file id abc123'):
        download_file('abc123', str(tmp_path / 'out' / 'data.7z'), gdrive=True)
    assert os.listdir(tmp_path / 'out') == []


# Archives

def make_7z(path, files):
    with py7zr.SevenZipFile(path, 'w') as archive:
        for name, data in files.items():
            archive.writestr(data, name)
    return path


def make_zip(path, files):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def patched_7z(path, fake_name, real_name):
    """A 7z holding ``real_name`` (which py7zr refuses to write): write ``fake_name``, patch the header."""
    with py7zr.SevenZipFile(path, 'w') as archive:
        archive.set_encoded_header_mode(False)  # file names stay plain UTF-16 in the header
        archive.writestr(b'evil', fake_name)
    fake, real = fake_name.encode('utf-16-le'), real_name.encode('utf-16-le')
    assert len(fake) == len(real)
    data = bytearray(path.read_bytes().replace(fake, real))
    offset, size = struct.unpack('<QQ', data[12:28])
    data[28:32] = struct.pack('<I', zlib.crc32(data[32 + offset:32 + offset + size]))
    data[8:12] = struct.pack('<I', zlib.crc32(data[12:32]))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize('make', [make_7z, make_zip])
def test_extract_keeps_existing_files(tmp_path, make):
    archive = make(tmp_path / ('a.7z' if make is make_7z else 'a.zip'),
                   {'data/a.txt': b'new a', 'data/sub/b.txt': b'b'})
    dest = tmp_path / 'dest'
    dest.mkdir()
    (dest / 'a.txt').write_bytes(b'mine')
    (dest / 'other.txt').write_bytes(b'other')
    extract_archive(str(archive), str(dest), strip_root=True)
    assert (dest / 'a.txt').read_bytes() == b'mine'
    assert (dest / 'other.txt').read_bytes() == b'other'
    assert (dest / 'sub' / 'b.txt').read_bytes() == b'b'
    extract_archive(str(archive), str(tmp_path / 'plain'))
    assert (tmp_path / 'plain' / 'data' / 'a.txt').read_bytes() == b'new a'
    assert leftovers(tmp_path) == []


def zip_link(path):
    info = zipfile.ZipInfo('data/link')
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('data/ok.txt', b'ok')
        archive.writestr(info, '/etc/passwd')
    return path


def sevenzip_link(path):
    source = path.parent / 'link_source'
    source.mkdir()
    os.symlink('/etc/passwd', source / 'link')
    with py7zr.SevenZipFile(path, 'w') as archive:
        archive.write(source / 'link', 'data/link')
    return path


@pytest.mark.parametrize('build, entry', [
    (lambda p: make_zip(p / 'evil.zip', {'ok.txt': b'ok', '../evil.txt': b'x'}), '../evil.txt'),
    (lambda p: make_zip(p / 'evil.zip', {'/tmp/evil.txt': b'x'}), '/tmp/evil.txt'),
    (lambda p: make_zip(p / 'evil.zip', {'data/../../evil.txt': b'x'}), 'data/../../evil.txt'),
    (lambda p: zip_link(p / 'evil.zip'), 'data/link'),
    (lambda p: patched_7z(p / 'evil.7z', 'aa/evil.txt', '../evil.txt'), '../evil.txt'),
    (lambda p: patched_7z(p / 'evil.7z', 'xetc/evil', '/etc/evil'), '/etc/evil'),
    (lambda p: sevenzip_link(p / 'evil.7z'), 'data/link'),
])
def test_extract_refuses_unsafe_entries(tmp_path, build, entry):
    archive = build(tmp_path)
    dest = tmp_path / 'box' / 'dest'
    with pytest.raises(ArchiveError) as info:
        extract_archive(str(archive), str(dest))
    assert str(archive) in str(info.value) and repr(entry) in str(info.value)
    assert not dest.exists() and os.listdir(tmp_path / 'box') == []
    assert not (tmp_path / 'evil.txt').exists()


@pytest.mark.parametrize('make, name', [(make_7z, 'big.7z'), (make_zip, 'big.zip')])
def test_extract_truncated_archive(tmp_path, make, name):
    archive = make(tmp_path / name, {'data/a.bin': os.urandom(20000), 'data/b.bin': os.urandom(20000)})
    data = archive.read_bytes()
    archive.write_bytes(data[:len(data) // 2])
    dest = tmp_path / 'box' / 'dest'
    with pytest.raises(ArchiveError, match='not a complete') as info:
        extract_archive(str(archive), str(dest))
    assert str(archive) in str(info.value)
    assert not dest.exists() and os.listdir(tmp_path / 'box') == []


def test_extract_corrupt_7z_data(tmp_path):
    archive = make_7z(tmp_path / 'bad.7z', {'data/a.bin': bytes(range(256)) * 200})
    data = bytearray(archive.read_bytes())
    data[40] ^= 0xFF  # inside the compressed stream, past the signature header
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match='bad.7z'):
        extract_archive(str(archive), str(tmp_path / 'dest'))
    assert not (tmp_path / 'dest').exists() and leftovers(tmp_path) == []


def test_extract_unknown_type(tmp_path):
    (tmp_path / 'a.rar').write_bytes(b'x')
    with pytest.raises(ArchiveError, match='a.rar'):
        extract_archive(str(tmp_path / 'a.rar'), str(tmp_path / 'dest'))


# Clova fonts

FONTS = {'나눔손글씨 가람연꽃.ttf': b'font one', '나눔손글씨 갈맷글.ttf': b'font two'}


def test_download_clova_fonts(tmp_path):
    site = tmp_path / 'site'
    (site / 'handwriting' / 'download').mkdir(parents=True)
    for name, data in FONTS.items():
        (site / 'handwriting' / 'download' / name).write_bytes(data)
    font_dir = tmp_path / 'fonts'
    font_dir.mkdir()
    (font_dir / '나눔손글씨 갈맷글.ttf').write_bytes(b'already here')
    with serve(site) as url:
        links = tmp_path / 'links.txt'  # raw names, as in files/clova_ttf_links.txt
        links.write_text(''.join(f'{url}/handwriting/download/{name}\n' for name in FONTS) + '\n',
                         encoding='utf-8')
        paths = download_clova_fonts(str(links), str(font_dir))
    assert paths == [str(font_dir / name) for name in FONTS]
    assert (font_dir / '나눔손글씨 가람연꽃.ttf').read_bytes() == b'font one'
    assert (font_dir / '나눔손글씨 갈맷글.ttf').read_bytes() == b'already here'
    assert leftovers(font_dir) == []


def test_download_clova_fonts_failure(tmp_path):
    site = tmp_path / 'site'
    site.mkdir()
    (site / '나눔손글씨 가람연꽃.ttf').write_bytes(b'font one')
    font_dir = tmp_path / 'fonts'
    with serve(site) as url:
        links = tmp_path / 'links.txt'
        missing = f'{url}/나눔손글씨 없는체.ttf'
        links.write_text(f'{url}/나눔손글씨 가람연꽃.ttf\n{missing}\n', encoding='utf-8')
        with pytest.raises(DownloadError) as info:
            download_clova_fonts(str(links), str(font_dir))
    message = str(info.value)
    assert missing in message
    assert f'put the fonts in {font_dir} yourself and rerun without --clova' in message
    assert os.listdir(font_dir) == ['나눔손글씨 가람연꽃.ttf']


@pytest.mark.parametrize('gdrive', [False, True])
def test_download_web_page_is_refused_and_leaves_nothing(site, tmp_path, gdrive):
    folder, url = site
    (folder / 'page.bin').write_bytes(b'<html><body>Sign in to continue</body></html>')
    dest = tmp_path / 'out' / 'fonts.zip'
    with pytest.raises(WebPageError, match=f'{url}/page.bin: the server sent a web page, not an archive'):
        download_file(f'{url}/page.bin', str(dest), gdrive=gdrive)
    assert os.listdir(dest.parent) == []
    other = tmp_path / 'out' / 'font.ttf'
    with pytest.raises(WebPageError, match='not the file'):
        download_file(f'{url}/page.bin', str(other))
