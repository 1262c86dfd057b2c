"""The patch dataset (utils/data/dataset.py): batches across patch groups, shuffling, complete mode, tf.data,
syllables kept out of training."""
import collections
import os

import numpy as np
import pytest
import tensorflow as tf

import model
from utils.data import hangul
from utils.data.dataset import Labeler, PatchDataset

from conftest import CHARS, OUTSIDE, ROOT, variants


def kept_examples(kinds=None):
    """How many examples of each syllable the fixture's patches hold, OUTSIDE dropped."""
    wanted = collections.Counter()
    for name, chars, copies in (('printed_0.pickle', CHARS, 2), ('printed_1.pickle', CHARS, 1),
                                ('handwritten_0.npz', CHARS[:5], 3)):
        if kinds is None or name.split('_')[0] in kinds:
            for char in chars:
                wanted[char] += copies
    return wanted


def image_labels(glyphs):
    """Bytes of every fixture image -> its syllable: checks that shuffling keeps pairs together."""
    return {image.tobytes(): char for char in CHARS for image in variants(glyphs[char])}


@pytest.mark.parametrize('batch_size,patch_size', [(8, 1), (8, 2), (7, 10), (64, 1)])
def test_split_batches_cross_patch_groups_and_keep_pairs(patch_dirs, glyphs, batch_size, patch_size):
    train_dir, _, counts = patch_dirs
    dataset = PatchDataset(train_dir, 32, Labeler(True, CHARS), batch_size, patch_size, seed=1)
    expected = kept_examples()
    total = sum(expected.values())
    assert dataset.count == total == sum(counts.values()) - 1  # OUTSIDE dropped
    batches = list(dataset.batches())
    assert len(batches) == dataset.steps == int(np.ceil(total / batch_size))
    assert [len(images) for images, _ in batches[:-1]] == [batch_size] * (len(batches) - 1)
    truth, seen = image_labels(glyphs), collections.Counter()
    for images, targets in batches:
        assert images.shape[1:] == (32, 32, 1) and images.dtype == np.uint8
        assert set(targets) == {'CHOSUNG', 'JUNGSUNG', 'JONGSUNG'}
        for image, cho, jung, jong in zip(images, targets['CHOSUNG'], targets['JUNGSUNG'], targets['JONGSUNG']):
            char = truth[image[..., 0].tobytes()]
            assert (cho, jung, jong) == hangul.split_syllable(char)
            seen[char] += 1
    assert seen == expected


def test_shuffling_changes_with_the_epoch_and_validation_is_in_order(patch_dirs):
    train_dir, val_dir, _ = patch_dirs
    dataset = PatchDataset(train_dir, 32, Labeler(False, CHARS), 45, 1, seed=0)
    first, second = (next(dataset.batches())[1]['output'] for _ in range(2))
    assert sorted(first) == sorted(second) and list(first) != list(second)
    val = PatchDataset(val_dir, 32, Labeler(False, CHARS), 4, 1, shuffle=False)
    assert np.concatenate([t['output'] for _, t in val.batches()]).tolist() == list(range(len(CHARS)))


def test_complete_mode_indices_kinds_and_dropped_labels(patch_dirs, glyphs):
    train_dir, _, _ = patch_dirs
    charset = sorted(CHARS)
    truth = image_labels(glyphs)
    for kinds in (['handwritten'], ['printed'], None):
        dataset = PatchDataset(train_dir, 32, Labeler(False, charset), 16, 1, kinds=kinds)
        expected = kept_examples(kinds)
        assert dataset.count == sum(expected.values())
        seen = collections.Counter()
        for images, targets in dataset.batches():
            assert list(targets) == ['output'] and targets['output'].dtype == np.int32
            for image, index in zip(images, targets['output']):
                assert charset[index] == truth[image[..., 0].tobytes()]
                seen[charset[index]] += 1
        assert seen == expected
    # A model that names all of KS X 1001 keeps the syllable the tiny charset drops.
    assert OUTSIDE not in CHARS
    assert PatchDataset(train_dir, 32, Labeler(True, hangul.load_charset('ksx1001')), 16).count == 46


def test_as_tf_knows_its_length_and_types(patch_dirs):
    train_dir, _, _ = patch_dirs
    dataset = PatchDataset(train_dir, 32, Labeler(True, CHARS), 16, 2)
    tf_data = dataset.as_tf()
    assert int(tf_data.cardinality()) == dataset.steps == 3
    images, targets = next(iter(tf_data))
    assert images.dtype == tf.float32 and images.shape == (16, 32, 32, 1)
    assert float(tf.reduce_max(images)) == 255.0
    assert {name: t.dtype for name, t in targets.items()} == {n: tf.int32 for n in ('CHOSUNG', 'JUNGSUNG', 'JONGSUNG')}


def test_unknown_kind_and_empty_folder(patch_dirs, tmp_path):
    train_dir, _, _ = patch_dirs
    with pytest.raises(ValueError, match="unknown data kinds.*'typed'"):
        PatchDataset(train_dir, 32, Labeler(True, CHARS), kinds=['typed'])
    with pytest.raises(ValueError, match=f'{tmp_path}: no patches'):
        PatchDataset(str(tmp_path), 32, Labeler(True, CHARS))


def test_excluded_syllables_never_reach_training_but_stay_in_validation(patch_dirs, tmp_path, clear_keras):
    from conftest import CHARS
    from utils.config import TrainConfig
    from utils.data.hangul import COMPONENTS, compose_syllable
    from utils.training.loop import datasets
    train_dir, val_dir, _ = patch_dirs
    excluded = tmp_path / 'unseen.txt'
    excluded.write_text(f'{CHARS[1]}\n{CHARS[4]}\n', encoding='utf-8')
    ocr = model.KoOCR(weights=None, network='compact', image_size=32, width=0.25)
    config = TrainConfig(data_path=train_dir, val_path=val_dir, batch_size=4, exclude_syllables=str(excluded))
    train_data, val = datasets(ocr, config, seed=0)

    def syllables(dataset):
        found = []
        for _, targets in dataset.batches():
            found += [compose_syllable(*map(int, jamo)) for jamo in zip(*(targets[name] for name in COMPONENTS))]
        return found

    seen = syllables(train_data)
    assert seen and not {CHARS[1], CHARS[4]} & set(seen) and len(seen) == train_data.count
    assert {CHARS[1], CHARS[4]} <= set(syllables(val))
    unseen_list = open(os.path.join(ROOT, 'files', 'unseen_ksx1001.txt'), encoding='utf-8').read().split()
    assert len(unseen_list) == 235 == len(set(unseen_list))  # 10% of KS X 1001, fixed


def test_labeler_drops_excluded_syllables_and_a_missing_list_is_named():
    from utils.config import TrainConfig
    labeler = Labeler(True, CHARS, exclude=CHARS[:2])
    assert list(labeler.keep(list(CHARS[:3]) + [OUTSIDE])) == [False, False, True, False]
    with pytest.raises(ValueError, match="exclude_syllables='nowhere.txt': no such file"):
        TrainConfig(exclude_syllables='nowhere.txt')
