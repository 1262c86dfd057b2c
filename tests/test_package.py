"""The pip package: its pins agree with requirements.txt; `pip install .` in a fresh venv reads the examples
through the console script without TensorFlow, from another folder; `.[train]` trains through koocr-train."""
import os
import shutil
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT

PYPROJECT = os.path.join(ROOT, 'pyproject.toml')


def _project():
    with open(PYPROJECT, 'rb') as f:
        return tomllib.load(f)['project']


def _requirements():
    with open(os.path.join(ROOT, 'requirements.txt'), encoding='utf-8') as f:
        return {line.strip() for line in f if line.strip() and not line.startswith('#')}


def test_requirements_txt_is_the_light_install_plus_the_train_extra():
    project = _project()
    extras = project['optional-dependencies']
    own = {f'{project["name"]}[tools]'}
    train = set(extras['train']) - own | set(extras['tools'])
    assert _requirements() == set(project['dependencies']) | train
    # The light install leaves TensorFlow and Keras out; both GPU and CPU extras bring the same tools.
    assert not any(name.startswith(('tensorflow', 'keras')) for name in project['dependencies'])
    assert set(extras['gpu']) - set(extras['train']) == {'tensorflow[and-cuda]==2.21.*'}


def test_console_scripts_name_functions_that_exist():
    import importlib
    for command, target in _project()['scripts'].items():
        module, function = target.split(':')
        assert callable(getattr(importlib.import_module(module), function)), command


def _source_copy(tmp_path):
    """The checkout's tracked and new files (no data, logs or build folders): what `pip install .` sees."""
    listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True,
                            text=True)
    if listed.returncode:
        pytest.skip(f'git cannot list the checkout: {listed.stderr.strip()}')
    source = tmp_path / 'source'
    for name in listed.stdout.splitlines():
        if os.path.isfile(os.path.join(ROOT, name)):
            os.makedirs(source / os.path.dirname(name), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), source / name)
    return source


def _venv(tmp_path, name, *flags):
    folder = tmp_path / name
    made = subprocess.run([sys.executable, '-m', 'venv', *flags, str(folder)], capture_output=True, text=True)
    if made.returncode:
        pytest.skip(f'this Python cannot make a venv (no ensurepip?): {made.stderr.strip()[-300:]}')
    return folder / 'bin'


def _pip_install(bin_dir, target):
    done = subprocess.run([str(bin_dir / 'pip'), 'install', '-q', '--disable-pip-version-check', target],
                          capture_output=True, text=True)
    if done.returncode and 'No matching distribution' in done.stderr + done.stdout:
        pytest.skip('the package index cannot be reached here')
    assert done.returncode == 0, done.stderr[-3000:]


def _labels():
    with open(os.path.join(ROOT, 'examples', 'labels.tsv'), encoding='utf-8') as f:
        rows = [line.rstrip('\n').split('\t') for line in f if line.strip()]
    return {row[0]: row[1] for row in rows[1:]}


@pytest.mark.slow
def test_light_install_reads_the_examples_without_tensorflow(tmp_path):
    bin_dir = _venv(tmp_path, 'light')
    _pip_install(bin_dir, str(_source_copy(tmp_path)))
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    examples = os.path.join(ROOT, 'examples')
    read = subprocess.run([str(bin_dir / 'koocr-predict'), examples, '--n', '1'], cwd=elsewhere,
                          capture_output=True, text=True)
    assert read.returncode == 0, read.stderr[-3000:]
    answers = {os.path.basename(line.split('\t')[0]): line.split('\t')[1].split()[0]
               for line in read.stdout.splitlines()}
    assert answers == _labels()
    python = str(bin_dir / 'python')
    missing = subprocess.run([python, '-c', 'import tensorflow'], capture_output=True, text=True)
    assert missing.returncode != 0 and 'No module named' in missing.stderr
    # A command of the [train] extra says which extra to install, in one line.
    refused = subprocess.run([str(bin_dir / 'koocr-train'), '--epochs=1'], cwd=elsewhere, capture_output=True,
                             text=True)
    assert refused.returncode == 1 and 'Traceback' not in refused.stderr
    assert "pip install 'koocr[train]'" in refused.stderr
    # A Keras model file needs the same extra.
    keras_weights = subprocess.run([str(bin_dir / 'koocr-predict'), examples, '--weights',
                                    os.path.join(ROOT, 'pretrained', 'compact48_w075_split', 'model.keras')],
                                   cwd=elsewhere, capture_output=True, text=True)
    assert keras_weights.returncode == 1 and "koocr[train]" in keras_weights.stderr


@pytest.mark.slow
def test_train_extra_trains_through_koocr_train(tmp_path, patch_dirs):
    # The venv sees this machine's TensorFlow, so `.[train]` resolves without downloading it again.
    bin_dir = _venv(tmp_path, 'full', '--system-site-packages')
    _pip_install(bin_dir, f'{_source_copy(tmp_path)}[train]')
    train_dir, val_dir, _ = patch_dirs
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    done = subprocess.run([str(bin_dir / 'koocr-train'), '--network=compact', '--width=0.25', '--image_size=32',
                           '--epochs=1', '--batch_size=16', f'--data_path={train_dir}', f'--val_path={val_dir}',
                           '--log_dir=logs', '--log_tensorboard=false', '--silent_mode=true'],
                          cwd=elsewhere, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert os.path.isfile(elsewhere / 'logs' / 'weights.h5')
    # It ran the installed copy, not the checkout.
    assert ROOT not in subprocess.run([str(bin_dir / 'python'), '-c', 'import model; print(model.__file__)'],
                                      cwd=elsewhere, capture_output=True, text=True).stdout
