"""crawl_data.py end to end (as a subprocess, on a few small Debian fonts) and utils/crawl.py's pieces."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

import crawl_data
from utils.data import crawl, patches
from utils.data.aihub import in_validation, write_aihub_patches
from utils.data.patches import list_patches, patch_kind, read_patch, write_patch
from utils.data.render import render_glyph

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'crawl_data.py')
DEBIAN_FONTS = ['nanum/NanumGothic.ttf', 'nanum/NanumGothicBold.ttf', 'nanum/NanumMyeongjo.ttf',
                'nanum/NanumPen.ttf', 'nanum/NanumBrush.ttf', 'unfonts-core/UnDotum.ttf', 'baekmuk/gulim.ttf']
CHARSET = '가나다라마바사아자차카타파하각간갈감강개'
FAST = ['--image_size=32', '--val_ratio=0.3', '--pickle_size=50', '--charset=charset.txt']


@pytest.fixture
def work(tmp_path):
    """A folder with ./fonts (copies of small Debian fonts of different families) and ./charset.txt."""
    fonts = tmp_path / 'fonts'
    fonts.mkdir()
    for name in DEBIAN_FONTS:
        path = os.path.join('/usr/share/fonts/truetype', name)
        if os.path.exists(path):
            shutil.copy(path, fonts)
    if len(os.listdir(fonts)) < 5 or not {'NanumPen.ttf', 'NanumBrush.ttf'} <= set(os.listdir(fonts)):
        pytest.skip('needs the Debian font packages fonts-nanum, fonts-unfonts-core, fonts-baekmuk')
    (tmp_path / 'charset.txt').write_text(CHARSET, encoding='utf-8')
    return tmp_path


def run(cwd, *flags, timeout=600, env=None):
    return subprocess.run([sys.executable, SCRIPT, '--font_path=fonts', *flags], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def patch_files(folder):
    return {os.path.basename(p): open(p, 'rb').read() for p in list_patches(str(folder))}


def check_crawl(work, image_size=32, pickle_size=50):
    """Check the patches and manifests of a crawl; returns the manifest rows."""
    rows = patches.read_manifest(work / 'data' / 'manifest.tsv')
    assert (work / 'val_data' / 'manifest.tsv').read_text() == (work / 'data' / 'manifest.tsv').read_text()
    sides = {}
    for row in rows:
        sides.setdefault(row['family_key'], set()).add(row['split'])
    assert all(len(s) == 1 for s in sides.values()), sides  # no family on both sides
    assert {row['kind'] for row in rows if row['split'] == 'val'} == {'printed', 'clova'}
    by_id = {row['font_id']: row for row in rows}
    seen = {row['font_id']: [] for row in rows}
    for folder, split in (('data', 'train'), ('val_data', 'val')):
        paths = list_patches(str(work / folder))
        assert paths
        for path in paths:
            patch = read_patch(path, image_size)
            assert 0 < len(patch.labels) <= pickle_size
            if patch.fonts is None:  # AIHub's
                continue
            for font_id, label in zip(patch.fonts, patch.labels):
                assert by_id[font_id]['split'] == split and by_id[font_id]['kind'] == patch_kind(path)
                seen[font_id].append(label)
    for font_id, labels in seen.items():  # every glyph once, counts add up
        assert len(labels) == by_id[font_id]['glyphs'] == len(CHARSET) and set(labels) == set(CHARSET)
    return rows


def test_crawl_end_to_end_and_rerun(work):
    result = run(work, *FAST)
    assert result.returncode == 0, result.stderr
    rows = check_crawl(work)
    assert {row['family_key'] for row in rows if 'NanumGothic' in row['file']} == {'nanumgothic'}
    assert re.search(r'^kind clova: 2 families, 1 held out$', result.stdout, re.M)
    assert {(row['kind_families'], row['kind_held_out']) for row in rows if row['kind'] == 'clova'} == {(2, 1)}
    first = {folder: patch_files(work / folder) for folder in ('data', 'val_data')}

    (work / 'data' / 'clova_9.pickle').write_bytes(b'stale')  # left by an earlier, larger crawl
    (work / 'data' / '.tmp_abc_printed_0.pickle').write_bytes(b'killed mid-write')
    (work / 'data' / 'handwritten_0.pickle').write_bytes(b'not a kind this crawl writes')
    result = run(work, *FAST)
    assert result.returncode == 0, result.stderr
    assert 'removed 1' in result.stdout
    second = {folder: patch_files(work / folder) for folder in ('data', 'val_data')}
    assert second['data'].pop('handwritten_0.pickle') == b'not a kind this crawl writes'
    assert second == first  # the same patches, byte for byte
    assert not list((work / 'data').glob('.tmp_*'))
    (work / 'data' / 'handwritten_0.pickle').unlink()

    result = run(work, *FAST, '--pickle_size=1000')  # fewer, larger patches: the old ones must go
    assert result.returncode == 0, result.stderr
    assert sorted(patch_files(work / 'val_data')) == ['clova_0.pickle', 'printed_0.pickle']
    check_crawl(work, pickle_size=1000)


def test_image_test_writes_a_png_and_no_patches(work):
    result = run(work, '--image_test=true', '--image_size=32')
    assert result.returncode == 0, result.stderr
    with Image.open(work / 'image_test.png') as sheet:
        sheet.verify()
    with Image.open(work / 'image_test.png') as sheet:
        assert sheet.format == 'PNG' and sheet.height == len(os.listdir(work / 'fonts')) * 36
    assert not (work / 'data').exists() and not (work / 'val_data').exists()


def test_seed_placement_flags(work):
    result = run(work, '--x_offset=8', '--y_offset=8', '--char_size=80', '--image_size=96', '--val_ratio=0.3',
                 '--pickle_size=50', '--charset=charset.txt')
    assert result.returncode == 0, result.stderr
    rows = {row['font_id']: row for row in check_crawl(work, image_size=96)}
    patch = read_patch(list_patches(str(work / 'data'))[0], 96)
    for image, label, font_id in list(zip(patch.images, patch.labels, patch.fonts))[:5]:
        expected = render_glyph(rows[font_id]['file'], label, 96, placement='legacy', x_offset=8, y_offset=8,
                                char_size=80)
        np.testing.assert_array_equal(image, expected)


def test_clova_offline_fails_fast_and_clearly(work, closed_port):
    env = {key: value for key, value in os.environ.items() if 'proxy' not in key.lower()}
    env['https_proxy'] = env['http_proxy'] = f'http://127.0.0.1:{closed_port}'  # no network, even in CI
    started = time.time()
    result = run(work, '--clova=true', '--font_path=clova', *FAST, env=env, timeout=60)
    assert time.time() - started < 30
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('crawl_data.py: could not download the Clova font https://')
    assert 'rerun without --clova' in last
    assert not (work / 'data').exists()


def test_missing_aihub_path_is_one_clear_line(work, closed_port):
    offline = f'http://127.0.0.1:{closed_port}'
    result = run(work, '--AIHub=true', '--AIHub_path=nowhere', f'--AIHub_url={offline}', *FAST, timeout=60)
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == 'crawl_data.py: AIHub folder nowhere not found'
    assert lines[0].startswith('crawl_data.py: could not download AIHub parts (handwritten_label.json: ')
    assert 'download by hand and put in place: handwritten_label.json (https://drive.google.com/uc?id=' in lines[0]
    assert 'syllable.zip (https://drive.google.com/uc?id=1MNYnv4aO0kWaDigb9iEcIdpxO_pF2s-m) -> nowhere/syllable/' \
        in lines[0]
    assert not (work / 'data').exists() and not (work / 'nowhere').exists()


def _aihub_site(folder, tree):
    """A mirror of the AIHub files made from a converted-layout tree: the label files and zipped image folders."""
    import zipfile
    folder.mkdir()
    for name in ('handwritten_label.json', 'printed_label.json'):
        shutil.copy(tree / name, folder / name)
    for part in ('1_syllable', '2_syllable', 'syllable'):
        with zipfile.ZipFile(folder / f'{part}.zip', 'w') as archive:
            for image in sorted((tree / part).iterdir()):
                archive.write(image, f'{part}/{image.name}')


def test_aihub_is_downloaded_when_missing_then_converted(work):
    from local_server import serve
    site = work / 'site'
    _aihub_site(site, fake_aihub(work / 'source', handwritten=6, printed=4))
    with serve(site) as url:
        result = run(work, '--AIHub=true', '--AIHub_path=AIhub', f'--AIHub_url={url}', *FAST, timeout=300)
        assert result.returncode == 0, result.stderr
        assert sorted(os.listdir(work / 'AIhub' / 'syllable')) == [f'{i:08d}.png' for i in range(100000, 100004)]
        assert 'AIHub handwritten: 1 not_syllable_type, 6 used' in result.stdout
        assert 'AIHub printed: 1 not_syllable_type, 4 used' in result.stdout
        (site / 'printed_label.json').unlink()  # a second run downloads nothing: all parts are there
        again = run(work, '--AIHub=true', '--AIHub_path=AIhub', f'--AIHub_url={url}', *FAST, timeout=300)
    assert again.returncode == 0 and not re.search(r'^AIHub: \S+ -> ', again.stdout, re.M)
    assert re.search(r'^AIHub: syllable.zip -> AIhub/syllable$', result.stdout, re.M)
    assert sorted(os.listdir(work / 'AIhub' / 'downloads')) == ['1_syllable.zip', '2_syllable.zip', 'syllable.zip']


def test_a_cut_off_label_download_is_not_kept_under_its_name(tmp_path):
    from local_server import serve
    from utils.data.download import fetch_aihub
    site = tmp_path / 'site'
    _aihub_site(site, fake_aihub(tmp_path / 'source', handwritten=2, printed=2))
    (site / 'printed_label.json').write_text('{"annotations": [', encoding='utf-8')
    with serve(site) as url:
        failed = fetch_aihub(str(tmp_path / 'AIhub'), url, log=lambda _: None)
    assert list(failed) == ['printed_label.json'] and 'not valid JSON' in str(failed['printed_label.json'])
    assert not (tmp_path / 'AIhub' / 'printed_label.json').exists()
    assert not (tmp_path / 'AIhub' / 'downloads' / 'printed_label.json').exists()
    assert (tmp_path / 'AIhub' / 'handwritten_label.json').is_file() and (tmp_path / 'AIhub' / 'syllable').is_dir()


@pytest.mark.parametrize('flag, message', [('--val_ratio=1.5', r'--val_ratio=1\.5: expected a share'),
                                           ('--pickle_size=0', '--pickle_size=0: expected at least 1'),
                                           ('--clova=maybe', "expected true or false.*'maybe'"),
                                           ('--image_size=0', '--image_size=0: expected at least 8'),
                                           ('--image_size=-5', '--image_size=-5: expected at least 8'),
                                           ('--x_offset=64', '--x_offset=64: expected 0 to 63 for --image_size=64'),
                                           ('--y_offset=-1', '--y_offset=-1: expected 0 to 63'),
                                           ('--char_size=0', '--char_size=0: expected 1 to 64'),
                                           ('--char_size=65', '--char_size=65: expected 1 to 64')])
def test_bad_flags(flag, message, capsys):
    with pytest.raises(SystemExit) as info:
        crawl_data.parse_args(['--image_size=64', flag])
    assert info.value.code == 2
    assert re.search(message, capsys.readouterr().err.strip().splitlines()[-1])


def test_seed_flags_pick_the_placement():
    assert crawl_data.placement_options(crawl_data.parse_args([])) == {'placement': 'center'}
    legacy = crawl_data.placement_options(crawl_data.parse_args(['--x_offset=8', '--y_offset=8', '--char_size=80']))
    assert legacy == {'placement': 'legacy', 'x_offset': 8, 'y_offset': 8, 'char_size': 80}
    # 'seed', the old name of the legacy placement, is still accepted
    old_name = crawl_data.placement_options(crawl_data.parse_args(['--placement=seed']))
    assert old_name == {'placement': 'legacy', 'x_offset': None, 'y_offset': None, 'char_size': None}
    args = crawl_data.parse_args(['--clova=true', '--AIHub=False', '--image_test=1'])
    assert (args.clova, args.AIHub, args.image_test) == (True, False, True)


def fake_aihub(root, handwritten=120, printed=40):
    """An AIHub tree of the real layout; image i is labelled with the i-th syllable, so labels name images."""
    def png(path, i):
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.new('L', (40, 30), 255)
        ImageDraw.Draw(image).rectangle((5, 5, 10 + i % 25, 25), fill=0)
        image.save(path)

    def labels(name, ids, folders, start):
        notes = []
        for n, image_id in enumerate(ids):
            png(root / folders[n % len(folders)] / f'{image_id}.png', n)
            notes.append({'id': f'a{image_id}', 'image_id': image_id, 'text': chr(0xAC00 + start + n),
                          'attributes': {'type': '글자(음절)'}})
        notes.append({'id': 'w', 'image_id': 'w', 'text': '가나', 'attributes': {'type': '단어(어절)'}})
        (root / name).write_text(json.dumps({'images': [], 'annotations': notes}, ensure_ascii=False),
                                 encoding='utf-8')
    labels('handwritten_label.json', [f'{i:08d}' for i in range(handwritten)], ['1_syllable', '2_syllable'], 0)
    labels('printed_label.json', [f'{i:08d}' for i in range(100000, 100000 + printed)], ['syllable'], 5000)
    return root


def test_write_aihub_patches(tmp_path):
    tree = fake_aihub(tmp_path / 'AIhub')
    data, val = tmp_path / 'data', tmp_path / 'val_data'
    paths = write_aihub_patches(str(tree), 32, str(data), str(val), 0.3, 50, seed=1, log=lambda _: None)
    assert sorted(os.path.basename(p) for p in paths if p.startswith(str(data))) == [
        'handwritten_0.pickle', 'handwritten_1.pickle', 'printed_0.pickle']
    found = {}
    for path in paths:
        patch = read_patch(path, 32)
        assert patch.fonts is None and len(patch.labels) <= 50
        for label in patch.labels:
            found[label] = ('val' if path.startswith(str(val)) else 'train', patch_kind(path))
    assert len(found) == 160  # every image once
    for label, (side, kind) in found.items():
        n = ord(label) - 0xAC00
        image_id = f'{n:08d}' if n < 5000 else f'{100000 + n - 5000:08d}'
        assert kind == ('handwritten' if n < 5000 else 'printed')
        assert side == ('val' if in_validation(image_id, 0.3, seed=1) else 'train')
    assert 30 <= sum(side == 'val' for side, _ in found.values()) <= 70  # about 0.3 of 160
    first = {p: open(p, 'rb').read() for p in paths}
    again = write_aihub_patches(str(tree), 32, str(data), str(val), 0.3, 50, seed=1, log=lambda _: None)
    assert {p: open(p, 'rb').read() for p in again} == first  # deterministic


def test_crawl_with_aihub(work):
    tree = fake_aihub(work / 'AIhub', handwritten=30, printed=30)
    before = sorted(tree.rglob('*'))
    result = run(work, '--AIHub=true', *FAST)
    assert result.returncode == 0, result.stderr
    assert sorted(tree.rglob('*')) == before  # the user's data is only read
    rows = check_crawl(work)
    counts = {}
    for folder in ('data', 'val_data'):
        for path in list_patches(str(work / folder)):
            patch = read_patch(path, 32)
            kind = patch_kind(path)
            if kind == 'printed':
                kind += '_fonts' if patch.fonts is not None else '_aihub'
            counts[kind] = counts.get(kind, 0) + len(patch.labels)
    glyphs = {kind: sum(row['glyphs'] for row in rows if row['kind'] == kind) for kind in ('printed', 'clova')}
    assert counts == {'handwritten': 30, 'printed_aihub': 30, 'printed_fonts': glyphs['printed'],
                      'clova': glyphs['clova']}


def test_patch_spool_numbers_past_taken_and_keeps_rows_together(tmp_path):
    rng = np.random.default_rng(0)
    with patches.PatchSpool(str(tmp_path), 4) as spool:
        for ids in (np.arange(0, 7), np.arange(7, 9), np.arange(9, 20)):  # image i is all i
            spool.add(np.broadcast_to(ids[:, None, None], (len(ids), 4, 4)), [chr(0xAC00 + i) for i in ids],
                      ids % 5)
        taken = [str(tmp_path / 'printed_0.pickle'), str(tmp_path / 'printed_2.pickle')]
        paths = spool.write('printed', 8, rng, taken)
    names = ['printed_1.pickle', 'printed_3.pickle', 'printed_4.pickle']
    assert [os.path.basename(p) for p in paths] == names
    assert sorted(os.listdir(tmp_path)) == names  # the spool leaves no file behind
    order = []
    for path in paths:
        patch = read_patch(path, 4)
        ids = patch.images[:, 0, 0].astype(int)
        assert [chr(0xAC00 + i) for i in ids] == patch.labels.tolist() and (ids % 5 == patch.fonts).all()
        order += ids.tolist()
    assert sorted(order) == list(range(20)) and order != list(range(20))


def test_choose_font_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(crawl_data.fonts, 'system_font_files', lambda: ['/usr/share/fonts/a.ttf'])
    clova = tmp_path / '나눔손글씨 가람연꽃.ttf'
    clova.write_bytes(b'')
    clova_paths = crawl_data.clova_font_paths(crawl_data.CLOVA_URLS, str(tmp_path)).values()
    assert str(clova) in clova_paths
    # Only Clova downloads: the installed fonts are added, so handwriting does not replace print.
    assert crawl_data.choose_font_files(str(tmp_path), clova_paths) == sorted(['/usr/share/fonts/a.ttf', str(clova)])
    assert 'installed on this machine' in capsys.readouterr().out
    own = tmp_path / 'Mine.otf'
    own.write_bytes(b'')
    assert crawl_data.choose_font_files(str(tmp_path), clova_paths) == sorted([str(clova), str(own)])
    assert crawl_data.choose_font_files(str(tmp_path / 'absent'), clova_paths) == ['/usr/share/fonts/a.ttf']


def test_remove_stale_patches(tmp_path):
    write_patch(str(tmp_path / 'printed_10.pickle'), np.zeros((1, 4, 4), np.uint8), ['가'])
    write_patch(str(tmp_path / 'printed_9.pickle'), np.zeros((1, 4, 4), np.uint8), ['가'])
    removed = crawl.remove_stale_patches([str(tmp_path)], ['printed'], [str(tmp_path / 'printed_9.pickle')],
                                         log=lambda _: None)
    assert removed == 1 and os.listdir(tmp_path) == ['printed_9.pickle']


def test_a_kind_of_one_family_says_it_holds_none_out():
    rows = [dict(kind='clova', family_key='nanumpen', split='train'),
            dict(kind='printed', family_key='nanumgothic', split='train'),
            dict(kind='printed', family_key='nanumgothic', split='train'),
            dict(kind='printed', family_key='undotum', split='val')]
    lines = patches.count_held_out(rows, 0.5)
    assert lines[0].startswith('kind clova: 1 family, none held out (a kind needs two families')
    assert lines[1] == 'kind printed: 2 families, 1 held out'
    assert [(r['kind_families'], r['kind_held_out']) for r in rows] == [(1, 0), (2, 1), (2, 1), (2, 1)]
    assert patches.count_held_out(rows[:1], 0)[0] == 'kind clova: 1 family, none held out'  # asked for none


def test_manifests_without_the_count_columns_still_read(tmp_path):
    path = tmp_path / 'manifest.tsv'
    old = patches.MANIFEST_COLUMNS[:-2]
    path.write_text('\t'.join(old) + '\n' + '\t'.join(['0', 'a.ttf', '0', 'A', 'Regular', 'a', 'printed', 'val',
                                                        '10', '0']) + '\n', encoding='utf-8')
    assert patches.read_manifest(str(path))[0]['glyphs'] == 10
