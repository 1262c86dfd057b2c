"""Training: KoOCR.train (checkpoints, resume, optimizers, strategy) and train.py."""
import csv
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import model
import train
from utils.config import NetworkConfig, TrainConfig, pick
from utils.data.patches import write_patch
from utils.training import callbacks
from utils.training.optimizers import OPTIMIZER_NAMES

from conftest import ROOT

TRAIN_PY = os.path.join(ROOT, 'train.py')
TINY = dict(network='compact', image_size=32, width=0.25)
QUIET = dict(silent_mode=True, log_tensorboard=False)


def run_script(*args, timeout=300):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, 'PYTHONPATH': ROOT})


# KoOCR.train -----------------------------------------------------------------------------------------

def test_wrong_size_dataset_names_the_file(tmp_path, glyphs, charset_file):
    big = np.pad(glyphs['가'], 4, constant_values=255)
    write_patch(str(tmp_path / 'printed_7.pickle'), np.stack([big, big]), ['가', '가'])
    ocr = model.KoOCR(weights=None, charset=charset_file, **TINY)
    with pytest.raises(ValueError, match=r'printed_7\.pickle: images are 40x40, expected 32x32'):
        ocr.train(data_path=str(tmp_path), val_path='', log_dir=str(tmp_path / 'logs'), epochs=1, **QUIET)


def history_rows(log_dir):
    with open(os.path.join(log_dir, 'history.csv'), newline='') as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_train_writes_checkpoints_then_resumes(patch_dirs, tmp_path, charset_file):
    train_dir, val_dir, _ = patch_dirs
    log_dir = str(tmp_path / 'logs')
    options = dict(data_path=train_dir, val_path=val_dir, log_dir=log_dir, batch_size=16, learning_rate=0.01,
                   lr_schedule='cosine', optimizer='adam', zip_weights=True, **QUIET)
    ocr = model.KoOCR(weights=None, charset=charset_file, **TINY)
    history = ocr.train(epochs=1, **options)
    for name in ('weights.h5', 'best.keras', 'history.csv', 'train_state.json', 'weights_epoch_1.zip'):
        assert os.path.isfile(os.path.join(log_dir, name)), name
    state = callbacks.read_state(log_dir)
    assert state['epoch'] == 1 and 'best' in state
    assert 0 <= history.history['val_top1'][0] <= history.history['val_top5'][0] <= 1
    assert history.history['learning_rate'][0] == pytest.approx(callbacks.cosine_schedule(0.01, 1)(0))
    with zipfile.ZipFile(os.path.join(log_dir, 'weights_epoch_1.zip')) as archive:
        assert archive.namelist() == ['weights.h5']

    resumed = model.KoOCR(weights=log_dir)
    assert resumed.weights_path == os.path.join(log_dir, 'weights.h5')
    assert resumed.config == ocr.config and resumed.charset == ocr.charset
    # The optimizer's state comes back from weights.h5 too: step count and moments.
    saved, restored = ocr.model.optimizer.variables, resumed.model.optimizer.variables
    assert int(resumed.model.optimizer.iterations) == 3 and len(restored) == len(saved) > 2
    for a, b in zip(saved, restored):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    history = resumed.train(epochs=2, **options)
    assert history.epoch == [1]
    assert callbacks.read_state(log_dir)['epoch'] == 2
    rows = history_rows(log_dir)
    assert [row['epoch'] for row in rows] == ['0', '1']
    # The schedule is the one over 2 epochs, at epoch 1 (not a restart at epoch 0's warm-up rate).
    assert history.history['learning_rate'][0] == pytest.approx(callbacks.cosine_schedule(0.01, 2)(1))
    assert float(rows[1]['learning_rate']) == pytest.approx(callbacks.cosine_schedule(0.01, 2)(1))
    assert float(rows[0]['learning_rate']) == pytest.approx(callbacks.cosine_schedule(0.01, 1)(0))
    assert all(0 <= float(row['val_top1']) <= 1 for row in rows)
    assert os.path.isfile(os.path.join(log_dir, 'weights_epoch_2.zip'))
    assert model.KoOCR(weights=os.path.join(log_dir, 'best.keras')).charset == ocr.charset


