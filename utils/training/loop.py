"""The training loop: ``train(ocr, TrainConfig)``, beside ``evaluate(ocr, EvaluateConfig)`` in the evaluation.

Seeding, the resume arithmetic (epochs done from ``train_state.json``), the datasets, compiling, the
callbacks (checkpoints, state, history, schedule, TensorBoard, wandb) and ``model.fit``.
"""
import dataclasses
import logging
import os
import shutil
import sys
import tempfile

import keras

from utils.config import TrainConfig, as_record
from utils.data.dataset import Labeler, PatchDataset, PrintedPairs
from utils.data import hangul
from utils.data.hangul import DOMAIN_OUTPUT
from utils.data.patches import list_patches
from utils.inference import BATCH_SIZE
from utils.training import callbacks
from utils.training.distribute import fit_under_multi_worker, is_chief, synchronize_batch_norm, worker
from utils.training.losses import get_loss
from utils.training.optimizers import get_optimizer

log = logging.getLogger(f'koocr.{__name__}')


def compile_model(model, optimizer='adabound', learning_rate=0.001, loss='crossentropy', hybrid_weight=0.5):
    """Compile with one loss (``loss``: sparse cross-entropy, or the hybrid loss) and accuracy per class
    output (binary cross-entropy for the discriminator of adversarial learning); keeps a loaded optimizer's
    state when it is of the kind asked for, at the new learning rate."""
    current = getattr(model, 'optimizer', None)
    if current is None or type(current) is not type(get_optimizer(optimizer, learning_rate)):
        current = get_optimizer(optimizer, learning_rate)
    else:
        current.learning_rate = learning_rate
    names = model.output_names
    losses = {n: 'binary_crossentropy' if n == DOMAIN_OUTPUT else get_loss(loss, hybrid_weight) for n in names}
    model.compile(optimizer=current, loss=losses,
                  metrics={n: ['accuracy'] for n in names}, jit_compile=False)


def datasets(ocr, config, seed):
    """(training PatchDataset, validation PatchDataset or None: no --val_path folder, or no patches in it).
    With a discriminator, training batches carry the printed twins of their handwriting-style images; the
    syllables of ``exclude_syllables`` never reach training (validation keeps them)."""
    labeler = Labeler(ocr.config.split_components, ocr.charset, ocr.model.output_names)
    excluded = hangul.load_charset(config.exclude_syllables) if config.exclude_syllables else ()
    train_labeler = Labeler(ocr.config.split_components, ocr.charset, ocr.model.output_names, excluded)
    kinds = config.kinds or None
    pairs = PrintedPairs(ocr.image_size) if labeler.adversarial else None
    train_data = PatchDataset(config.data_path, ocr.image_size, train_labeler, config.batch_size,
                              config.patch_size, kinds, shuffle=True, seed=seed, printed_pairs=pairs)
    val = None
    if config.val_path and os.path.isdir(config.val_path):
        if list_patches(config.val_path, kinds):
            val = PatchDataset(config.val_path, ocr.image_size, labeler, BATCH_SIZE, config.patch_size, kinds,
                               shuffle=False)
        else:
            log.warning(f'KoOCR: {config.val_path} holds no patches: training without validation')
    return train_data, val


def train(ocr, config):
    """Train ``ocr.model`` as ``config`` (a ``TrainConfig``) says; resumes from the loaded weights'
    ``train_state.json``. Returns the Keras History."""
    ocr.lite = None  # training changes the weights: the LiteRT twin no longer answers for them
    state = callbacks.read_state(os.path.dirname(ocr.weights_path)) if ocr.weights_path else {}
    initial_epoch = state.get('epoch', 0)
    # A resumed run must not replay the first epochs' shuffles and augmentations.
    seed = config.seed + initial_epoch
    keras.utils.set_random_seed(seed)
    train_data, val = datasets(ocr, config, seed)
    epochs = config.epochs if config.epochs > initial_epoch else initial_epoch + config.epochs
    # The strategy the model was built under (a caller's own scope included): scopes must not mix.
    with ocr.model.distribute_strategy.scope():
        compile_model(ocr.model, config.optimizer, config.learning_rate, config.loss, config.hybrid_weight)
    fit_under_multi_worker(ocr.model)
    synchronize_batch_norm(ocr.model)
    record = {'command': ' '.join(sys.argv), 'network': as_record(ocr.config), 'train': as_record(config)}
    # Every worker of a cluster saves (a save may need them all), but only the chief into --log_dir.
    log_dir = config.log_dir if is_chief() else tempfile.mkdtemp(prefix='koocr_%s%d_' % worker())
    os.makedirs(log_dir, exist_ok=True)
    found = _callbacks(ocr, dataclasses.replace(config, log_dir=log_dir), val, {**state, **record}, epochs,
                       train_data.steps)
    interactive = sys.stdout.isatty()
    if not (config.silent_mode or interactive):
        found.append(callbacks.ProgressLog(train_data.steps, config.batch_size))
    try:
        return ocr.model.fit(train_data.as_tf(), epochs=epochs, initial_epoch=initial_epoch, callbacks=found,
                             verbose=0 if config.silent_mode else (1 if interactive else 2))
    finally:
        if log_dir != config.log_dir:
            shutil.rmtree(log_dir, ignore_errors=True)


def _callbacks(ocr, config, val, state, epochs, train_steps):
    log_dir = config.log_dir
    monitor = callbacks.VAL_TOP1 if val else callbacks.LOSS
    weights_path = os.path.join(log_dir, 'weights.h5')
    found = [callbacks.SyllableAccuracy(val, ocr.charset)] if val else []
    # Before the CSV logger: the scheduler puts the epoch's learning rate into the logs it writes.
    if config.lr_schedule == 'cosine':
        found.append(callbacks.StepSchedule(callbacks.cosine_schedule(config.learning_rate, epochs), train_steps))
    if state.get('monitor', monitor.name) != monitor.name:  # a best loss is no best accuracy, nor the reverse
        state = {key: value for key, value in state.items() if key != 'best'}
    found += [
        callbacks.SaveModel(os.path.join(log_dir, 'best.keras'), monitor, state.get('best')),
        callbacks.SaveModel(weights_path),
        callbacks.HistoryCSV(os.path.join(log_dir, 'history.csv')),
        callbacks.TrainState(log_dir, state, monitor),
    ]
    if config.zip_weights:
        found.append(callbacks.ZipWeights(weights_path))
    if config.log_tensorboard and is_chief():  # the other workers' logs would only be thrown away
        found.append(keras.callbacks.TensorBoard(os.path.join(log_dir, 'fit')))
    if config.log_wandb and is_chief():  # one run in Weights & Biases, not one per worker
        found.append(wandb_callback(config.setup_wandb))
    return found


def wandb_callback(setup):
    try:
        import wandb
        from wandb.integration.keras import WandbMetricsLogger
    except ImportError:
        raise RuntimeError('--log_wandb needs the wandb package: pip install wandb') from None
    if setup:
        wandb.login()
    wandb.init(project='KoOCR')
    return WandbMetricsLogger()


def config_from(options):
    """``KoOCR.train``'s keywords -> a ``TrainConfig`` (``lr`` is the original's name for learning_rate)."""
    options = dict(options)
    if 'lr' in options:
        if 'learning_rate' in options:
            raise TypeError('pass lr or learning_rate, not both')
        options['learning_rate'] = options.pop('lr')
    unknown = set(options) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise TypeError(f'unknown training options {sorted(unknown)}')
    return TrainConfig(**options)
