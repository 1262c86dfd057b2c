"""KoOCR: build or load a Korean character recognizer, train it, and read characters with it.

    import model
    ocr = model.KoOCR()                          # the shipped pretrained model
    ocr.predict('examples/ga.png', n=5)          # ['가', '카', ...]
"""
import dataclasses
import glob
import os
import sys

import keras
import numpy as np

import network  # noqa: F401  (registers the custom layers before any model is loaded)
from network.config_layer import ModelInfo
from utils.data import hangul
from utils.inference import lite
from utils.training import callbacks
from utils.config import NetworkConfig, TrainConfig
from utils.data.dataset import Labeler, PatchDataset
from utils.training.distribute import choose_strategy
from utils.training.optimizers import get_optimizer
from utils.data.patches import list_patches
from utils.inference.preprocess import is_batch, model_inputs, prepare
from utils.inference.shipped import DEFAULT_WEIGHTS
from utils.inference.topn import ranked

MODEL_SUFFIXES = ('.keras', '.h5')


def find_weights(path):
    """A .keras/.h5 file, or the one a directory holds (model.keras, then weights.h5, then best.keras).
    The seed's ``--weights=./logs/weights/`` names ``./logs/weights.h5``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        stem = path.rstrip('/\\')
        for suffix in MODEL_SUFFIXES:
            if os.path.isfile(stem + suffix):
                return stem + suffix
    if os.path.isdir(path):
        for name in ('model.keras', 'weights.h5', 'best.keras'):
            if os.path.isfile(os.path.join(path, name)):
                return os.path.join(path, name)
        found = sorted(p for p in glob.glob(os.path.join(path, '*')) if p.endswith(MODEL_SUFFIXES))
        if len(found) != 1:
            raise FileNotFoundError(f'{path}: directory holds {"no" if not found else "several"} model files '
                                    f'(.keras or .h5) and no model.keras, weights.h5 or best.keras; name one')
        return found[0]
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: no such weights file (expected a .keras or .h5 model, '
                                f'or a directory holding one)')
    if not path.endswith(MODEL_SUFFIXES):
        raise ValueError(f'{path}: expected a .keras or .h5 model file')
    return path


def load_keras_model(path):
    """Load a model saved by KoOCR; errors name the file and what was expected."""
    try:
        loaded = keras.models.load_model(path, compile=True)
    except Exception as e:  # Keras raises many types for a file it cannot read
        raise ValueError(f'{path}: not a KoOCR model that Keras can load ({type(e).__name__}: {e})') from None
    if not any(isinstance(layer, ModelInfo) for layer in loaded.layers):
        raise ValueError(f'{path}: a Keras model, but not a KoOCR one (no model_info layer)')
    if path.endswith('.h5') and getattr(loaded, 'optimizer', None) is not None:
        _restore_h5_optimizer(loaded, path)
    return loaded


def _restore_h5_optimizer(loaded, path):
    """Keras 3.15 builds an .h5 model's optimizer over ``model._trainable_variables`` (empty for a
    functional model): the saved slots are dropped and the first training step fails ("Unknown
    variable"), so resuming from the seed's weights.h5 broke. Build it over the model's variables and
    load the saved state."""
    import h5py
    from keras.src.legacy.saving.legacy_h5_format import load_optimizer_weights_from_hdf5_group

    optimizer = type(loaded.optimizer).from_config(loaded.optimizer.get_config())
    optimizer.build(loaded.trainable_variables)
    with h5py.File(path, 'r') as f:
        values = load_optimizer_weights_from_hdf5_group(f) if 'optimizer_weights' in f else []
        if len(values) == len(optimizer.variables):
            optimizer.set_weights([np.asarray(v) for v in values])
        elif values:
            print(f'KoOCR: {path}: its optimizer state does not fit the model ({len(values)} saved values, '
                  f'{len(optimizer.variables)} expected); training restarts the optimizer', file=sys.stderr)
    loaded.optimizer = optimizer


class KoOCR:
    """A Korean character recognizer: a Keras network with jamo (split) or whole-character outputs.

    Args:
        weights: 'default' (the shipped pretrained model), a .keras/.h5 file or a directory holding one,
            or None / '' to build a new network from the other arguments (see ``NetworkConfig``).
        runtime: what ``predict``/``rank`` run on. 'auto': the LiteRT twin (``model.tflite`` beside
            ``model.keras``) when there is one and it agrees with the Keras model, else Keras; 'keras';
            'litert' (an error when there is no usable twin). Training always uses Keras.
    """

    RUNTIMES = ('auto', 'keras', 'litert')

    def __init__(self, weights='default', runtime='auto', **network_options):
        if runtime not in self.RUNTIMES:
            raise ValueError(f'runtime={runtime!r}; choose from {self.RUNTIMES}')
        unknown = set(network_options) - {f.name for f in dataclasses.fields(NetworkConfig)}
        if unknown:
            raise TypeError(f'unknown KoOCR arguments {sorted(unknown)}')
        self.weights_path = None
        if weights:
            if weights == 'default':
                if not os.path.isdir(DEFAULT_WEIGHTS):
                    raise FileNotFoundError(f'no shipped pretrained model at {DEFAULT_WEIGHTS}; '
                                            f'pass weights=None to build a new network')
                weights = DEFAULT_WEIGHTS
            self.weights_path = find_weights(weights)
            with choose_strategy().scope():  # the variables of a resumed run are distributed too
                self.model = load_keras_model(self.weights_path)
            self.config = NetworkConfig(**self._info().config)
            self._warn_ignored(network_options)
        else:
            self.config = NetworkConfig(**network_options)
            self.model = self._build()
        self.charset = self._info().charset
        self.lite = self._load_lite(runtime)

    def _info(self):
        return next(layer for layer in self.model.layers if isinstance(layer, ModelInfo))

    def _warn_ignored(self, network_options):
        """A loaded model keeps the network it was saved with: say which asked-for options differ."""
        differing = {k: v for k, v in network_options.items() if getattr(self.config, k) != v}
        if differing:
            saved = ', '.join(f'{k}={getattr(self.config, k)!r}' for k in differing)
            asked = ', '.join(f'{k}={v!r}' for k, v in differing.items())
            print(f'KoOCR: {self.weights_path} was built with {saved}; ignoring {asked}', file=sys.stderr)

    def _build(self):
        config = self.config
        if config.adversarial_learning:
            raise NotImplementedError('--adversarial_learning is not available yet in this version of KoOCR')
        charset = hangul.load_charset(config.charset)
        with choose_strategy().scope():
            return network.build_model(
                config.network, config.image_size, config.split_components, len(charset), config.fc_link,
                config.direct_map, config.data_augmentation, config.width,
                info=ModelInfo(config=dataclasses.asdict(config), charset=''.join(charset)),
                refinement_steps=config.refinement_t if config.iterative_refinement else 0)

    def _load_lite(self, runtime):
        """The LiteRT runner of ``<weights>.tflite`` for runtime 'auto'/'litert', or None (Keras)."""
        twin = os.path.splitext(self.weights_path)[0] + '.tflite' if self.weights_path else ''
        if runtime == 'keras' or (runtime == 'auto' and not os.path.isfile(twin)):
            return None
        try:
            if not os.path.isfile(twin):
                raise FileNotFoundError(f'{twin or "a new network"}: no .tflite twin of the Keras model')
            runner = lite.LiteRunner(twin)
            # A twin left behind by a retrained model.keras must not answer for it.
            probe = np.random.default_rng(0).uniform(0, 255, (2, self.image_size, self.image_size, 1))
            expected, got = self.model.predict_on_batch(probe.astype(np.float32)), runner(probe)
            if set(got) != set(expected) or not all(np.allclose(got[k], expected[k], atol=1e-4) for k in got):
                raise ValueError(f'{twin}: outputs differ from {self.weights_path}; re-export it with '
                                 f'KoOCR(weights=...).save({twin!r})')
            return runner
        except (ImportError, OSError, ValueError) as e:
            if runtime == 'litert':
                raise
            print(f'KoOCR: using Keras, not LiteRT: {e}', file=sys.stderr)
            return None

    @property
    def image_size(self):
        return self.config.image_size

    # Training ------------------------------------------------------------------------------------------

    def compile(self, optimizer='adabound', learning_rate=0.001):
        """Compile with one sparse cross-entropy and accuracy per output; keeps a loaded optimizer's state
        when it is of the kind asked for, at the new learning rate."""
        current = getattr(self.model, 'optimizer', None)
        if current is None or type(current) is not type(get_optimizer(optimizer, learning_rate)):
            current = get_optimizer(optimizer, learning_rate)
        else:
            current.learning_rate = learning_rate
        names = self.model.output_names
        self.model.compile(optimizer=current, loss={n: 'sparse_categorical_crossentropy' for n in names},
                           metrics={n: ['accuracy'] for n in names}, jit_compile=False)

    def datasets(self, options):
        labeler = Labeler(self.config.split_components, self.charset, self.model.output_names)
        kinds = [k for k in options.kinds.split(',') if k] or None
        train = PatchDataset(options.data_path, self.image_size, labeler, options.batch_size,
                             options.patch_size, kinds, shuffle=True, seed=options.seed)
        val = None
        if options.val_path and os.path.isdir(options.val_path):
            if list_patches(options.val_path, kinds):
                val = PatchDataset(options.val_path, self.image_size, labeler, 256, options.patch_size, kinds,
                                   shuffle=False)
            else:
                print(f'KoOCR: {options.val_path} holds no patches: training without validation', file=sys.stderr)
        return train, val

    def train(self, **options):
        """Train on patches (see ``TrainConfig`` for every option); resumes from the loaded weights'
        ``train_state.json``. Writes ``<log_dir>/weights.h5`` every epoch, ``best.keras``, a CSV history
        and, on request, TensorBoard logs. Returns the Keras History."""
        if 'lr' in options:  # the seed's name for it
            if 'learning_rate' in options:
                raise TypeError('pass lr or learning_rate, not both')
            options['learning_rate'] = options.pop('lr')
        options = TrainConfig(**options)
        self.lite = None  # training changes the weights: the LiteRT twin no longer answers for them
        if options.adversarial_ratio and options.fit_discriminator and not self.config.adversarial_learning:
            raise NotImplementedError('--fit_discriminator needs --adversarial_learning, not available yet')
        state = callbacks.read_state(os.path.dirname(self.weights_path)) if self.weights_path else {}
        initial_epoch = state.get('epoch', 0)
        # A resumed run must not replay the first epochs' shuffles and augmentations.
        options.seed += initial_epoch
        keras.utils.set_random_seed(options.seed)
        os.makedirs(options.log_dir, exist_ok=True)
        train, val = self.datasets(options)
        epochs = options.epochs if options.epochs > initial_epoch else initial_epoch + options.epochs
        # The strategy the model was built under (a caller's own scope included): scopes must not mix.
        with self.model.distribute_strategy.scope():
            self.compile(options.optimizer, options.learning_rate)
        found = self._callbacks(options, val, state, epochs, train.steps)
        interactive = sys.stdout.isatty()
        if not (options.silent_mode or interactive):
            found.append(callbacks.ProgressLog(train.steps, options.batch_size))
        return self.model.fit(train.as_tf(), epochs=epochs, initial_epoch=initial_epoch, callbacks=found,
                              verbose=0 if options.silent_mode else (1 if interactive else 2))

    def _callbacks(self, options, val, state, epochs, train_steps):
        log_dir = options.log_dir
        monitor = 'val_top1' if val else 'loss'
        weights_path = os.path.join(log_dir, 'weights.h5')
        found = [callbacks.SyllableAccuracy(val, self.charset)] if val else []
        # Before the CSV logger: the scheduler puts the epoch's learning rate into the logs it writes.
        if options.lr_schedule == 'cosine':
            found.append(callbacks.StepSchedule(callbacks.cosine_schedule(options.learning_rate, epochs),
                                                train_steps))
        elif options.lr_schedule != 'constant':
            raise ValueError(f"lr_schedule={options.lr_schedule!r}; choose from ('constant', 'cosine')")
        if state.get('monitor', monitor) != monitor:  # a best loss is no best accuracy, nor the reverse
            state = {key: value for key, value in state.items() if key != 'best'}
        found += [
            callbacks.SaveModel(os.path.join(log_dir, 'best.keras'), monitor, state.get('best')),
            callbacks.SaveModel(weights_path),
            callbacks.HistoryCSV(os.path.join(log_dir, 'history.csv')),
            callbacks.TrainState(log_dir, {**state, 'command': ' '.join(sys.argv)}, monitor),
        ]
        if options.zip_weights:
            found.append(callbacks.ZipWeights(weights_path))
        if options.log_tensorboard:
            found.append(keras.callbacks.TensorBoard(os.path.join(log_dir, 'fit')))
        if options.log_wandb:
            found.append(_wandb_callback(options.setup_wandb))
        return found

    # Inference -----------------------------------------------------------------------------------------

    def prepare(self, images):
        """Images of any size, colour or polarity -> float32 (N, S, S, 1) as the model was trained."""
        batch = images if is_batch(images) else [images]
        if len(batch) == 0:
            return np.zeros((0, self.image_size, self.image_size, 1), np.float32)
        return np.stack([prepare(image, self.image_size) for image in batch])[..., None].astype(np.float32)

    def predict(self, image, n=5, probabilities=False):
        """The n most likely syllables (best first) for one image, or one list per image for a batch.
        With ``probabilities=True`` each entry is a (syllable, probability) pair."""
        answers = self.rank(self.prepare(image), n, probabilities)
        return answers if is_batch(image) else answers[0]

    def rank(self, inputs, n=5, probabilities=False):
        """Prepared inputs (N, S, S[, 1]) -> one list of the n most likely syllables per image."""
        inputs = model_inputs(inputs, self.image_size)
        if len(inputs) == 0:  # an empty batch has no answers
            return []
        if self.lite:
            outputs = self.lite(inputs)
        elif len(inputs) <= 256:
            outputs = self.model.predict_on_batch(inputs)
        else:
            outputs = self.model.predict(inputs, batch_size=256, verbose=0)
        return ranked(outputs, self.charset, n, probabilities)

    def save(self, path, include_optimizer=False):
        """Save the model (.keras or .h5), without the optimizer's state unless asked: a third of the
        size, which is what a shipped model needs; or its LiteRT twin (.tflite) for fast inference."""
        if path.endswith('.tflite'):
            lite.export_tflite(self.model, path)
            return
        if include_optimizer:
            callbacks.save_model(self.model, path)
            return
        bare = keras.Model.from_config(self.model.get_config())
        bare.set_weights(self.model.get_weights())
        callbacks.save_model(bare, path)


def _wandb_callback(setup):
    try:
        import wandb
        from wandb.integration.keras import WandbMetricsLogger
    except ImportError:
        raise RuntimeError('--log_wandb needs the wandb package: pip install wandb') from None
    if setup:
        wandb.login()
    wandb.init(project='KoOCR')
    return WandbMetricsLogger()