@pytest.mark.slow
def test_a_best_loss_is_not_taken_for_a_best_accuracy(patch_dirs, tmp_path, charset_file, caplog):
    """Run 1 had no held-out patches (a val folder with only a manifest, as crawl_data.py --val_ratio=0
    leaves): its best is a loss. Run 2 validates: its first val_top1 is a new best, whatever that loss."""
    train_dir, val_dir, _ = patch_dirs
    empty_val = tmp_path / 'val_data'
    empty_val.mkdir()
    (empty_val / 'manifest.tsv').write_text('font\tsplit\n')
    log_dir = str(tmp_path / 'logs')
    options = dict(data_path=train_dir, log_dir=log_dir, batch_size=16, optimizer='adam', **QUIET)
    model.KoOCR(weights=None, charset=charset_file, **TINY).train(epochs=1, val_path=str(empty_val), lr=0.01,
                                                                   **options)
    assert 'holds no patches: training without validation' in caplog.text
    state = callbacks.read_state(log_dir)
    assert state['monitor'] == 'loss' and state['best'] > 0
    os.remove(os.path.join(log_dir, 'best.keras'))
    state['best'] = 2.0  # a loss above any accuracy
    callbacks.write_state(log_dir, state)
    resumed = model.KoOCR(weights=log_dir)
    assert float(resumed.model.optimizer.learning_rate) == pytest.approx(0.01)  # lr= is learning_rate=
    resumed.train(epochs=2, val_path=val_dir, **options)
    state = callbacks.read_state(log_dir)
    assert state['monitor'] == 'val_top1' and 0 <= state['best'] <= 1
    assert os.path.isfile(os.path.join(log_dir, 'best.keras'))


def test_a_failed_checkpoint_save_leaves_the_old_one_and_no_temp_file(tmp_path, charset_file):
    ocr = model.KoOCR(weights=None, charset=charset_file, **TINY)
    path = str(tmp_path / 'weights.h5')
    callbacks.save_model(ocr.model, path)
    before = open(path, 'rb').read()

    class Broken:
        def save(self, target):
            open(target, 'wb').write(b'half')
            raise OSError('disk full')
    with pytest.raises(OSError, match='disk full'):
        callbacks.save_model(Broken(), path)
    assert open(path, 'rb').read() == before and sorted(os.listdir(tmp_path)) == ['weights.h5']


def test_a_corrupt_train_state_names_the_file(tmp_path):
    (tmp_path / callbacks.STATE_FILE).write_text('{"epoch": 3')
    with pytest.raises(ValueError, match=r'train_state\.json: not a training state'):
        callbacks.read_state(str(tmp_path))


@pytest.mark.parametrize('optimizer', OPTIMIZER_NAMES)
def test_each_optimizer_trains(optimizer, patch_dirs, tmp_path, charset_file):
    train_dir, _, _ = patch_dirs
    ocr = model.KoOCR(weights=None, charset=charset_file, split_components=False, **TINY)
    before = ocr.model.get_layer('output').kernel.numpy().copy()
    history = ocr.train(data_path=train_dir, val_path='', log_dir=str(tmp_path), epochs=1, batch_size=16,
                        optimizer=optimizer, learning_rate=0.01, **QUIET)
    assert np.isfinite(history.history['loss'][0])
    assert type(ocr.model.optimizer).__name__.lower() == optimizer
    assert float(ocr.model.optimizer.learning_rate) == pytest.approx(0.01)
    assert not np.allclose(before, ocr.model.get_layer('output').kernel.numpy())


