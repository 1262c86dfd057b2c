"""The notebooks: committed without outputs, their set-up cells alike, and each one run headless top to
bottom in the small configuration (KOOCR_NOTEBOOK_SMALL=1) with what it shows checked."""
import ast
import csv
import glob
import json
import math
import os
import re

import pytest

from conftest import ROOT

NOTEBOOKS = os.path.join(ROOT, 'notebooks')
NAMES = ('predict.ipynb', 'evaluate.ipynb', 'train.ipynb')
CELL_TIMEOUT = 300  # seconds: a cold TensorFlow import and a first training step on a busy 2-core machine


def read(name):
    """A notebook as plain JSON (nbformat 4): the static checks need no Jupyter package."""
    with open(os.path.join(NOTEBOOKS, name), encoding='utf-8') as f:
        return json.load(f)


def source(cell):
    return ''.join(cell['source'])


def code_cells(nb):
    return [cell for cell in nb['cells'] if cell['cell_type'] == 'code']


def setup_source(name='predict.ipynb'):
    return source(code_cells(read(name))[0])


# What is committed --------------------------------------------------------------------------------------

def test_the_three_notebooks_are_there_and_valid():
    assert sorted(os.path.basename(p) for p in glob.glob(os.path.join(NOTEBOOKS, '*.ipynb'))) == sorted(NAMES)
    nbformat = pytest.importorskip('nbformat', reason='nbformat validates the notebooks')
    for name in NAMES:
        nbformat.validate(nbformat.reads(json.dumps(read(name)), as_version=4))


@pytest.mark.parametrize('name', [os.path.basename(p) for p in sorted(glob.glob(os.path.join(NOTEBOOKS, '*.ipynb')))])
def test_outputs_are_stripped(name):
    dirty = [i for i, cell in enumerate(read(name)['cells']) if cell['cell_type'] == 'code'
             and (cell.get('outputs') != [] or cell.get('execution_count', 'missing') is not None)]
    assert dirty == [], f'{name}: code cells {dirty} keep outputs or an execution count'


@pytest.mark.parametrize('name', NAMES)
def test_each_notebook_explains_then_starts_with_the_same_setup(name):
    nb = read(name)
    first = nb['cells'][0]
    assert first['cell_type'] == 'markdown' and source(first).startswith('# ')
    assert nb['cells'][1]['cell_type'] == 'markdown' and source(nb['cells'][1]).startswith('## Set-up')
    assert source(code_cells(nb)[0]) == setup_source()
    assert len([cell for cell in nb['cells'] if cell['cell_type'] == 'markdown']) >= len(code_cells(nb)) / 2


def test_setup_switches_on_the_environment_and_clones_one_url():
    source = setup_source()
    assert "SMALL = os.environ.get('KOOCR_NOTEBOOK_SMALL', '') == '1'" in source
    assert source.count('REPO_URL') == 2  # said once, used once
    assert "list_physical_devices('GPU')" in source


def _setup_function(name):
    tree = ast.parse(setup_source())
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name)
    namespace = {'os': os}  # what the cell imported before
    exec(compile(ast.Module([function], []), 'setup cell', 'exec'), namespace)
    return namespace[name]


def test_setup_installs_the_missing_requirements_but_never_tensorflow(tmp_path):
    missing_requirements = _setup_function('missing_requirements')
    requirements = tmp_path / 'requirements.txt'
    requirements.write_text('tensorflow-cpu==2.21.*\ntensorflow==0.0.1  # never asked for\n'
                            'numpy>=1.0\nnumpy<1.0\n\nkoocr-surely-not-installed>=1.0\n')
    assert missing_requirements(str(requirements)) == ['numpy<1.0', 'koocr-surely-not-installed>=1.0']
    # On the repository's own file (installed here, TensorFlow pinned) nothing is missing.
    assert missing_requirements(os.path.join(ROOT, 'requirements.txt')) == []


def test_setup_finds_the_checkout_from_notebooks_or_the_root(tmp_path, monkeypatch):
    find_repo = _setup_function('find_repo')
    for folder, expected in ((NOTEBOOKS, ROOT), (ROOT, ROOT), (str(tmp_path), None)):
        monkeypatch.chdir(folder)
        assert find_repo() == expected


# Run headless -------------------------------------------------------------------------------------------

