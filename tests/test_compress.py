"""Compression: the low-rank pair of a convolution, its fewer parameters, pruning that stays pruned through
fine-tuning, and compress.py end to end (a model KoOCR loads, its LiteRT twins, the report)."""
import json
import os

import keras
import numpy as np
import pytest

import compress
import model
from network.low_rank import expand, expandable, low_rank_pair, rank_for, split_kernel
from utils.data.dataset import Labeler, PatchDataset
from utils.evaluation.compression import conv_macs
from utils.training import compression

TINY = dict(network='compact', image_size=32, width=0.25)


def test_the_full_rank_pair_is_the_convolution_and_a_lower_rank_has_fewer_parameters():
    rng = np.random.default_rng(0)
    conv = keras.layers.Conv2D(6, 3, padding='same', use_bias=True)
    conv.build((None, 8, 8, 4))
    conv.set_weights([rng.normal(size=(3, 3, 4, 6)).astype('float32'), rng.normal(size=6).astype('float32')])
    images = rng.normal(size=(2, 8, 8, 4)).astype('float32')
    full = low_rank_pair(conv, 12)  # min(3·4, 3·6): exact
    np.testing.assert_allclose(full(images), conv(images), atol=1e-4)
    low = low_rank_pair(conv, 3)
    assert low.count_params() == 3 * 4 * 3 + 3 * 3 * 6 + 6 < conv.count_params()
    error = np.abs(np.asarray(low(images)) - np.asarray(conv(images))).mean()
    assert 0 < error < np.abs(np.asarray(conv(images))).mean()
    vertical, horizontal = split_kernel(np.asarray(conv.kernel), 3)
    assert vertical.shape == (3, 1, 4, 3) and horizontal.shape == (1, 3, 3, 6)


def test_rank_keeps_the_energy_asked_and_stays_cheaper():
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(3, 3, 16, 16)).astype('float32')
    singular = np.linalg.svd(kernel.transpose(0, 2, 1, 3).reshape(48, 48), compute_uv=False)
    kept = np.cumsum(singular ** 2) / np.sum(singular ** 2)
    for energy in (0.3, 0.5):  # below the cost cap: the smallest rank that keeps the energy
        rank = rank_for(kernel, energy)
        assert kept[rank - 1] >= energy > kept[rank - 2]
    assert rank_for(kernel, 0.3) < rank_for(kernel, 0.5) < rank_for(kernel, 1.0)
    assert 3 * rank_for(kernel, 1.0) * (16 + 16) < 9 * 16 * 16  # capped: the pair stays cheaper


def test_expand_replaces_the_convolutions_and_keeps_every_other_weight(clear_keras):
    ocr = model.KoOCR(weights=None, **TINY)
    names = [layer.name for layer in ocr.model.layers if expandable(layer)]
    assert names and 'stem_conv' not in names  # a stride-2, one-channel stem is left alone
    expanded = expand(ocr.model, {name: 2 for name in names})
    assert expanded.count_params() < ocr.model.count_params() and conv_macs(expanded) < conv_macs(ocr.model)
    assert all(isinstance(expanded.get_layer(name), keras.Sequential) for name in names)
    np.testing.assert_array_equal(expanded.get_layer('fc').get_weights()[0], ocr.model.get_layer('fc').get_weights()[0])


def test_pruned_weights_stay_zero_through_distillation(patch_dirs, clear_keras):
    train_dir, _, _ = patch_dirs
    teacher = model.KoOCR(weights=None, **TINY)
    student = expand(teacher.model, {'stage1_block0_conv': 4})
    labeler = Labeler(teacher.config.split_components, teacher.charset, teacher.model.output_names)
    batches = PatchDataset(train_dir, 32, labeler, 8).as_tf()
    masks = compression.prune_masks(student, 0.5)
    compression.apply_masks(masks)
    before = [np.asarray(variable).copy() for variable, _ in masks]
    loss = compression.distill(student, teacher.model, batches, 4, masks=masks)
    assert np.isfinite(loss)
    after = [np.asarray(variable) for variable, _ in masks]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))  # it trained
    for (_, mask), weights in zip(masks, after):
        assert np.all(weights[mask == 0] == 0)
    assert compression.sparsity(student) >= 0.5


@pytest.mark.slow
def test_compress_py_writes_a_model_koocr_loads_and_a_report(patch_dirs, tmp_path, clear_keras):
    train_dir, val_dir, _ = patch_dirs
    original = model.KoOCR(weights=None, **TINY)
    original.save(str(tmp_path / 'original' / 'model.keras'))
    out = tmp_path / 'compressed'
    compress.main(['--weights', str(tmp_path / 'original'), '--data_path', train_dir, '--val_path', val_dir,
                   '--output', str(out), '--layer_steps', '2', '--round_steps', '2', '--prune_rounds', '2',
                   '--batch_size', '8', '--energy', '0.5'])
    assert {'model.keras', 'model.tflite', 'model_int8.tflite', 'compression.json'} <= set(os.listdir(out))
    report = json.loads((out / 'compression.json').read_text(encoding='utf-8'))
    before, after = report['original'], report['compressed']
    assert after['parameters'] < before['parameters'] and after['macs'] < before['macs']
    assert after['nonzero_parameters'] < after['parameters'] and report['sparsity'] >= 0.5
    loaded = model.KoOCR(weights=str(out / 'model.keras'), runtime='keras')
    assert loaded.config == original.config
    assert any(isinstance(layer, keras.Sequential) for layer in loaded.model.layers)
    assert 0 <= after['printed_top1'] <= 1 and 0 <= after['int8_printed_top1'] <= 1