def test_iterative_refinement_trains_from_the_script_and_resumes(patch_dirs, tmp_path, charset_file):
    train_dir, val_dir, _ = patch_dirs
    base = [f'--data_path={train_dir}', f'--val_path={val_dir}', f'--log_dir={tmp_path}', '--network=compact',
            '--width=0.25', '--image_size=32', f'--charset={charset_file}', '--silent_mode=true', '--batch_size=8']
    train.main(base + ['--iterative_refinement=true', '--refinement_t=2', '--epochs=1'])
    history = (tmp_path / 'history.csv').read_text().splitlines()
    assert 'CHOSUNG_step1_loss' in history[0] and 'val_top1' in history[0] and len(history) == 2
    ocr = model.KoOCR(weights=str(tmp_path / 'best.keras'))
    assert ocr.config.iterative_refinement and ocr.config.refinement_t == 2
    assert 'JONGSUNG_step0' in ocr.model.output_names and len(ocr.predict(np.full((32, 32), 255, np.uint8))) == 5
    train.main([f'--weights={tmp_path}/', *base, '--epochs=2'])  # resumes the refined model
    assert len((tmp_path / 'history.csv').read_text().splitlines()) == 3


def test_wandb_without_the_package_is_a_clear_error(patch_dirs, tmp_path, charset_file, monkeypatch):
    monkeypatch.setitem(sys.modules, 'wandb', None)  # as if not installed
    train_dir, _, _ = patch_dirs
    ocr = model.KoOCR(weights=None, charset=charset_file, **TINY)
    with pytest.raises(RuntimeError, match='pip install wandb'):
        ocr.train(data_path=train_dir, val_path='', log_dir=str(tmp_path), epochs=1, log_wandb=True, **QUIET)


# train.py --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_original_commands_train_then_resume(patch_dirs, tmp_path):
    train_dir, val_dir, _ = patch_dirs
    log_dir = str(tmp_path / 'logs')
    data = [f'--data_path={train_dir}', f'--val_path={val_dir}', f'--log_dir={log_dir}']
    first = run_script(TRAIN_PY, '--split_components=true', '--network=compact', '--image_size=32',
                       '--direct_map=true', '--epochs=1', *data)
    assert first.returncode == 0, first.stderr[-3000:]
    assert callbacks.read_state(log_dir)['epoch'] == 1
    assert os.path.isdir(os.path.join(log_dir, 'fit'))  # TensorBoard is on by default, as in the original
    second = run_script(TRAIN_PY, '--learning_rate=0.00003', '--optimizer=adabound', '--image_size=32',
                        f'--weights={log_dir}/weights/', '--fc_link=GWAP', '--batch_size=16', '--epochs=2',
                        '--patch_size=20', *data)
    assert second.returncode == 0, second.stderr[-3000:]
    assert 'ignoring' not in second.stderr  # the flags it repeats agree with the saved network
    state = callbacks.read_state(log_dir)
    assert state['epoch'] == 2 and '--weights=' in state['command']
    # The whole config is recorded as fields, so the run can be repeated from the file.
    assert state['network']['direct_map'] is True and state['network']['network'] == 'compact'
    assert (state['train']['epochs'], state['train']['batch_size'], state['train']['patch_size']) == (2, 16, 20)
    again = train.parse_args([f'--config={log_dir}/train_state.json'])
    assert (again.optimizer, again.learning_rate, again.batch_size, again.direct_map) == ('adabound', 3e-5, 16, True)
    assert [row['epoch'] for row in history_rows(log_dir)] == ['0', '1']
    resumed = model.KoOCR(weights=os.path.join(log_dir, 'weights.h5'))
    assert resumed.config.direct_map and resumed.config.network == 'compact'
    assert type(resumed.model.optimizer).__name__ == 'AdaBound'
    assert float(resumed.model.optimizer.learning_rate) == pytest.approx(0.00003)


def test_unknown_network_exits_with_one_clear_line(tmp_path):
    result = run_script(TRAIN_PY, '--network=resnet', f'--log_dir={tmp_path}', '--image_size=32')
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr and 'Traceback' not in result.stdout
    errors = [line for line in result.stderr.splitlines() if 'resnet' in line]
    assert len(errors) == 1 and errors[0].startswith('train.py: ')
    assert all(name in errors[0] for name in ('melnyk', 'fire', 'compact', 'VGG16', 'inception-resnet'))


