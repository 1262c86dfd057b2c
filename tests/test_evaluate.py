"""evaluate.py and utils/evaluation (reports, predictions, gradcam, plots) on a tiny untrained model and a few
rendered glyphs.

The data's labels are chosen from the model's own answers (a third its top-1, a third its third answer, a
third the glyph drawn), so an untrained model scores between 0 and 1 and every metric has something to count.
"""
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import evaluate
import model
from utils.config import EvaluateConfig, pick
from utils.data import hangul, patches
from utils.data.render import GlyphRenderer
from utils.evaluation import gradcam, reports
from utils.inference.topn import top_n_syllables
from utils.training import callbacks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from conftest import FONT  # noqa: E402
SIZE = 32
SYLLABLES = '가나다라마바사아자차카타파하각값꽃읽'
# (patch, placement): three "fonts" from one face, drawn three ways.
FONTS = [('printed_0.pickle', dict(placement='center')), ('printed_1.pickle', dict(placement='legacy')),
         ('clova_0.pickle', dict(placement='legacy', char_size=22, x_offset=4, y_offset=2))]
TOP_N = 5


def tiny_ocr(split_components, **options):
    keras.utils.set_random_seed(0)
    return model.KoOCR(weights=None, network='compact', image_size=SIZE, fc_link='GAP',
                       split_components=split_components, **options)


