"""Training callbacks: held-out syllable accuracy, checkpoints, the resume state, the history, zipped
weights, the learning-rate schedule."""
import csv
import io
import math
import os
import time
import zipfile
from dataclasses import dataclass

import keras

from utils.evaluation.predictions import predict_dataset
from utils.io import atomic_write, read_json, write_json, write_text

STATE_FILE = 'train_state.json'


@dataclass(frozen=True)
class Monitor:
    """A figure in the epoch's logs and whether a new best is higher ('max') or lower ('min')."""
    name: str
    mode: str

    def __post_init__(self):
        if self.mode not in ('max', 'min'):
            raise ValueError(f"Monitor mode={self.mode!r}; choose from ('max', 'min')")

    def better(self, value, best):
        """Whether ``value`` beats ``best`` (None: nothing to beat yet)."""
        return best is None or (value > best if self.mode == 'max' else value < best)


VAL_TOP1 = Monitor('val_top1', 'max')  # held-out syllable accuracy, when there is validation data
LOSS = Monitor('loss', 'min')          # the training loss, without


def read_state(folder):
    """The training state saved beside a checkpoint ({'epoch': epochs done, ...}), or {}."""
    path = os.path.join(folder, STATE_FILE)
    if not os.path.isfile(path):
        return {}
    state = read_json(path, 'a training state (JSON)', '; delete it to start the epochs anew')
    if not isinstance(state, dict):
        raise ValueError(f'{path}: expected a JSON object')
    return state


def write_state(folder, state):
    write_json(os.path.join(folder, STATE_FILE), state)


def cosine_schedule(learning_rate, epochs, warmup=0.3):
    """Epoch (fractional: 2.5 is halfway through the third) -> learning rate: a linear warm-up over
    ``warmup`` epochs, then cosine decay to 1% at ``epochs``."""
    def schedule(epoch, _=None):
        if epoch < warmup:
            return learning_rate * (0.1 + 0.9 * epoch / warmup)
        progress = min(1.0, (epoch - warmup) / max(1e-9, epochs - warmup))
        return learning_rate * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress)))
    return schedule


class StepSchedule(keras.callbacks.Callback):
    """Set the learning rate before every batch from ``schedule(epoch + batch / steps)``: short runs
    (a few epochs on CPU) need the decay within epochs, not in steps of a whole epoch.
    Logs the rate each epoch started with as ``learning_rate``."""

    def __init__(self, schedule, steps_per_epoch):
        super().__init__()
        self.schedule, self.steps, self.epoch = schedule, max(1, steps_per_epoch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.schedule(self.epoch + batch / self.steps))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs['learning_rate'] = self.schedule(epoch)


class SyllableAccuracy(keras.callbacks.Callback):
    """After each epoch: top-1 / top-5 whole-syllable accuracy on the validation set, as
    ``val_top1`` / ``val_top5`` in the logs (the number that matters: fonts the model never saw)."""

    def __init__(self, dataset, charset):
        super().__init__()
        self.dataset, self.charset = dataset, list(charset)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or not self.dataset.count:
            return
        predictions = predict_dataset(self.model, self.charset, self.dataset, top_n=5, progress=False)
        logs['val_top1'], logs['val_top5'] = float(predictions.correct.mean()), float(predictions.in_top.mean())


def save_model(model, path):
    """Save a whole model (.keras or .h5) atomically: a stop mid-save never leaves a broken file."""
    folder, name = os.path.split(path)
    os.makedirs(folder or '.', exist_ok=True)
    tmp = os.path.join(folder, f'.tmp_{name}')
    try:
        model.save(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    # Keras 3.15's H5 writer pops 'optimizer' from the model's compile config: later .keras files
    # would then reload with RMSprop. Put it back.
    compile_config = getattr(getattr(model, '_compile_config', None), 'config', None)
    if compile_config is not None and 'optimizer' not in compile_config:
        compile_config['optimizer'] = model.optimizer
    os.replace(tmp, path)


class SaveModel(keras.callbacks.Callback):
    """Save the model after every epoch, or only when ``monitor`` (a ``Monitor``) reaches a new best."""

    def __init__(self, path, monitor=None, best=None):
        super().__init__()
        self.path, self.monitor, self.best = path, monitor, best

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor:
            value = (logs or {}).get(self.monitor.name)
            if value is None or not self.monitor.better(value, self.best):
                return
            self.best = value
        save_model(self.model, self.path)


class ProgressLog(keras.callbacks.Callback):
    """One line every ``every`` steps (steps done, images/s, loss) for logs that are not a terminal,
    where Keras' progress bar would print nothing until the epoch ends."""

    def __init__(self, steps_per_epoch, batch_size, every=100):
        super().__init__()
        self.steps, self.batch_size, self.every = steps_per_epoch, batch_size, every

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.started = epoch, time.time()

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self.every == 0:
            rate = (batch + 1) * self.batch_size / (time.time() - self.started)
            print(f'epoch {self.epoch + 1} step {batch + 1}/{self.steps} {rate:.0f} img/s '
                  f'loss {(logs or {}).get("loss", float("nan")):.4f}', flush=True)


class TrainState(keras.callbacks.Callback):
    """Write ``train_state.json`` (epochs done, best score and what it measures) after every epoch, so a
    run can resume."""

    def __init__(self, folder, state, monitor):
        super().__init__()
        self.folder, self.state, self.monitor = folder, {**state, 'monitor': monitor.name}, monitor

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor.name)
        self.state['epoch'] = epoch + 1
        if value is not None and self.monitor.better(value, self.state.get('best')):
            self.state['best'] = float(value)
        write_state(self.folder, self.state)


class HistoryCSV(keras.callbacks.Callback):
    """One row per epoch in a CSV, appended across resumed runs. Keras' CSVLogger keeps the first run's
    header, so a resumed run that logs another column (a learning-rate schedule) wrote rows longer than
    their header; this one rewrites the file (atomically) with every column seen, older rows left blank."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        rows = []
        if os.path.isfile(self.path):
            with open(self.path, newline='', encoding='utf-8') as f:
                rows = [{k: v for k, v in row.items() if k is not None} for row in csv.DictReader(f)]
        rows.append({'epoch': epoch, **{k: float(v) for k, v in (logs or {}).items()}})
        columns = ['epoch'] + sorted({key for row in rows for key in row} - {'epoch'})
        text = io.StringIO()
        writer = csv.DictWriter(text, columns, lineterminator='\n')
        writer.writeheader()
        writer.writerows(rows)
        write_text(self.path, text.getvalue())


class ZipWeights(keras.callbacks.Callback):
    """Zip the epoch's weights file as ``weights_epoch_N.zip`` (the original's --zip_weights, for download)."""

    def __init__(self, weights_path):
        super().__init__()
        self.weights_path = weights_path

    def on_epoch_end(self, epoch, logs=None):
        target = os.path.join(os.path.dirname(self.weights_path), f'weights_epoch_{epoch + 1}.zip')

        def write(f):
            with zipfile.ZipFile(f, 'w', zipfile.ZIP_DEFLATED) as archive:
                archive.write(self.weights_path, os.path.basename(self.weights_path))
        atomic_write(target, write)
