"""The issue's other design for reading lines, measured: a CRNN with CTC over jamo tokens (``network/crnn.py``,
``utils/data/line_tokens.py``), trained here for a fixed time on the lines the shipped reader trains on (the
training fonts' faces, ``corpus.text_lines('train')``, random letter spacing, half mildly photographed),
then read on bench/lines.py's held-out faces and text, clean and with the scan look.

    nice -n 10 python bench/crnn.py --minutes 60 --checkpoint /tmp/crnn/crnn.keras   # trains (resumes), measures
    python bench/crnn.py --minutes 0 --checkpoint /tmp/crnn/crnn.keras                # measures only

Writes the table (markdown) and ``--out`` (JSON: the options, steps and lines trained, the CERs, lines/s).
"""
import argparse
import os
import sys
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lines as bench_lines  # noqa: E402
from network.crnn import HEIGHT  # noqa: E402
from utils.data import line_tokens  # noqa: E402
from utils.inference import segment  # noqa: E402
from utils.io import read_json, write_json  # noqa: E402

MARGIN = 0.15   # of the ink's height: paper kept around a line's ink


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--minutes', type=float, default=60, help='training time (0: measure the checkpoint)')
    parser.add_argument('--checkpoint', required=True, help='the .keras file trained into (resumed if there)')
    parser.add_argument('--batch_size', type=int, default=32)
    parser.add_argument('--learning_rate', type=float, default=0.001)
    parser.add_argument('--lines', type=int, default=50, help='held-out lines per face per condition')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'crnn.json'))
    return parser.parse_args(argv)


def line_input(gray):
    """Any image of one line -> uint8 (HEIGHT, W): stretched (ink 0, paper 255), cut to its ink with a margin
    and scaled to HEIGHT rows; a blank strip when it holds no ink."""
    stretched = segment.stretched_page(gray)
    ink = None if stretched is None else stretched < segment.INK_LEVEL
    if ink is None or not ink.any():
        return np.full((HEIGHT, HEIGHT), 255, np.uint8)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    pad = int(np.ceil(MARGIN * (rows[-1] - rows[0] + 1)))
    top, bottom = max(0, rows[0] - pad), min(ink.shape[0], rows[-1] + 1 + pad)
    left, right = max(0, columns[0] - pad), min(ink.shape[1], columns[-1] + 1 + pad)
    crop = Image.fromarray(stretched[top:bottom, left:right])
    width = max(8, round(crop.width * HEIGHT / crop.height))
    return np.asarray(crop.resize((width, HEIGHT), Image.BILINEAR))


def training_lines(seed):
    """Endless (image, tokens) of training lines, as the shipped reader's symbol and spacing data draw them."""
    from utils.data.corpus import text_lines
    from utils.data.fonts import split_faces
    from utils.data.lines import LineRenderer
    from utils.training.symbol_data import augment_line

    faces = [face for face, (side, _) in split_faces(bench_lines.VAL_RATIO, 0).items() if side == 'train']
    texts = text_lines('train')
    rng = np.random.default_rng(seed)
    renderers = {}
    while True:
        face = faces[rng.integers(len(faces))]
        if face not in renderers:
            renderers[face] = LineRenderer(face.path, 40, face.index)
        renderer = renderers[face]
        text = texts[rng.integers(len(texts))]
        if not renderer.covers(text):
            continue
        gray, _ = renderer.render(text, letter_spacing=rng.uniform(-0.04, 0.12))
        if rng.random() < 0.5:
            gray, _ = augment_line(gray, rng)
        yield line_input(gray), np.array(line_tokens.encode(text), np.int32)


def state_file(checkpoint):
    """Where the steps and lines trained into ``checkpoint`` are kept: beside it, as .json."""
    return os.path.splitext(checkpoint)[0] + '.json'


def train(args, network):
    """Train ``network`` for --minutes, saving it to --checkpoint every 200 steps and at the end; returns the
    (steps, lines) trained in all, this run's and earlier ones'."""
    import keras
    import tensorflow as tf

    state_path = state_file(args.checkpoint)
    state = read_json(state_path, 'a CRNN training state') if os.path.isfile(state_path) else {'steps': 0, 'lines': 0}
    data = tf.data.Dataset.from_generator(
        lambda: training_lines(args.seed + state['steps']),
        output_signature=(tf.TensorSpec((HEIGHT, None), tf.uint8), tf.TensorSpec((None,), tf.int32)))
    data = data.padded_batch(args.batch_size, padded_shapes=([HEIGHT, None], [None]),
                             padding_values=(np.uint8(255), line_tokens.BLANK)).prefetch(2)
    optimizer = keras.optimizers.Adam(args.learning_rate)

    @tf.function(input_signature=[tf.TensorSpec((None, HEIGHT, None), tf.uint8),
                                  tf.TensorSpec((None, None), tf.int32)])
    def step(images, tokens):
        with tf.GradientTape() as tape:
            logits = network(images[..., None], training=True)
            frames = tf.fill([tf.shape(logits)[0]], tf.shape(logits)[1])
            lengths = tf.reduce_sum(tf.cast(tokens != line_tokens.BLANK, tf.int32), axis=1)
            loss = tf.reduce_mean(tf.nn.ctc_loss(tokens, logits, lengths, frames, logits_time_major=False,
                                                 blank_index=line_tokens.BLANK))
        optimizer.apply_gradients(zip(tape.gradient(loss, network.trainable_variables),
                                      network.trainable_variables))
        return loss

    def save():
        network.save(args.checkpoint)
        write_json(state_path, state)

    started, losses = None, []
    for images, tokens in data:
        started = started or time.time()  # from the first batch: loading the fonts and text is not training
        if time.time() - started > 60 * args.minutes:
            break
        losses.append(float(step(images, tokens)))
        state['steps'] += 1
        state['lines'] += int(images.shape[0])
        if state['steps'] % 200 == 0:
            print(f"step {state['steps']}: CTC loss {np.mean(losses):.3f} "
                  f"({(time.time() - started) / 60:.1f} min)", flush=True)
            losses = []
            save()
    save()
    return state


def reader(network):
    """read(gray line) -> text, by CTC's best path."""
    import tensorflow as tf

    run = tf.function(lambda images: network(images, training=False),
                      input_signature=[tf.TensorSpec((1, HEIGHT, None, 1), tf.float32)])
    return lambda gray: line_tokens.decode(line_tokens.greedy(
        run(line_input(gray)[None, ..., None].astype(np.float32))[0].numpy()))


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import keras

    import network  # noqa: F401  registers InkScale
    from network.crnn import build_crnn
    from utils.data import corpus

    os.makedirs(os.path.dirname(os.path.abspath(args.checkpoint)), exist_ok=True)
    if os.path.isfile(args.checkpoint):
        crnn = keras.models.load_model(args.checkpoint)
    else:
        keras.utils.set_random_seed(args.seed)
        crnn = build_crnn(line_tokens.TOKENS)
    state = train(args, crnn) if args.minutes > 0 else read_json(state_file(args.checkpoint), 'a CRNN training state')
    faces = bench_lines.held_out_faces()
    pool = corpus.text_lines('heldout', count=bench_lines.SAMPLE_POOL, seed=args.seed)
    records, seconds = bench_lines.read_all(faces, pool, {'crnn': reader(crnn)}, args.lines, 40, args.seed)
    summary = bench_lines.summarise(records, seconds)
    print(bench_lines.markdown_table(summary))
    write_json(args.out, dict(command='python bench/crnn.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
                              parameters=int(crnn.count_params()), trained=state, **summary))


if __name__ == '__main__':
    sys.exit(main())