def write_case(folder, ocr):
    """Patches, a manifest and weights.h5 in ``folder``; labels from the model's answers (see top)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for font_id, (name, placement) in enumerate(FONTS):
        renderer = GlyphRenderer(FONT, SIZE, **placement)
        images = np.stack([renderer.render(char) for char in SYLLABLES])
        outputs = ocr.model.predict(images[..., None].astype('float32'), verbose=0)
        top, _ = top_n_syllables(outputs, ocr.charset, 3)
        labels = [ocr.charset[top[i, 0]] if i % 3 == 0 else ocr.charset[top[i, 2]] if i % 3 == 1 else char
                  for i, char in enumerate(SYLLABLES)]
        patches.write_patch(str(folder / name), images, labels, [font_id] * len(labels))
        rows.append(dict(font_id=font_id, file=FONT, face_index=0, family='코오씨알 고딕',
                         style=f'Style{font_id}', family_key='koocr', kind=name.split('_')[0], split='val',
                         glyphs=len(labels), skipped=0))
    patches.write_manifest(str(folder / 'manifest.tsv'), rows)
    callbacks.save_model(ocr.model, str(folder / 'weights.h5'))
    return str(folder)


def make_case(tmp_path_factory, split_components):
    """(folder with patches + weights.h5, the model loaded back from weights.h5)."""
    folder = write_case(tmp_path_factory.mktemp('split' if split_components else 'complete'),
                        tiny_ocr(split_components))
    return folder, model.KoOCR(weights=os.path.join(folder, 'weights.h5'))


@pytest.fixture(scope='module')
def split_case(tmp_path_factory):
    return make_case(tmp_path_factory, True)


@pytest.fixture(scope='module')
def complete_case(tmp_path_factory):
    return make_case(tmp_path_factory, False)


@pytest.fixture(params=['split_case', 'complete_case'], ids=['split', 'complete'])
def case(request):
    return request.getfixturevalue(request.param)


def run(ocr, folder, out, **options):
    logged = []
    found = reports.evaluate(ocr, EvaluateConfig(data_path=folder, out=str(out), **options),
                             log=logged.append, progress=False)
    return found, '\n'.join(logged)


def brute_force(ocr, folder):
    """Per image: kind, font, whether top-1 / top-n are right, each jamo head right; from model.predict."""
    rows = []
    for path in patches.list_patches(folder):
        patch = patches.read_patch(path)
        outputs = ocr.model.predict(patch.images[..., None].astype('float32'), verbose=0)
        if ocr.config.split_components:
            jamo = [hangul.split_syllable(char) for char in ocr.charset]
            scores = np.stack([outputs['CHOSUNG'][:, c] * outputs['JUNGSUNG'][:, j] * outputs['JONGSUNG'][:, k]
                               for c, j, k in jamo], axis=1)
        else:
            scores = outputs['output']
        for i, label in enumerate(patch.labels):
            ranked = [ocr.charset[c] for c in np.argsort(-scores[i])[:TOP_N]]
            row = {'kind': patches.patch_kind(path), 'font': int(patch.fonts[i]),
                   'top1': ranked[0] == label, 'topn': label in ranked}
            if ocr.config.split_components:
                truth = hangul.split_syllable(label)
                for h, head in enumerate(hangul.COMPONENTS):
                    row[head] = int(np.argmax(outputs[head][i])) == truth[h]
                row['joint'] = all(row[head] for head in hangul.COMPONENTS)
            rows.append(row)
    return rows


def mean(rows, key):
    return sum(row[key] for row in rows) / len(rows)


def assert_png(path):
    assert os.path.isfile(path), path
    with Image.open(path) as image:
        image.verify()
        assert image.format == 'PNG'


def test_accuracy_matches_brute_force(case, tmp_path):
    folder, ocr = case
    found, logged = run(ocr, folder, tmp_path, patch_size=1, top_n=TOP_N)
    expected = brute_force(ocr, folder)
    with open(tmp_path / 'metrics.json', encoding='utf-8') as f:
        written = json.load(f)
    accuracy = written['accuracy']
    groups = {'overall': expected,
              **{kind: [r for r in expected if r['kind'] == kind] for kind in ('printed', 'clova')}}
    assert set(accuracy['kinds']) == {'printed', 'clova'}
    for name, rows in groups.items():
        scores = accuracy['overall'] if name == 'overall' else accuracy['kinds'][name]
        assert scores['images'] == len(rows)
        assert scores['top1'] == pytest.approx(mean(rows, 'top1'))
        assert scores[f'top{TOP_N}'] == pytest.approx(mean(rows, 'topn'))
        for key in [*hangul.COMPONENTS, 'joint'] if ocr.config.split_components else []:
            assert scores[key] == pytest.approx(mean(rows, key)), key
    assert 0 < accuracy['overall']['top1'] < accuracy['overall'][f'top{TOP_N}']
    assert ('joint' in accuracy['overall']) == ocr.config.split_components
    for font in accuracy['fonts']:
        rows = [r for r in expected if r['font'] == font['font_id']]
        assert (font['images'], font['top1']) == (len(rows), pytest.approx(mean(rows, 'top1')))
        assert (font['family'], font['style']) == ('코오씨알 고딕', f'Style{font["font_id"]}')
    assert [f['font_id'] for f in accuracy['fonts']] == [0, 1, 2]
    assert written['images'] == len(expected) == 3 * len(SYLLABLES)
    assert written['data_path'] == folder and written['weights'] == ocr.weights_path
    assert written['image_size'] == SIZE and written['inference']['images_per_s'] > 0
    assert found['accuracy'] == accuracy
    assert 'top-1' in logged and '코오씨알 고딕 Style' in logged
    assert sorted(written['figures']) == ['wrong_clova.png', 'wrong_printed.png']  # beside metrics.json
    for name in written['figures']:
        assert_png(os.path.join(tmp_path, name))


def test_kinds_select_the_data(split_case, tmp_path):
    folder, ocr = split_case
    found, _ = run(ocr, folder, tmp_path, kinds='clova')
    assert list(found['accuracy']['kinds']) == ['clova'] and found['images'] == len(SYLLABLES)
    assert [os.path.basename(p) for p in found['figures']] == ['wrong_clova.png']


def test_confusion_outputs(case, tmp_path):
    folder, ocr = case
    found, logged = run(ocr, folder, tmp_path, accuracy=False, confusion_matrix=True)
    assert 'accuracy' not in found
    expected = brute_force(ocr, folder)
    if ocr.config.split_components:
        names = [f'confusion_{kind}_{head}.png' for kind in ('printed', 'clova') for head in hangul.COMPONENTS]
        for kind in ('printed', 'clova'):
            rows = [r for r in expected if r['kind'] == kind]
            for head, jamo in hangul.COMPONENTS.items():
                matrix = np.array(found['confusion'][kind][head]['matrix'])
                assert matrix.shape == (len(jamo), len(jamo))
                assert matrix.sum() == len(rows)
                assert np.trace(matrix) == sum(r[head] for r in rows)
    else:
        names = ['confused_pairs_printed.png', 'confused_pairs_clova.png']
        for kind, pairs in found['confusion'].items():
            wrong = sum(not r['top1'] for r in expected if r['kind'] == kind)
            counts = [pair['count'] for pair in pairs]
            assert counts == sorted(counts, reverse=True) and 0 < sum(counts) <= wrong
            assert all(pair['truth'] != pair['prediction'] and 0 < pair['rate'] <= 1 for pair in pairs)
        assert 'most confused (printed)' in logged
    assert sorted(os.path.basename(p) for p in found['figures']) == sorted(names)
    for path in found['figures']:
        assert_png(path)
    with open(tmp_path / 'metrics.json', encoding='utf-8') as f:
        assert json.load(f)['confusion'] == found['confusion']


def test_class_activation_figures(case, tmp_path):
    folder, ocr = case
    found, _ = run(ocr, folder, tmp_path, accuracy=False, class_activation=True, class_activation_n=3)
    assert sorted(map(os.path.basename, found['figures'])) == ['gradcam_clova.png', 'gradcam_printed.png']
    for path in found['figures']:
        assert_png(path)
    assert not (tmp_path / 'metrics.json').exists()  # no prediction pass: nothing to record


def test_grad_cam_maps(case):
    folder, ocr = case
    images = patches.read_patch(os.path.join(folder, 'printed_0.pickle')).images[:4]
    maps = gradcam.grad_cam(ocr.model, images)
    assert list(maps) == (list(hangul.COMPONENTS) if ocr.config.split_components else ['output'])
    for heat in maps.values():
        assert heat.shape == images.shape
        assert np.isfinite(heat).all() and heat.min() >= 0 and heat.max() <= 1 + 1e-6
        assert heat.max() > 0


def test_grad_cam_explains_given_classes(case):
    folder, ocr = case
    images = patches.read_patch(os.path.join(folder, 'printed_0.pickle')).images[:2]
    head = next(iter(ocr.model.output))
    chosen = {name: np.array([1, 2]) for name in ocr.model.output}
    assert not np.allclose(gradcam.grad_cam(ocr.model, images, chosen)[head], gradcam.grad_cam(ocr.model, images)[head])


def test_show_augmentation_default_layer(split_case, tmp_path):
    folder, ocr = split_case
    found, logged = run(ocr, str(tmp_path / 'missing'), tmp_path, accuracy=False, show_augmentation=True,
                        train_data_path=folder)
    assert 'default GlyphAugmentation' in logged
    assert [os.path.basename(p) for p in found['figures']] == ['augmentation.png']
    assert_png(found['figures'][0])


def test_show_augmentation_uses_the_models_layer(split_case, tmp_path):
    folder, _ = split_case
    ocr = tiny_ocr(True, data_augmentation=True)
    ocr.weights_path = os.path.join(tmp_path, 'weights.h5')
    found, logged = run(ocr, folder, '', accuracy=False, show_augmentation=True, train_data_path=folder)
    assert "the model's augmentation layer" in logged and 'default' not in logged
    assert found['figures'] == [os.path.join(tmp_path, 'evaluation', 'augmentation.png')]
    assert_png(found['figures'][0])


def test_image_size_and_mode_must_match(case, tmp_path):
    folder, ocr = case
    config = EvaluateConfig(data_path=folder)
    with pytest.raises(ValueError, match='--image_size=48.*32x32'):
        reports.check_options(ocr, config, image_size=48)
    with pytest.raises(ValueError, match='split_components'):
        reports.check_options(ocr, config, split_components=not ocr.config.split_components)
    reports.check_options(ocr, config, image_size=SIZE, split_components=ocr.config.split_components)
    small = tmp_path / 'small'
    small.mkdir()
    patches.write_patch(str(small / 'printed_0.pickle'), np.full((2, 24, 24), 255, np.uint8), ['가', '나'])
    with pytest.raises(ValueError, match=r'are 24x24.*takes 32x32'):
        evaluate.main(['--weights', ocr.weights_path, '--data_path', str(small), '--out', str(tmp_path)])
    with pytest.raises(ValueError, match='no patches'):
        reports.check_options(ocr, EvaluateConfig(data_path=str(tmp_path / 'none')))


def test_default_output_dir(tmp_path):
    shipped = tmp_path / 'pretrained' / 'tiny' / 'model.keras'
    assert reports.default_output_dir(str(shipped)) == str(tmp_path / 'pretrained' / 'tiny_evaluation')
    assert reports.default_output_dir(str(tmp_path / 'logs' / 'weights.h5')) == str(tmp_path / 'logs' / 'evaluation')


def test_flags_are_the_config_fields_with_their_defaults():
    args = evaluate.parse_args([])
    assert EvaluateConfig(**pick(EvaluateConfig, args)) == EvaluateConfig()  # one flag per field, same default
    assert (args.weights, args.image_size, args.split_components) == ('default', None, None)  # the script's own
    given = evaluate.parse_args(['--kinds=printed,clova', '--top_n=3', '--class_activation=1'])
    config = EvaluateConfig(**pick(EvaluateConfig, given))
    assert (config.kinds, config.top_n, config.class_activation) == (['printed', 'clova'], 3, True)
    args = evaluate.parse_args(['--accuracy=false', '--split_components=true', '--image_size=64'])
    assert (args.accuracy, args.split_components, args.image_size) == (False, True, 64)


@pytest.mark.slow
def test_original_command(split_case):
    folder, _ = split_case
    weights = os.path.join(folder, 'weights.h5')
    result = subprocess.run(
        [sys.executable, 'evaluate.py', f'--weights={weights}', '--accuracy=true', '--confusion_matrix=true',
         '--class_activation=true', f'--data_path={folder}'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = os.path.join(folder, 'evaluation')
    with open(os.path.join(out, 'metrics.json'), encoding='utf-8') as f:
        written = json.load(f)
    assert written['images'] == 3 * len(SYLLABLES) and 'accuracy' in written and 'confusion' in written
    assert len(written['figures']) == 2 + 6 + 2  # wrong examples, jamo matrices, Grad-CAM: per kind
    for name in written['figures']:
        assert_png(os.path.join(out, name))  # named relative to metrics.json's folder
    assert 'top-1' in result.stdout