def test_bad_flag_values_are_refused_by_the_parser():
    with pytest.raises(SystemExit):
        train.parse_args(['--split_components=maybe'])
    args = train.parse_args(['--split_components=false', '--fc_link=', '--epochs=3', '--learning_rate=3e-5'])
    assert (args.split_components, args.fc_link, args.epochs, args.learning_rate) == (False, '', 3, 3e-5)
    defaults = train.parse_args([])
    # One flag per field of the configs, with the field's default: an option is written once.
    assert NetworkConfig(**pick(NetworkConfig, defaults)) == NetworkConfig()
    assert TrainConfig(**pick(TrainConfig, defaults)) == TrainConfig()


# tf.distribute ---------------------------------------------------------------------------------------

MIRRORED = textwrap.dedent('''
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices('CPU')[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import model
    model.KoOCR(weights=None, network='compact', image_size=32, width=0.25)  # one before: scopes must not clash
    strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
    with strategy.scope():
        ocr = model.KoOCR(weights=None, network='compact', image_size=32, width=0.25, charset=sys.argv[2])
    history = ocr.train(data_path=sys.argv[1], val_path='', log_dir=sys.argv[3], epochs=1, batch_size=8,
                        optimizer='adabound', silent_mode=True, log_tensorboard=False)
    variable = ocr.model.trainable_variables[0]
    print(json.dumps({'replicas': ocr.model.distribute_strategy.num_replicas_in_sync,
                      'variable': type(getattr(variable, 'value', variable)).__name__,
                      'loss': history.history['loss']}))
''')


@pytest.mark.slow
def test_two_replica_mirrored_strategy_trains(patch_dirs, tmp_path, charset_file):
    train_dir, _, _ = patch_dirs
    result = run_script('-c', MIRRORED, train_dir, charset_file, str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report['replicas'] == 2 and report['variable'] == 'MirroredVariable'
    assert np.isfinite(report['loss'][0])


def test_history_csv_takes_a_new_column_on_resume(tmp_path):
    """A run without a schedule, resumed with one: the header gains learning_rate, no row is misaligned."""
    path = tmp_path / 'history.csv'
    callbacks.HistoryCSV(str(path)).on_epoch_end(0, {'loss': 2.0, 'val_top1': 0.5})
    callbacks.HistoryCSV(str(path)).on_epoch_end(1, {'loss': 1.0, 'val_top1': 0.75, 'learning_rate': 0.01})
    rows = history_rows(str(tmp_path))
    assert list(rows[0]) == ['epoch', 'learning_rate', 'loss', 'val_top1']
    assert rows[0] == {'epoch': '0', 'learning_rate': '', 'loss': '2.0', 'val_top1': '0.5'}
    assert rows[1] == {'epoch': '1', 'learning_rate': '0.01', 'loss': '1.0', 'val_top1': '0.75'}
    assert sorted(p.name for p in tmp_path.iterdir()) == ['history.csv']  # no temp file left


def test_resuming_with_other_network_flags_says_they_are_ignored(tmp_path, charset_file, caplog):
    model.KoOCR(weights=None, charset=charset_file, **TINY).save(str(tmp_path / 'model.keras'))
    argv = [f'--weights={tmp_path}', '--image_size=64', '--epochs=3']
    assert train.given_network_options(train.parse_args(argv), argv) == {'image_size': 64}
    assert train.given_network_options(train.parse_args(argv[1:]), argv[1:])['network'] == 'melnyk'
    loaded = model.KoOCR(weights=str(tmp_path), image_size=64)
    assert loaded.image_size == TINY['image_size']
    assert f"model.keras was built with image_size={TINY['image_size']}; ignoring image_size=64" in caplog.text
