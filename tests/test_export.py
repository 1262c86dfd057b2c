"""Export of the shipped model: a SavedModel that reads raw images with TensorFlow alone, and int8/fp16
LiteRT files that predict.py reads without TensorFlow, all answering examples/ as predict.py does."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip('tensorflow')
import export as export_script  # noqa: E402
import model  # noqa: E402
from utils.inference import serving  # noqa: E402
from utils.inference.lite import export_tflite, read_tflite_info  # noqa: E402
from utils.inference.preprocess import prepare  # noqa: E402
from utils.io import atomic_write_dir  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, 'examples')

# Run in a folder of its own with -I (no repository on sys.path): TensorFlow and the SavedModel only.
LOAD_ALONE = r'''
import json, sys
import tensorflow as tf
served = tf.saved_model.load(sys.argv[1])
answers = {}
for path in sys.argv[2:]:
    with open(path, 'rb') as f:
        out = served.signatures['serving_default'](image_bytes=tf.constant(f.read()))
    answers[path] = [[s.decode('utf-8') for s in out['syllables'].numpy()], out['probabilities'].numpy().tolist()]
ours = sorted(m for m in sys.modules if m.split('.')[0] in ('model', 'utils', 'network', 'predict'))
print(json.dumps({'answers': answers, 'ours': ours, 'path0': sys.path[0]}))
'''


def example_rows():
    with open(os.path.join(EXAMPLES, 'labels.tsv'), encoding='utf-8') as f:
        return list(csv.DictReader(f, delimiter='\t'))


def predict_py(*args):
    """predict.py's --json answers {image path: [syllables]}, and whether TensorFlow was imported."""
    code = ('import json, sys, predict; rc = predict.main(sys.argv[1:]); '
            'print("TENSORFLOW", "tensorflow" in sys.modules); sys.exit(rc)')
    result = subprocess.run([sys.executable, '-c', code, 'examples/', '--json', *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    answers, marker = result.stdout.rsplit('TENSORFLOW', 1)
    return {os.path.basename(p): [t['char'] for t in a['top']] for p, a in json.loads(answers).items()}, \
        marker.strip() == 'True'


@pytest.fixture(scope='module')
def shipped():
    return model.KoOCR(runtime='keras')


@pytest.fixture(scope='module')
def exported(shipped, tmp_path_factory):
    """{format: path} of the shipped model exported to every format (int8 calibrated on 40 glyphs)."""
    folder = tmp_path_factory.mktemp('export')
    paths = {'saved_model': str(folder / 'saved_model'), 'tflite-int8': str(folder / 'model_int8.tflite'),
             'tflite-fp16': str(folder / 'model_fp16.tflite')}
    for format, path in paths.items():
        shipped.export(path, format, representative_size=40)
    return paths


@pytest.fixture(scope='module')
def predict_answers():
    answers, _ = predict_py()
    return answers


def test_saved_model_alone_reads_raw_png_bytes_as_predict_py(exported, predict_answers, tmp_path):
    files = [os.path.join(EXAMPLES, row['file']) for row in example_rows()]
    result = subprocess.run([sys.executable, '-I', '-c', LOAD_ALONE, exported['saved_model'], *files],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2', 'PYTHONPATH': ''})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out['ours'] == [] and ROOT not in out['path0']
    for row in example_rows():
        syllables, probabilities = out['answers'][os.path.join(EXAMPLES, row['file'])]
        assert syllables[0] == predict_answers[row['file']][0] == row['label'], row
        assert len(syllables) == 5 and probabilities == sorted(probabilities, reverse=True)
        assert 0.5 < probabilities[0] <= 1.0


@pytest.mark.parametrize('format', ['tflite-int8', 'tflite-fp16'])
def test_predict_py_reads_int8_and_fp16_without_tensorflow(exported, predict_answers, format):
    answers, loaded_tensorflow = predict_py('--weights', exported[format])
    assert not loaded_tensorflow
    assert {f: a[0] for f, a in answers.items()} == {f: a[0] for f, a in predict_answers.items()}


def test_tflite_files_carry_the_options_and_charset(exported, shipped):
    config, charset = read_tflite_info(exported['tflite-int8'])
    assert config['image_size'] == shipped.image_size and charset == ''.join(shipped.charset)


def test_pixel_signature_matches_the_bytes_one_and_reads_transparency_on_white(exported):
    served = tf.saved_model.load(exported['saved_model'])
    path = os.path.join(EXAMPLES, 'printed_01.png')
    with open(path, 'rb') as f:
        from_bytes = served.signatures['serving_default'](image_bytes=tf.constant(f.read()))
    grey = np.asarray(Image.open(path).convert('L'))
    # Dark ink on a transparent sheet (alpha = ink): the glyph on white, as load_gray composites it.
    ink_on_clear = np.stack([np.zeros_like(grey), 255 - grey], -1)
    for pixels in (np.asarray(Image.open(path).convert('RGB')), grey[..., None], ink_on_clear):
        got = served.signatures['serve_pixels'](pixels=tf.constant(pixels))
        assert got['syllables'].numpy()[0] == from_bytes['syllables'].numpy()[0] == '한'.encode()


def test_tf_preprocessing_is_close_to_prepare():
    """The TF graph against the NumPy oracle: the same glyph within a few grey levels on average (resampling
    differs); a blank image stays blank; an inverted image reads as the upright one."""
    step = tf.function(lambda pixels: serving.prepare(pixels, 48),
                       input_signature=[tf.TensorSpec([None, None, None], tf.uint8)])
    for row in example_rows():
        pixels = np.asarray(Image.open(os.path.join(EXAMPLES, row['file'])).convert('RGB'))
        got, expected = step(pixels).numpy(), prepare(pixels, 48).astype(np.float32)
        assert np.abs(got - expected).mean() < 1.0, row['file']
    blank = np.full((30, 40, 1), 200, np.uint8)
    assert (step(blank).numpy() == 255).all()
    grey = np.asarray(Image.open(os.path.join(EXAMPLES, 'printed_02.png')).convert('L'))[..., None]
    np.testing.assert_array_equal(step(255 - grey).numpy(), step(grey).numpy())


def test_bad_format_and_missing_weights_are_named(shipped, tmp_path):
    with pytest.raises(ValueError, match="format='onnx'; choose from saved_model, tflite"):
        shipped.export(str(tmp_path / 'x'), 'onnx')
    refused = subprocess.run([sys.executable, 'export.py', '--format', 'onnx'], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2 and "invalid choice: 'onnx'" in refused.stderr
    missing = str(tmp_path / 'nowhere.keras')
    with pytest.raises(FileNotFoundError, match='nowhere.keras: no such weights file'):
        export_script.main(['--weights', missing, '--format', 'tflite', '--output', str(tmp_path / 'm.tflite')])
    (tmp_path / 'a_file').write_text('not a folder')
    with pytest.raises(ValueError, match='a_file: a file is there'):
        shipped.export(str(tmp_path / 'a_file'), 'saved_model')
    with pytest.raises(ValueError, match='representative_size=0'):
        shipped.export(str(tmp_path / 'q.tflite'), 'tflite-int8', representative_size=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a_file']


def test_a_tflite_file_without_model_info_is_named(shipped, tmp_path):
    bare = tmp_path / 'bare.tflite'
    export_tflite(shipped.model, str(bare))  # no info: such a file relies on a model.keras beside it
    result = subprocess.run([sys.executable, 'predict.py', 'examples/printed_01.png', '--weights', str(bare)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and 'bare.tflite: carries no KoOCR model info' in result.stderr


def write_one(name):
    def write(folder):
        with open(os.path.join(folder, name), 'w') as f:
            f.write(name)
    return write


def test_atomic_write_dir_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / 'out'
    atomic_write_dir(str(target), write_one('a'))
    atomic_write_dir(str(target), write_one('b'))
    assert sorted(os.listdir(target)) == ['b']

    def broken(folder):
        write_one('c')(folder)
        raise RuntimeError('export failed')
    with pytest.raises(RuntimeError, match='export failed'):
        atomic_write_dir(str(target), broken)
    assert sorted(os.listdir(target)) == ['b'] and sorted(p.name for p in tmp_path.iterdir()) == ['out']
