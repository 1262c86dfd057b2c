"""network/: every backbone × fc_link × mode builds, trains, saves and reloads; the custom layers."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import model
import network
from network import applications
from network.augment import GlyphAugmentation
from network.config_layer import ModelInfo
from network.layers import (POOLINGS, DirectMap, GlobalWeightedAveragePooling2D,
                            GlobalWeightedOutputAveragePooling2D, InkScale, pooling_layer)
from utils.data.dataset import Labeler
from utils.training.adabound import AdaBound

from conftest import CHARS

MODES = ('split', 'complete')
CHEAP = [name for name in network.BACKBONES if name not in applications.APPLICATIONS]
# keras.applications nets are big (up to 55M parameters): one fc_link and mode each; the cheap
# backbones cover every fc_link × mode.
APPLICATION_CASES = {'VGG16': ('', 'complete'), 'mobilenet': ('GAP', 'split'),
                     'efficient-net': ('GWOAP', 'complete'), 'inception-resnet': ('GWAP', 'split')}
CASES = ([(name, fc_link, mode) for name in CHEAP for fc_link in POOLINGS for mode in MODES]
         + [(name, *APPLICATION_CASES.get(name, ('GAP', 'split'))) for name in applications.APPLICATIONS])


def image_size_for(name):
    return max(32, applications.APPLICATIONS[name][1]) if name in applications.APPLICATIONS else 32


def find_layers(layer, kind):
    """Every layer of type ``kind`` in a model, nested models included."""
    found = [layer] if isinstance(layer, kind) else []
    for inner in getattr(layer, 'layers', []):
        found += find_layers(inner, kind)
    return found


def test_every_network_fc_link_and_mode_is_tested():
    assert {name for name, _, _ in CASES} == set(network.BACKBONES)
    assert {fc_link for _, fc_link, _ in CASES} == set(POOLINGS)
    assert {mode for _, _, mode in CASES} == set(MODES)


@pytest.mark.parametrize('name,fc_link,mode', CASES)
def test_network_trains_saves_and_reloads(name, fc_link, mode, tmp_path, charset_file, clear_keras):
    size, split = image_size_for(name), mode == 'split'
    ocr = model.KoOCR(weights=None, network=name, image_size=size, fc_link=fc_link, split_components=split,
                      charset=charset_file, width=1.0 if name in applications.APPLICATIONS else 0.25,
                      direct_map=not split, data_augmentation=split)
    net = ocr.model
    expected = {'CHOSUNG': 19, 'JUNGSUNG': 21, 'JONGSUNG': 28} if split else {'output': len(CHARS)}
    assert dict(zip(net.output_names, (o.shape[-1] for o in net.outputs))) == expected
    assert type(net.get_layer('pool')) is type(pooling_layer(fc_link))

    rng = np.random.default_rng(0)
    labels = list(CHARS[:4])
    x = rng.integers(0, 256, (len(labels), size, size, 1)).astype('float32')
    y = Labeler(split, ocr.charset).targets(np.array(labels))
    # One eager step: tracing a train function per network would cost more than the whole test.
    net.compile(optimizer='sgd', loss={n: 'sparse_categorical_crossentropy' for n in net.output_names},
                run_eagerly=True, jit_compile=False)
    head = net.get_layer(net.output_names[0])
    before = head.kernel.numpy().copy()
    loss = net.train_on_batch(x, y)
    assert np.all(np.isfinite(loss))
    assert not np.allclose(before, head.kernel.numpy())

    outputs = net(x, training=False)
    for out in outputs.values():
        np.testing.assert_allclose(np.sum(out, axis=-1), 1.0, rtol=1e-5)
    path = str(tmp_path / 'model.keras')
    net.save(path)
    loaded = keras.models.load_model(path)
    reloaded = loaded(x, training=False)
    for key in expected:
        np.testing.assert_allclose(reloaded[key], outputs[key], rtol=1e-4, atol=1e-6)
    # The backbone sees ink = 1 images: no application layer rescales them again, saved or not.
    assert all(layer.scale == 1.0 for layer in find_layers(loaded, keras.layers.Rescaling))
    info, = [layer for layer in loaded.layers if isinstance(layer, ModelInfo)]
    assert info.charset == ''.join(sorted(CHARS))
    assert info.config['network'] == name and info.config['fc_link'] == fc_link


def test_h5_round_trip_keeps_custom_layers_and_adabound(tmp_path, charset_file, clear_keras):
    ocr = model.KoOCR(weights=None, network='compact', image_size=32, fc_link='GWOAP', width=0.25,
                      direct_map=True, data_augmentation=True, charset=charset_file)
    ocr.compile('adabound', 0.01)
    ocr.model.run_eagerly = True  # one step: tracing would cost more than the step
    x = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 1)).astype('float32')
    ocr.model.train_on_batch(x, Labeler(True, ocr.charset).targets(np.array(list(CHARS[:4]))))
    path = str(tmp_path / 'weights.h5')
    ocr.model.save(path)
    loaded = keras.models.load_model(path)
    reloaded = loaded(x, training=False)
    for key, value in ocr.model(x, training=False).items():
        np.testing.assert_allclose(reloaded[key], value, rtol=1e-4, atol=1e-6)
    for kind in (GlyphAugmentation, DirectMap, GlobalWeightedOutputAveragePooling2D, ModelInfo):
        assert find_layers(loaded, kind)
    assert isinstance(loaded.optimizer, AdaBound)


# Unknown names ---------------------------------------------------------------------------------------

def test_unknown_network_lists_choices():
    with pytest.raises(ValueError, match='resnet') as error:
        network.build_model('resnet', image_size=32)
    for name in network.BACKBONES:
        assert name in str(error.value)


def test_unknown_fc_link_lists_choices(charset_file):
    with pytest.raises(ValueError, match='GMP') as error:
        model.KoOCR(weights=None, network='compact', image_size=32, fc_link='GMP', charset=charset_file)
    for fc_link in POOLINGS:
        assert repr(fc_link) in str(error.value)


def test_application_below_its_minimum_size_says_so():
    with pytest.raises(ValueError, match='inception-resnet.*75 px.*32'):
        network.build_model('inception-resnet', image_size=32)
    with pytest.raises(ValueError, match="'mobilenet' has a fixed width; --width=0.5"):
        network.build_model('mobilenet', image_size=32, width=0.5)


# Layers ----------------------------------------------------------------------------------------------

def round_trip(layer):
    config = layer.get_config()
    restored = type(layer).from_config(config)
    assert restored.get_config() == config
    return restored


def features(shape=(2, 4, 5, 3), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype('float32')


def test_ink_scale_maps_ink_to_one_and_adds_a_channel():
    layer = round_trip(InkScale())
    images = np.array([[[0, 255], [51, 255]]], np.uint8)  # (1, 2, 2): no channel axis
    out = np.asarray(layer(images))
    assert out.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(out[0, :, :, 0], [[1, 0], [0.8, 0]], atol=1e-6)


def test_gwap_starts_as_gap_and_learns_per_position_weights():
    x = features()
    layer = round_trip(GlobalWeightedAveragePooling2D())
    out = layer(x)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, np.mean(x, axis=(1, 2)), rtol=1e-5, atol=1e-6)
    assert [w.shape for w in layer.trainable_weights] == [(4, 5, 3)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    assert np.any(tape.gradient(loss, layer.trainable_weights[0]).numpy() != 0)


def test_gwoap_is_gwap_beside_gap_and_really_pools():
    x = features()
    layer = round_trip(GlobalWeightedOutputAveragePooling2D())
    out = np.asarray(layer(x))
    assert out.shape == (2, 6)
    assert layer.compute_output_shape((None, 4, 5, 3)) == (None, 6)
    layer.position_weights.assign(features((4, 5, 3), seed=1))
    out = np.asarray(layer(x))
    np.testing.assert_allclose(out[:, :3], np.sum(x * layer.position_weights.numpy(), axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(out[:, 3:], np.mean(x, axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_direct_map_stacks_eight_fixed_directions():
    layer = round_trip(DirectMap())
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[:, :, 4:] = 1.0  # ink on the right half: a vertical edge, brightness rising along +x
    out = np.asarray(layer(image))
    assert out.shape == (1, 8, 8, 9)
    assert layer.compute_output_shape((None, 8, 8, 1)) == (None, 8, 8, 9)
    np.testing.assert_array_equal(out[..., 0], image[..., 0])
    assert out[0, 4, 3:5, 1].min() > 0  # 0°: rising along x
    assert out[0, 1:7, 1:7, 5].max() == 0  # 180°: the opposite direction, cut by the ReLU (inside the image)
    assert out.min() >= 0
    model_ = keras.Sequential([keras.Input((8, 8, 1)), layer])
    assert not layer.weights and not model_.trainable_weights


def test_glyph_augmentation_is_identity_at_inference_and_varies_in_training():
    layer = round_trip(GlyphAugmentation(rotation=0.2, stroke=0.5, name='augmentation'))
    assert layer.get_config()['rotation'] == 0.2 and layer.get_config()['scale'] == (0.8, 1.05)
    images = np.zeros((4, 32, 32, 1), np.float32)
    images[:, 8:24, 14:18] = 1.0
    np.testing.assert_array_equal(layer(images), images)
    np.testing.assert_array_equal(layer(images, training=False), images)
    first, second = np.asarray(layer(images, training=True)), np.asarray(layer(images, training=True))
    assert first.shape == images.shape
    assert 0.0 <= first.min() and first.max() <= 1.0
    assert np.abs(first - images).mean() > 0.01
    assert not np.allclose(first, second)
    assert not np.allclose(first[0], first[1])  # each image gets its own transform
    assert first.sum() > 0.3 * images.sum()  # the glyph is moved and reshaped, not erased


def test_model_info_carries_config_and_charset():
    layer = round_trip(ModelInfo(config={'network': 'compact', 'image_size': 48}, charset=CHARS))
    assert layer.config == {'network': 'compact', 'image_size': 48} and layer.charset == CHARS
    x = features()
    np.testing.assert_array_equal(layer(x), x)


def test_custom_layers_are_registered_for_loading():
    for cls in (InkScale, DirectMap, GlobalWeightedAveragePooling2D, GlobalWeightedOutputAveragePooling2D,
                GlyphAugmentation, ModelInfo, AdaBound):
        name = keras.saving.get_registered_name(cls)
        assert name.startswith('koocr>'), name
        assert keras.saving.get_registered_object(name) is cls


def test_build_model_names_the_features_layer(charset_file):
    ocr = model.KoOCR(weights=None, network='compact', image_size=32, width=0.25, charset=charset_file)
    features_layer = ocr.model.get_layer(network.FEATURES_LAYER)
    assert len(features_layer.output.shape) == 4
    assert ocr.charset == ''.join(sorted(CHARS))