def run(name, work):
    """The notebook executed in memory (the committed file untouched) from notebooks/, small
    configuration; the executed copy is kept in ``work`` to read when a test fails."""
    nbclient = pytest.importorskip('nbclient', reason='nbclient is needed to run the notebooks')
    pytest.importorskip('ipykernel', reason='ipykernel is needed to run the notebooks (kernel python3)')
    import nbformat
    with open(os.path.join(NOTEBOOKS, name), encoding='utf-8') as f:
        nb = nbformat.read(f, as_version=4)
    env = {**os.environ, 'KOOCR_NOTEBOOK_SMALL': '1', 'KOOCR_NOTEBOOK_WORK': str(work),
           'MPLBACKEND': 'module://matplotlib_inline.backend_inline'}
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name='python3',
                                     resources={'metadata': {'path': NOTEBOOKS}})
    try:
        client.execute(env=env)
    finally:
        with open(os.path.join(str(work), name), 'w', encoding='utf-8') as f:
            nbformat.write(nb, f)
    errors = [output for output in outputs(nb) if output.output_type == 'error']
    assert errors == []
    return nb


def outputs(nb):
    return [output for cell in nb.cells if cell.cell_type == 'code' for output in cell.outputs]


def text_of(nb):
    return ''.join(output.text for output in outputs(nb) if output.output_type == 'stream' and output.name == 'stdout')


def shown(nb, mime):
    return [output for output in outputs(nb)
            if output.output_type in ('display_data', 'execute_result') and mime in output.get('data', {})]


@pytest.mark.slow
def test_predict_notebook_reads_every_example(tmp_path):
    nb = run('predict.ipynb', tmp_path)
    text = text_of(nb)
    assert f'repository: {ROOT}\nsmall configuration: True' in text  # found in place: nothing cloned
    with open(os.path.join(ROOT, 'examples', 'labels.tsv'), encoding='utf-8') as f:
        labels = {row['file']: row['label'] for row in csv.DictReader(f, delimiter='\t')}
    read_as = dict(re.findall(r'^(\S+\.png): truth \S, read (\S)', text, re.M))
    assert read_as == labels
    assert re.search(r'^printed_04_colour\.png: read 닭 \(\d', text, re.M)  # the "uploaded" image
    # The examples, the top-5 bar chart, the Grad-CAM maps.
    assert len(shown(nb, 'image/png')) == 3


@pytest.mark.slow
def test_evaluate_notebook_writes_and_shows_the_figures(tmp_path):
    nb = run('evaluate.ipynb', tmp_path)
    written = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / 'evaluation' / '*.png')))
    confusion = [name for name in written if name.startswith('confusion_')]
    gradcam = [name for name in written if name.startswith('gradcam_')]
    assert len(confusion) == 3 * len(gradcam)
    assert {'confusion_printed_CHOSUNG.png', 'gradcam_printed.png'} <= set(written)
    assert os.path.isfile(tmp_path / 'evaluation' / 'metrics.json')
    # Every figure written is shown inline, once.
    assert len(shown(nb, 'image/png')) == len(written)
    text = text_of(nb)
    assert re.search(r'^\d+ images of .*val_data: \d+ images/s', text, re.M)
    with open(tmp_path / 'evaluation' / 'metrics.json', encoding='utf-8') as f:
        accuracy = json.load(f)['accuracy']
    assert accuracy['overall']['images'] > 0 and accuracy['overall']['top1'] >= 0.9  # held-out fonts, shipped model
    # The accuracy tables: pandas' when it is installed, else the text ones.
    assert shown(nb, 'text/html') or re.search(r'^all\s+\d+\s+\d+\.\d\d%', text, re.M)


@pytest.mark.slow
def test_train_notebook_trains_evaluates_and_saves(tmp_path):
    nb = run('train.ipynb', tmp_path)
    text = text_of(nb)
    loss = float(re.search(r'^final loss: (\S+)', text, re.M).group(1))
    assert math.isfinite(loss) and loss > 0
    logs = tmp_path / 'logs'
    assert {'best.keras', 'weights.h5', 'history.csv', 'train_state.json', 'fit'} <= set(os.listdir(logs))
    assert glob.glob(str(logs / 'fit' / '**' / 'events.out.tfevents.*'), recursive=True)
    assert os.path.isfile(tmp_path / 'evaluation' / 'metrics.json')
    assert re.search(r'answers with LiteRT', text)
    assert len(shown(nb, 'image/png')) >= 2  # the training glyphs, the curves
