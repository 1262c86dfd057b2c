"""utils/patches.py: the restricted unpickler, the schema checks, npz, atomic writes."""
import os
import pickle

import numpy as np
import pytest

from utils.data.patches import PatchError, list_patches, patch_kind, read_patch, write_patch


def images(n=3, size=8):
    return np.random.default_rng(0).integers(0, 256, (n, size, size), dtype=np.uint8)


def dump(path, content, protocol=4):
    with open(path, 'wb') as f:
        pickle.dump(content, f, protocol=protocol)
    return str(path)


class Exploit:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = dump(tmp_path / 'printed_0.pickle', {'image': images(), 'label': Exploit(f'touch {marker}')})
    with pytest.raises(PatchError, match=r'printed_0\.pickle.*system'):
        read_patch(path)
    assert not marker.exists()


@pytest.mark.parametrize('protocol', range(6))
def test_seed_style_pickles_load(tmp_path, protocol):
    labels = np.array(['가', '나', '다'])
    path = dump(tmp_path / 'handwritten_7.pickle', {'image': images(), 'label': labels}, protocol)
    patch = read_patch(path, image_size=8)
    np.testing.assert_array_equal(patch.images, images())
    assert patch.labels.tolist() == ['가', '나', '다'] and patch.fonts is None
    as_objects = dump(tmp_path / 'clova_0.pickle', {'image': images(), 'label': labels.astype(object)}, protocol)
    assert read_patch(as_objects).labels.tolist() == ['가', '나', '다']


@pytest.mark.parametrize('content, message', [
    ({'image': images().astype(np.float32), 'label': np.array(['가', '나', '다'])}, 'uint8'),
    ({'image': images(size=9), 'label': np.array(['가', '나', '다'])}, r'9x9, expected 8x8'),
    ({'image': images(), 'label': np.array(['가', 'A', '다'])}, r"label 1: 'A' \(U\+0041\)"),
    ({'image': images(), 'label': np.array(['가', '나'])}, '3 images but labels of shape'),
    ({'image': images(), 'label': np.array(['가', '나', '다']), 'font': np.array([0.5, 1, 2])}, 'font ids'),
    ({'images': images()}, "'image' and 'label'"),
    ([1, 2], "'image' and 'label'"),
])
def test_schema_errors_name_the_file(tmp_path, content, message):
    path = dump(tmp_path / 'printed_3.pickle', content)
    with pytest.raises(PatchError, match=message) as info:
        read_patch(path, image_size=8)
    assert str(info.value).startswith(path)


def test_truncated_pickle_names_the_file(tmp_path):
    path = dump(tmp_path / 'printed_0.pickle', {'image': images(), 'label': np.array(['가', '나', '다'])})
    with open(path, 'r+b') as f:
        f.truncate(100)
    with pytest.raises(PatchError, match=r'printed_0\.pickle: not a readable patch'):
        read_patch(path)


def test_truncated_npz_names_the_file(tmp_path):
    path = str(tmp_path / 'printed_0.npz')
    write_patch(path, images(), np.array(['가', '나', '다']))
    with open(path, 'r+b') as f:
        f.truncate(100)
    with pytest.raises(PatchError, match=r'printed_0\.npz: not a readable patch \(BadZipFile'):
        read_patch(path)


def test_utf8_byte_labels_are_read_and_other_bytes_named(tmp_path):
    labels = np.array(['가'.encode(), b'\xea\xb0\x81'])  # '가', '각' in UTF-8
    path = dump(tmp_path / 'printed_0.pickle', {'image': images(2), 'label': labels})
    assert list(read_patch(path).labels) == ['가', '각']
    path = dump(tmp_path / 'printed_1.pickle', {'image': images(1), 'label': np.array([b'\xff'])})
    with pytest.raises(PatchError, match=r'printed_1\.pickle: labels are not text'):
        read_patch(path)


@pytest.mark.parametrize('name', ['printed_0.npz', 'printed_0.pickle'])
def test_round_trip(tmp_path, name):
    path = str(tmp_path / 'sub' / name)
    write_patch(path, images(), ['가', '나', '힣'], fonts=[0, 2, 1])
    patch = read_patch(path, image_size=8)
    np.testing.assert_array_equal(patch.images, images())
    assert patch.labels.tolist() == ['가', '나', '힣'] and patch.fonts.tolist() == [0, 2, 1]
    assert oct(os.stat(path).st_mode & 0o777) == '0o644'


def test_write_patch_refuses_what_it_would_corrupt(tmp_path):
    path = str(tmp_path / 'printed_0.pickle')
    with pytest.raises(PatchError, match="'가나'"):
        write_patch(path, images(2), ['가나', '다'])  # '<U1' would have kept '가' silently
    with pytest.raises(PatchError, match='uint8'):
        write_patch(path, images(2).astype(np.float32) / 255, ['가', '다'])
    assert os.listdir(tmp_path) == []


def test_list_patches(tmp_path):
    for name in ['printed_0.pickle', 'clova_10.npz', 'handwritten_2.pickle', 'manifest.tsv', 'printed.pickle',
                 '.tmp_x_printed_1.pickle', 'other_1.pickle']:
        (tmp_path / name).write_bytes(b'')
    names = [os.path.basename(p) for p in list_patches(str(tmp_path))]
    assert names == ['clova_10.npz', 'handwritten_2.pickle', 'printed_0.pickle']
    assert [os.path.basename(p) for p in list_patches(str(tmp_path), ['printed'])] == ['printed_0.pickle']
    assert patch_kind('data/clova_3.pickle') == 'clova' and patch_kind('data/x.pickle') is None
    with pytest.raises(ValueError, match='typed'):
        list_patches(str(tmp_path), ['typed'])
