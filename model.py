"""KoOCR: build or load a Korean character recognizer, train it, and read characters with it.

    import model
    ocr = model.KoOCR()                          # the shipped pretrained model
    ocr.predict('examples/ga.png', n=5)          # ['가', '카', ...]
"""
import dataclasses
import logging
import os

import keras
import numpy as np

import network  # registers the custom layers before any model is loaded
from network.adversarial import inference_model, set_reversal_scale
from network.config_layer import ModelInfo
from utils.config import NetworkConfig
from utils.data import hangul
from utils.data.hangul import DOMAIN_OUTPUT
from utils.inference import BATCH_SIZE, line_twins, lite, reading
from utils.inference.language import LanguageModel
from utils.inference.spacing import SpaceModel
from utils.inference.preprocess import is_batch, model_inputs, prepare
from utils.inference.shipped import DEFAULT_WEIGHTS, MODEL_SUFFIXES, find_weights  # noqa: F401 (model.find_weights)
from utils.inference.shipped import LANGUAGE_FILE, MODEL_TWIN_FILE, SPACING_FILE, SYMBOLS_FILE, SYMBOLS_TWIN_FILE
from utils.inference.topn import ranked
from utils.training import callbacks, loop
from utils.training.distribute import choose_strategy
from utils.training.optimizers import restore_h5_optimizer

log = logging.getLogger('koocr.model')


def load_keras_model(path):
    """Load a model saved by KoOCR; errors name the file and what was expected."""
    try:
        loaded = keras.models.load_model(path, compile=True)
    except Exception as e:  # Keras raises many types for a file it cannot read
        raise ValueError(f'{path}: not a KoOCR model that Keras can load ({type(e).__name__}: {e})') from None
    if not any(isinstance(layer, ModelInfo) for layer in loaded.layers):
        raise ValueError(f'{path}: a Keras model, but not a KoOCR one (no model_info layer)')
    if path.endswith('.h5') and getattr(loaded, 'optimizer', None) is not None:
        restore_h5_optimizer(loaded, path)
    return loaded


