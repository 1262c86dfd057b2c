"""Training callbacks: held-out syllable accuracy, the resume state, the history, zipped weights, the
learning-rate schedule."""
import csv
import io
import json
import math
import os
import time
import zipfile

import keras
import numpy as np

from utils.data import patches
from utils.inference.topn import top_n_syllables

STATE_FILE = 'train_state.json'


def read_state(folder):
    """The training state saved beside a checkpoint ({'epoch': epochs done, ...}), or {}."""
    path = os.path.join(folder, STATE_FILE)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding='utf-8') as f:
            state = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f'{path}: not a training state (JSON) ({e}); delete it to start the epochs anew') from None
    if not isinstance(state, dict):
        raise ValueError(f'{path}: expected a JSON object')
    return state


def write_state(folder, state):
    patches.atomic_write(os.path.join(folder, STATE_FILE),
                         lambda f: f.write(json.dumps(state, indent=2).encode('utf-8')))


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
        top1 = top5 = total = 0
        index = {c: i for i, c in enumerate(self.charset)}
        for images, labels, _, _ in self.dataset.examples():
            outputs = self.model.predict(images[..., None].astype('float32'), batch_size=256, verbose=0)
            best, _ = top_n_syllables(outputs, self.charset, 5)
            truth = np.array([index[label] for label in labels])
            top1 += int((best[:, 0] == truth).sum())
            top5 += int((best == truth[:, None]).any(axis=1).sum())
            total += len(labels)
        if logs is not None and total:
            logs['val_top1'], logs['val_top5'] = top1 / total, top5 / total


def save_model(model, path):
    """Save a whole model (.keras or .h5) atomically: a stop mid-save never leaves a broken file."""
    folder, name = os.path.split(path)
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
    """Save the model after every epoch, or only when ``monitor`` reaches a new best (higher is better
    for 'top1'/'top5'/'accuracy' scores, lower for losses)."""

    def __init__(self, path, monitor=None, best=None):
        super().__init__()
        self.path, self.monitor, self.best = path, monitor, best
        self.higher = monitor is not None and 'loss' not in monitor

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor) if self.monitor else None
        if self.monitor:
            if value is None:
                return
            if self.best is not None and (value <= self.best if self.higher else value >= self.best):
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
        self.folder, self.state, self.monitor = folder, {**state, 'monitor': monitor}, monitor

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        self.state['epoch'] = epoch + 1
        if value is not None and ('best' not in self.state or
                                  (value < self.state['best'] if 'loss' in self.monitor else value > self.state['best'])):
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
        patches.atomic_write(self.path, lambda f: f.write(text.getvalue().encode('utf-8')))


class ZipWeights(keras.callbacks.Callback):
    """Zip the epoch's weights file as ``weights_epoch_N.zip`` (the seed's --zip_weights, for download)."""

    def __init__(self, weights_path):
        super().__init__()
        self.weights_path = weights_path

    def on_epoch_end(self, epoch, logs=None):
        target = os.path.join(os.path.dirname(self.weights_path), f'weights_epoch_{epoch + 1}.zip')

        def write(f):
            with zipfile.ZipFile(f, 'w', zipfile.ZIP_DEFLATED) as archive:
                archive.write(self.weights_path, os.path.basename(self.weights_path))
        patches.atomic_write(target, write)
