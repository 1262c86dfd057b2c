"""predict.py and KoOCR() with the shipped pretrained model, on the bundled example images."""
import csv
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, 'examples')


def examples(kind=None):
    with open(os.path.join(EXAMPLES, 'labels.tsv'), encoding='utf-8') as f:
        rows = list(csv.DictReader(f, delimiter='\t'))
    return [r for r in rows if kind is None or r['kind'] == kind]


def predict(*args):
    return subprocess.run([sys.executable, 'predict.py', *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope='module')
def folder_answers():
    result = predict('examples/', '--json', '--n', '5')
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_printed_examples_read_right(folder_answers):
    for row in examples('printed'):
        top = folder_answers[os.path.join('examples', row['file'])]['top']
        assert top[0]['char'] == row['label'], (row, top)
        assert 0.5 < top[0]['p'] <= 1.0


def test_folder_answers_every_image_and_only_images(folder_answers):
    expected = {os.path.join('examples', r['file']) for r in examples()}
    assert set(folder_answers) == expected  # labels.tsv and make_examples.py are not images
    for answer in folder_answers.values():
        probabilities = [c['p'] for c in answer['top']]
        assert len(probabilities) == 5 and probabilities == sorted(probabilities, reverse=True)


def test_a_file_that_is_not_an_image_is_named_and_the_others_answered(tmp_path):
    bogus = tmp_path / 'notes.png'
    bogus.write_text('not an image')
    good = os.path.join('examples', examples('printed')[0]['file'])
    result = predict(str(bogus), good)
    assert result.returncode == 1
    assert str(bogus) in result.stderr and 'Traceback' not in result.stderr
    assert result.stdout.startswith(good) and examples('printed')[0]['label'] in result.stdout


def test_table_output_and_n(tmp_path):
    good = os.path.join('examples', examples('printed')[0]['file'])
    result = predict(good, '--n', '3')
    assert result.returncode == 0, result.stderr
    path, answers = result.stdout.strip().split('\t')
    assert path == good and len(answers.split('  ')) == 3
    refused = predict(good, '--n', '0')
    assert refused.returncode == 2 and '--n: 0: must be 1 or more' in refused.stderr


def test_default_model_loads_and_reads_an_image():
    import model
    ocr = model.KoOCR()
    assert ocr.lite is not None, 'the shipped model.tflite is missing or disagrees with model.keras'
    row = examples('printed')[0]
    assert ocr.predict(os.path.join(EXAMPLES, row['file']), n=5)[0] == row['label']


def test_predict_py_reads_the_shipped_model_without_tensorflow_and_as_keras_does(folder_answers):
    probe = subprocess.run([sys.executable, '-c', 'import sys, predict; reader = predict.open_reader("default"); '
                            'print(type(reader).__name__, "tensorflow" in sys.modules)'],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert probe.stdout.split() == ['LiteReader', 'False'], probe.stderr
    import model
    keras_ocr = model.KoOCR(runtime='keras')
    for row in examples():
        expected = keras_ocr.predict(os.path.join(EXAMPLES, row['file']), n=5, probabilities=True)
        got = folder_answers[os.path.join('examples', row['file'])]['top']
        assert [t['char'] for t in got] == [c for c, _ in expected]
        assert [t['p'] for t in got] == pytest.approx([p for _, p in expected], abs=1e-4)
