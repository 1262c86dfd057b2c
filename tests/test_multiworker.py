"""Two train.py workers on 127.0.0.1 under MultiWorkerMirroredStrategy (TF_CONFIG): both finish, they end
with the same weights, and only the chief writes ./logs."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

# One worker: train.py's main with the flags given, then every variable of the trained model to an .npz.
WORKER = f'''
import sys
import numpy as np
sys.path.insert(0, {ROOT!r})
import train
ocr = train.main(sys.argv[2:])
np.savez(sys.argv[1], **{{v.path: np.asarray(v) for v in ocr.model.variables}})
print(ocr.model.distribute_strategy.num_replicas_in_sync)
'''


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_to_the_same_weights_and_only_the_chief_logs(patch_dirs, charset_file, tmp_path):
    train_dir, val_dir, _ = patch_dirs
    cluster = {'worker': [f'127.0.0.1:{port}' for port in _free_ports(2)]}
    flags = ['--network=compact', '--width=0.25', '--image_size=32', '--epochs=1', '--batch_size=8',
             f'--data_path={train_dir}', f'--val_path={val_dir}', f'--charset={charset_file}', '--log_dir=logs',
             '--optimizer=adam', '--log_tensorboard=false', '--silent_mode=true']
    workers = []
    for index in range(2):
        folder, temp = tmp_path / f'worker{index}', tmp_path / f'tmp{index}'
        folder.mkdir()
        temp.mkdir()
        env = dict(os.environ, TMPDIR=str(temp), TF_CPP_MIN_LOG_LEVEL='2',
                   TF_CONFIG=json.dumps({'cluster': cluster, 'task': {'type': 'worker', 'index': index}}))
        workers.append(subprocess.Popen([sys.executable, '-c', WORKER, str(folder / 'variables.npz'), *flags],
                                        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True))
    for worker in workers:
        try:
            out, err = worker.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            for other in workers:
                other.kill()
            raise
        assert worker.returncode == 0, err[-3000:]
        assert out.split()[-1] == '2'  # two replicas in sync: the cluster formed
    chief, other = (np.load(tmp_path / f'worker{i}' / 'variables.npz') for i in range(2))
    assert chief.files == other.files and len(chief.files) > 20
    # Trainable weights, optimizer-free model state and the batch-norm statistics alike.
    assert [name for name in chief.files if not np.array_equal(chief[name], other[name])] == []
    assert {'weights.h5', 'best.keras', 'history.csv', 'train_state.json'} <= set(
        os.listdir(tmp_path / 'worker0' / 'logs'))
    assert not os.path.exists(tmp_path / 'worker1' / 'logs')
    assert os.listdir(tmp_path / 'tmp1') == []  # the other worker's checkpoints went to a temp folder, now gone