def load_symbol_network(weights_path, twin=True):
    """The line reader's symbol network as a function, uint8 (N, 32, 32) views -> (N, classes): ``symbols.keras``
    beside the model's weights, or (``twin=True``) its int8 LiteRT twin when that can run and was made from it."""
    path = os.path.join(os.path.dirname(weights_path or ''), SYMBOLS_FILE)
    if not weights_path or not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: read_text needs the line reader\'s symbol network beside the '
                                f'model; train one with train_lines.py --out {path}')
    runner = line_twins.load_twin(os.path.join(os.path.dirname(path), SYMBOLS_TWIN_FILE), path) if twin else None
    if runner is not None:
        return lambda views: next(iter(runner(views[..., None]).values()))
    try:
        network = keras.models.load_model(path)
    except Exception as e:  # Keras raises many types for a file it cannot read
        raise ValueError(f'{path}: not a symbol network Keras can load ({type(e).__name__}: {e})') from None

    def probabilities(views):
        # Padded to a multiple of 64 views: a new batch size would trace the network again.
        padded = np.full((-(-len(views) // 64) * 64, *views.shape[1:], 1), 255, np.float32)
        padded[:len(views), ..., 0] = views
        return network.predict_on_batch(padded)[:len(views)]
    return probabilities


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
        # A loaded model keeps its own network; checked all the same, a bad value fails before any loading.
        NetworkConfig(**network_options)
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
        self.runtime = runtime
        self.lite = self._load_lite(runtime)

    def _info(self):
        return next(layer for layer in self.model.layers if isinstance(layer, ModelInfo))

    def _warn_ignored(self, network_options):
        """A loaded model keeps the network it was saved with: say which asked-for options differ."""
        differing = {k: v for k, v in network_options.items() if getattr(self.config, k) != v}
        if differing:
            saved = ', '.join(f'{k}={getattr(self.config, k)!r}' for k in differing)
            asked = ', '.join(f'{k}={v!r}' for k, v in differing.items())
            log.warning(f'KoOCR: {self.weights_path} was built with {saved}; ignoring {asked}')

    def _build(self):
        config = self.config  # checked when made: unbuilt methods are refused there
        charset = hangul.load_charset(config.charset)
        with choose_strategy().scope():
            return network.build_model(
                config.network, config.image_size, config.split_components, len(charset), config.fc_link,
                config.direct_map, config.data_augmentation, config.width,
                info=ModelInfo(config=dataclasses.asdict(config), charset=''.join(charset)),
                refinement_steps=config.refinement_t if config.iterative_refinement else 0,
                adversarial=config.adversarial_learning, decoder=config.decoder)

    def _load_lite(self, runtime):
        """The LiteRT runner of ``<weights>.tflite`` for runtime 'auto'/'litert', or None (Keras)."""
        twin = os.path.splitext(self.weights_path)[0] + '.tflite' if self.weights_path else ''
        if runtime == 'keras' or (runtime == 'auto' and not os.path.isfile(twin)):
            return None
        try:
            return lite.checked_twin(twin, inference_model(self.model), self.image_size, self.weights_path)
        except (ImportError, OSError, ValueError) as e:
            if runtime == 'litert':
                raise
            log.warning(f'KoOCR: using Keras, not LiteRT: {e}')
            return None

    @property
    def image_size(self):
        return self.config.image_size

    # Training: the loop lives in utils/training/loop.py -------------------------------------------------

    def compile(self, optimizer='adabound', learning_rate=0.001, loss='crossentropy', hybrid_weight=0.5):
        """Compile for training (see ``loop.compile_model``)."""
        loop.compile_model(self.model, optimizer, learning_rate, loss, hybrid_weight)

    def train(self, **options):
        """Train on patches (see ``TrainConfig`` for every option; ``lr`` is accepted for learning_rate);
        resumes from the loaded weights' ``train_state.json``. Writes ``<log_dir>/weights.h5`` every epoch,
        ``best.keras``, a CSV history and, on request, TensorBoard logs. Returns the Keras History.
        A model with a discriminator (adversarial learning) reverses its gradient by ``adversarial_ratio``,
        or not at all with ``fit_discriminator``."""
        config = loop.config_from(options)
        if DOMAIN_OUTPUT in self.model.output_names:
            set_reversal_scale(self.model, 0.0 if config.fit_discriminator else config.adversarial_ratio)
        elif config.fit_discriminator:
            raise ValueError('fit_discriminator needs a model with a discriminator: build it with '
                             'adversarial_learning=True')
        return loop.train(self, config)

    def default_augmentation(self):
        """A default ``GlyphAugmentation`` layer, for showing augmentation on a model built without one."""
        return network.GlyphAugmentation()

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
        elif len(inputs) <= BATCH_SIZE:
            outputs = self.model.predict_on_batch(inputs)
        else:
            outputs = self.model.predict(inputs, batch_size=BATCH_SIZE, verbose=0)
        return ranked(outputs, self.charset, n, probabilities)

    def read_text(self, image, details=False):
        """The text of an image of one line, or of a column of lines (joined by newlines); with
        ``details=True`` a list of ``Character`` (text, box, probability) per character, spaces and
        newlines included. An image without ink reads as ''."""
        lines = reading.read_lines(image, self._symbol_probabilities, self._rank_line_glyphs, self.image_size,
                                   *self._line_models())
        if details:
            characters = []
            for k, line in enumerate(lines):
                characters += ([reading.Character('\n', line[0].box, 1.0)] if k else []) + line
            return characters
        return '\n'.join(''.join(c.text for c in line) for line in lines)

    def _line_models(self):
        """(language, spacing) models beside the weights, each None when absent: read_text then goes by the
        networks alone and puts spaces by a fixed rule."""
        if not hasattr(self, 'line_models'):
            found = []
            for name, kind in ((LANGUAGE_FILE, LanguageModel), (SPACING_FILE, SpaceModel)):
                path = os.path.join(os.path.dirname(self.weights_path or ''), name)
                found.append(kind.load(path) if self.weights_path and os.path.isfile(path) else None)
            self.line_models = tuple(found)
        return self.line_models

    def _symbol_probabilities(self, views):
        if getattr(self, 'symbol_network', None) is None:
            self.symbol_network = load_symbol_network(self.weights_path, twin=self.runtime != 'keras')
        return self.symbol_network(views)

    def _rank_line_glyphs(self, glyphs):
        """read_text's syllable ranker: the best SYLLABLES_ASKED (syllable, probability) per glyph, by the
        model's int8 twin (``MODEL_TWIN_FILE`` beside the weights, made from them) when it can run."""
        if not hasattr(self, 'model_twin'):
            twin = os.path.join(os.path.dirname(self.weights_path or ''), MODEL_TWIN_FILE)
            usable = self.weights_path and self.runtime != 'keras'
            self.model_twin = line_twins.load_twin(twin, self.weights_path) if usable else None
        if self.model_twin is None:
            return self.rank(glyphs, reading.SYLLABLES_ASKED, True)
        outputs = self.model_twin(model_inputs(glyphs, self.image_size))
        return ranked(outputs, self.charset, reading.SYLLABLES_ASKED, True)

    def export(self, path, format='saved_model', **options):
        """Write the network for serving: 'saved_model' (a folder: raw image bytes or pixels in, top-5
        syllables out, preprocessing in TensorFlow ops), 'tflite' (float32), 'tflite-int8' (full integer,
        calibrated on ``representative_size`` rendered glyphs) or 'tflite-fp16' (float16 weights); see
        ``utils/inference/export.py``."""
        from utils.inference.export import export_model
        export_model(inference_model(self.model), dataclasses.asdict(self.config), ''.join(self.charset), path,
                     format, **options)

    def save(self, path, include_optimizer=False):
        """Save the model (.keras or .h5), without the optimizer's state unless asked: a third of the
        size, which is what a shipped model needs; or its LiteRT twin (.tflite) for fast inference.
        Only a save with the optimizer (a checkpoint to resume) keeps the discriminator of adversarial learning."""
        serving = inference_model(self.model)
        if path.endswith('.tflite'):
            lite.export_tflite(serving, path, info=(dataclasses.asdict(self.config), ''.join(self.charset)))
            return
        if include_optimizer:
            callbacks.save_model(self.model, path)
            return
        bare = keras.Model.from_config(serving.get_config())
        bare.set_weights(serving.get_weights())
        callbacks.save_model(bare, path)
