"""Downloads (plain URLs, Google Drive ids) and archive extraction that leave nothing half-done.

A download goes to a temporary folder beside its destination and is renamed into place when complete;
an archive is checked entry by entry (no absolute paths, no ``..``, no links), extracted into a
temporary folder and only then moved into its destination.
"""
import http.client
import json
import lzma
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib

import gdown
import py7zr
from tqdm import tqdm

TIMEOUT_S = 30
# The original's dataset on Google Drive: archive name -> file id.
DATASET_IDS = {
    'data.7z': '1-I3BtCzYE7swpKERGygRhlMnim2xX0_2',
    'val_data.7z': '17NusZQw2RKpBIvCKp6hW6RuJKY43SWqz',
    'data.zip': '1HBu43eBO-vXJsJp8crEp_Iih3_U7QSR2',
    'val_data.zip': '1WOP_sQsu4vXCY739VGgiWIbHyOozcjHw',
}


class DownloadError(Exception):
    """A download that failed; the message names the URL or file id and what to do."""


class WebPageError(DownloadError):
    """The server answered with a web page (a quota, login or error page) instead of the file."""


class ArchiveError(ValueError):
    """An archive that is corrupt or holds an unsafe entry; the message names the archive (and entry)."""


def _reason(error):
    # requests wraps urllib3's errors, which wrap the socket's: the innermost one says what happened.
    while True:
        inner = getattr(error, 'reason', None) or getattr(error, 'original_error', None)
        if inner is None and error.args and isinstance(error.args[0], BaseException):
            inner = error.args[0]
        if not isinstance(inner, BaseException):
            break
        error = inner
    text = str(error).strip().splitlines()
    return f'{type(error).__name__}: {text[0][:200]}' if text else type(error).__name__


WEB_PAGE_STARTS = (b'<!doctype html', b'<html')
ARCHIVE_SUFFIXES = ('.7z', '.zip')


def _is_web_page(path, content_type=None):
    """True when a downloaded file is HTML: by its content type, or by its first bytes (Google Drive's
    quota page comes as 200 with whatever type)."""
    with open(path, 'rb') as f:
        start = f.read(512).lstrip().lower()
    return content_type == 'text/html' or start.startswith(WEB_PAGE_STARTS)


def _fetch_url(url, path):
    """Download ``url`` to ``path``; returns the response's content type."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(path, 'wb') as f:
        total, received = response.length, 0
        with tqdm(total=total, unit='B', unit_scale=True, desc=os.path.basename(path), leave=False) as bar:
            for block in iter(lambda: response.read(1 << 20), b''):
                f.write(block)
                bar.update(len(block))
                received += len(block)
        # read(n) ends quietly at a dropped connection: compare with what the server announced.
        if total is not None and received < total:
            raise http.client.IncompleteRead(b'', total - received)
        return response.headers.get_content_type()


def download_file(url_or_id, dest_path, *, gdrive=False):
    """Download a URL (or, with ``gdrive=True``, a Google Drive file id) to ``dest_path``.

    Skips when ``dest_path`` exists. Raises DownloadError on any network failure, WebPageError when the
    server sent a web page instead; nothing partial is left.
    """
    if os.path.exists(dest_path):
        return dest_path
    folder = os.path.dirname(os.path.abspath(dest_path))
    os.makedirs(folder, exist_ok=True)
    # gdown keeps its own partial files beside its output: a private folder catches them all.
    tmp_dir = tempfile.mkdtemp(dir=folder, prefix='.download_')
    tmp_path = os.path.join(tmp_dir, os.path.basename(dest_path))
    what = f'Google Drive file id {url_or_id}' if gdrive and '://' not in url_or_id else url_or_id
    try:
        if gdrive:
            source = {'url': url_or_id} if '://' in url_or_id else {'id': url_or_id}
            gdown.download(output=tmp_path, quiet=False, timeout=TIMEOUT_S, **source)
            content_type = None
        else:
            content_type = _fetch_url(url_or_id, tmp_path)
        if _is_web_page(tmp_path, content_type):
            expected = 'an archive' if dest_path.endswith(ARCHIVE_SUFFIXES) else 'the file'
            raise WebPageError(f'{what}: the server sent a web page, not {expected} (quota exceeded? try again '
                               f'later or use --url)')
        os.replace(tmp_path, dest_path)
    except (OSError, ValueError, http.client.HTTPException, gdown.exceptions.DownloadError,
            gdown.exceptions.DownloadCancelled) as e:
        # requests' ConnectionError, HTTPError and Timeout are OSErrors, as are urllib's errors.
        error = DownloadError(f'could not download {what} to {dest_path} ({_reason(e)}); '
                              'check the network connection and rerun')
        error.reason = _reason(e)
        raise error from None
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return dest_path


def _unsafe_reason(name, is_link):
    if is_link:
        return 'is a link'
    parts = name.replace('\\', '/').split('/')
    if name.startswith(('/', '\\')) or (len(name) > 1 and name[1] == ':'):
        return 'has an absolute path'
    if '..' in parts:
        return "has a '..' component"
    return None


def _entries(archive):
    """(name, is_link) for every entry of an open archive."""
    if isinstance(archive, zipfile.ZipFile):
        return [(info.filename, stat.S_ISLNK(info.external_attr >> 16)) for info in archive.infolist()]
    return [(entry.filename, entry.is_symlink or entry.is_junction) for entry in archive.files]


def _check_entries(archive_path, entries, root):
    for name, is_link in entries:
        reason = _unsafe_reason(name, is_link)
        target = os.path.realpath(os.path.join(root, name))
        if reason is None and os.path.commonpath([root, target]) != root:
            reason = 'resolves outside the destination'
        if reason:
            raise ArchiveError(f'{archive_path}: refused to extract entry {name!r}: it {reason}')


def _open_archive(archive_path):
    if archive_path.lower().endswith('.7z'):
        return py7zr.SevenZipFile(archive_path, mode='r')
    if archive_path.lower().endswith('.zip'):
        return zipfile.ZipFile(archive_path)
    raise ArchiveError(f'{archive_path}: unknown archive type; expected a .7z or .zip file')


def _merge(src, dest):
    """Move the files of ``src`` into ``dest``, keeping any file ``dest`` already has."""
    kept = 0
    for folder, _, files in os.walk(src):
        target_folder = os.path.join(dest, os.path.relpath(folder, src))
        os.makedirs(target_folder, exist_ok=True)
        for name in files:
            target = os.path.join(target_folder, name)
            if os.path.lexists(target):
                kept += 1
            else:
                os.replace(os.path.join(folder, name), target)
    return kept


def extract_archive(archive_path, dest_dir, *, strip_root=False):
    """Extract a .7z or .zip archive into ``dest_dir``; returns ``dest_dir``.

    Unsafe entries (absolute, ``..``, links) or a corrupt archive raise ArchiveError before anything
    reaches ``dest_dir``. Files already in ``dest_dir`` are kept, never overwritten or deleted. With
    ``strip_root``, an archive whose entries all lie in one top folder has that folder's contents
    extracted (``data.7z`` holding ``data/…`` or ``…`` both fill ``dest_dir``).
    """
    if not os.path.isfile(archive_path):
        raise FileNotFoundError(f'{archive_path}: no such archive')
    dest_dir = os.path.abspath(dest_dir)
    parent = os.path.dirname(dest_dir)
    os.makedirs(parent, exist_ok=True)
    tmp_dir = os.path.realpath(tempfile.mkdtemp(dir=parent, prefix='.extract_'))
    try:
        try:
            with _open_archive(archive_path) as archive:
                _check_entries(archive_path, _entries(archive), tmp_dir)
                archive.extractall(tmp_dir)
        except ArchiveError:
            raise
        except (py7zr.exceptions.ArchiveError, py7zr.exceptions.AbsolutePathError,
                py7zr.exceptions.PasswordRequired, zipfile.BadZipFile, lzma.LZMAError, zlib.error,
                EOFError, OSError, ValueError, KeyError, IndexError, TypeError) as e:
            # Truncated or corrupt archives surface as any of these from py7zr, lzma and zipfile.
            raise ArchiveError(f'{archive_path}: not a complete, readable archive ({_reason(e)}); '
                               'delete it and download it again') from None
        source = tmp_dir
        top = os.listdir(tmp_dir)
        if strip_root and len(top) == 1 and os.path.isdir(os.path.join(tmp_dir, top[0])):
            source = os.path.join(tmp_dir, top[0])
        if not os.path.exists(dest_dir):  # in place at once: an interrupted run leaves no half-filled folder
            os.replace(source, dest_dir)
            return dest_dir
        kept = _merge(source, dest_dir)
        if kept:
            print(f'{dest_dir}: kept {kept} existing files instead of the archive\'s copies')
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return dest_dir


def _quote_url(url):
    parts = urllib.parse.urlsplit(url)
    # The list holds raw names with Korean and spaces; '%' stays safe so pre-quoted URLs survive.
    return urllib.parse.urlunsplit(parts._replace(path=urllib.parse.quote(parts.path, safe='/%')))


def clova_font_paths(url_list_path, font_dir):
    """{URL: the path in ``font_dir`` its font is saved as} for the URL list (one per line)."""
    with open(url_list_path, encoding='utf-8') as f:
        urls = [line.strip() for line in f if line.strip()]
    return {url: os.path.join(font_dir, urllib.parse.unquote(os.path.basename(urllib.parse.urlsplit(url).path)))
            for url in urls}


def download_clova_fonts(url_list_path, font_dir):
    """Download every .ttf of the URL list (one per line) into ``font_dir``, skipping fonts already there.

    Returns the font paths. A failed download raises DownloadError naming its URL.
    """
    targets = clova_font_paths(url_list_path, font_dir)
    os.makedirs(font_dir, exist_ok=True)
    paths = []
    for url, path in tqdm(targets.items(), desc='Clova fonts', unit='font'):
        try:
            download_file(_quote_url(url), path)
        except DownloadError as e:
            raise DownloadError(f'could not download the Clova font {url} ({e.reason}); put the fonts '
                                f'in {font_dir} yourself and rerun without --clova') from None
        paths.append(path)
    return paths


def fetch_dataset(sevenzip=True, url=None, data_path='./data', val_path='./val_data',
                  cache_dir='./downloads'):
    """Download the original's training and validation archives (Google Drive, or ``url`` a mirror serving
    data.7z/val_data.7z or .zip) into ``cache_dir`` and extract them into ``data_path``, ``val_path``."""
    extension = '7z' if sevenzip else 'zip'
    for name, dest in (('data', data_path), ('val_data', val_path)):
        archive_name = f'{name}.{extension}'
        archive = os.path.join(cache_dir, archive_name)
        if url:
            download_file(url.rstrip('/') + '/' + archive_name, archive)
        else:
            download_file(DATASET_IDS[archive_name], archive, gdrive=True)
        extract_archive(archive, dest, strip_root=True)
        print(f'{archive} -> {dest}')


# AIHub's Korean OCR data as the original fetched it (Google Drive ids): what lands where under --AIHub_path.
AIHUB_PARTS = {  # name on the server -> (Google Drive id, what it becomes under the AIHub folder)
    'handwritten_label.json': ('1rX979OhUHCKSYRbBPaMIHtFQa0eVdSXt', 'handwritten_label.json'),
    'printed_label.json': ('1ibZrGauMoM1E9Bx2fMGtiJEqQ6nh8Qy8', 'printed_label.json'),
    '1_syllable.zip': ('13GCWsztfD00mHxKGNVO_c6uxS_9J_JOY', '1_syllable'),
    '2_syllable.zip': ('1N2dTwZ8TgYRFBeNDKgjxjDHqULk_JX6X', '2_syllable'),
    'syllable.zip': ('1MNYnv4aO0kWaDigb9iEcIdpxO_pF2s-m', 'syllable'),
}


def fetch_aihub(aihub_path, url=None, log=print):
    """Download the AIHub parts missing under ``aihub_path`` (from Google Drive, or ``url`` a mirror serving
    the names of AIHUB_PARTS) and extract the image archives into their folders. Parts already there are
    kept; a download interrupted midway leaves nothing and starts again on the next run.

    Returns {part: error} for the parts that could not be fetched (empty when all are there)."""
    failed, existed = {}, os.path.isdir(aihub_path)
    for name, (file_id, target) in AIHUB_PARTS.items():
        destination = os.path.join(aihub_path, target)
        if os.path.exists(destination):
            continue
        source = url.rstrip('/') + '/' + name if url else file_id
        try:
            downloaded = download_file(source, os.path.join(aihub_path, 'downloads', name), gdrive=not url)
            if name.endswith('.zip'):
                extract_archive(downloaded, destination, strip_root=True)
            else:
                _check_json(downloaded)
                os.replace(downloaded, destination)
            log(f'AIHub: {name} -> {destination}')
        except (DownloadError, ArchiveError) as e:
            failed[name] = e
    if not existed and not any(files for _, _, files in os.walk(aihub_path)):
        shutil.rmtree(aihub_path, ignore_errors=True)  # nothing came: leave no empty folder that looks like data
    return failed


def _check_json(path):
    """A downloaded label file must parse before it takes its real name (a cut-off one is deleted)."""
    try:
        with open(path, encoding='utf-8') as f:
            json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        os.unlink(path)
        raise ArchiveError(f'{path}: the download is not valid JSON ({e}); deleted, run again') from None


def aihub_by_hand(aihub_path, failed):
    """What to download by hand, and where to put it, for the parts of ``fetch_aihub`` that failed."""
    places = [f'{name} (https://drive.google.com/uc?id={AIHUB_PARTS[name][0]}) -> '
              f'{os.path.join(aihub_path, AIHUB_PARTS[name][1])}' + ('/ (extracted)' if name.endswith('.zip') else '')
              for name in failed]
    return 'download by hand and put in place: ' + '; '.join(places)
