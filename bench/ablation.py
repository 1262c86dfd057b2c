"""The ablation table: each method of the seed against one baseline recipe, same data, seed and budget.

    nice -n 10 python bench/ablation.py --data_path ./data --val_path ./val_data            # every row
    nice -n 10 python bench/ablation.py --rows baseline adversarial --budget long

The baseline is the shipped recipe (compact, width 0.75, 48 px, GWAP, jamo heads, augmentation, Adam 0.002 on a
cosine schedule, batch 128, seed 0); every other row changes one thing (two baseline rows only the seed, to
show how far a row moves by chance). A budget is a fixed subset of the
training patches (every k-th patch of each kind, the same for every row) and a number of epochs over it.
After training, each row is measured on the held-out fonts of --val_path (printed and handwriting-style top-1,
all of its images), on bench/robustness.py's combined photo/scan degradations of the same held-out fonts
(--robust_per_font syllables per face), for size and speed. Rows are appended to --out (JSON lines) as they
finish; a row already there for the same budget is skipped, so a stopped run resumes where it was.
Prints the Markdown table of every row in --out.
"""
import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BASELINE = dict(network='compact', width=0.75, image_size=48, fc_link='GWAP', split_components=True,
                data_augmentation=True)
TRAINING = dict(optimizer='adam', learning_rate=0.002, lr_schedule='cosine', batch_size=128, seed=0,
                patch_size=40, silent_mode=True, log_tensorboard=False)
ROWS = {
    'baseline': {},
    # The same recipe at other seeds: how far a short run moves by chance alone.
    'baseline seed 1': dict(seed=1),
    'baseline seed 2': dict(seed=2),
    'adversarial': dict(adversarial_learning=True),
    # The printed twins and the discriminator without the reversal: what the extra printed data does alone.
    'printed twins, no reversal': dict(adversarial_learning=True, fit_discriminator=True),
    'refinement t=2': dict(iterative_refinement=True, refinement_t=2),
    'refinement t=4': dict(iterative_refinement=True, refinement_t=4),
    'direct_map': dict(direct_map=True),
    'hybrid loss': dict(loss='hybrid'),
    'complete': dict(split_components=False),
    'densenet': dict(network='densenet'),
    'densenet decoder': dict(network='densenet', decoder=True),
    'fc_link flatten': dict(fc_link=''),
    'fc_link GAP': dict(fc_link='GAP'),
    'fc_link GWOAP': dict(fc_link='GWOAP'),
    'fire': dict(network='fire', width=1.0),
    'melnyk': dict(network='melnyk', width=1.0),
}
# (every k-th training patch of each kind, epochs); an 'unseen' budget trains without the syllables of
# UNSEEN and measures top-1 on exactly those (held-out fonts), and over all 11,172 syllables.
BUDGETS = {'short': (6, 1), 'long': (2, 2), 'short unseen': (6, 1), 'long unseen': (2, 2)}
UNSEEN = os.path.join(ROOT, 'files', 'unseen_ksx1001.txt')  # 235 syllables: 10% of KS X 1001, fixed


def subset(data_path, stride, folder):
    """Link every ``stride``-th patch of each kind of ``data_path`` into ``folder``; the images it holds."""
    from utils.data.patches import KINDS, list_patches, read_patch
    os.makedirs(folder, exist_ok=True)
    count = 0
    for kind in KINDS:
        for path in list_patches(data_path, [kind])[::stride]:
            os.symlink(os.path.abspath(path), os.path.join(folder, os.path.basename(path)))
            count += len(read_patch(path).labels)
    return count


def top1_on(predictions, charset, syllables):
    """Top-1 over the images whose label is one of ``syllables``."""
    labels = np.asarray(list(charset))[predictions.truth]
    return float(predictions.correct[np.isin(labels, list(syllables))].mean())


def measure(ocr, val_path, robust_found, unseen=False):
    """The row's figures after training."""
    import robustness
    from tesseract_vs_koocr import GROUPS
    from utils.data.dataset import Labeler, PatchDataset
    from utils.data.hangul import load_charset
    from utils.evaluation.predictions import predict_dataset
    labeler = Labeler(ocr.config.split_components, ocr.charset)
    dataset = PatchDataset(val_path, ocr.image_size, labeler, shuffle=False)
    predictions = predict_dataset(ocr.model, ocr.charset, dataset, top_n=5, progress=False)
    figures = {}
    for group, kinds in GROUPS.items():
        mask = np.isin(predictions.kinds, kinds)
        if mask.any():
            figures[f'{group}_top1'] = float(predictions.correct[mask].mean())
    if unseen:
        figures['unseen_top1'] = top1_on(predictions, ocr.charset, load_charset(UNSEEN))
        if ocr.config.split_components:  # jamo outputs name any syllable; one softmax only its charset
            everything = predict_dataset(ocr.model, load_charset('all'), dataset, top_n=1, progress=False)
            figures['all_syllables_top1'] = float(everything.correct.mean())
    answers = robustness.koocr_answers(ocr, robustness.crops(robust_found, 'combined', 0))
    for group, scores in robustness.by_group(robust_found, answers).items():
        figures[f'combined_{group}_top1'] = scores['top1']
    return figures


def speed(ocr, folder):
    """Parameters and size of the shipped save, ms for one image through predict, batched img/s through rank."""
    import model
    path = os.path.join(folder, 'row.keras')
    ocr.save(path)
    served = model.KoOCR(weights=path, runtime='keras')
    from utils.evaluation.speed import timed
    image = np.full((60, 60), 255, np.uint8)
    image[15:45, 28:32] = 0
    ms, per_s = timed(lambda: served.predict(image), served.rank, ocr.image_size, calls=50, warmup=5)
    return dict(parameters=int(served.model.count_params()), keras_mb=os.path.getsize(path) / 2 ** 20,
                ms_per_image=ms, batched_img_s=per_s)


def row_options(name):
    """(KoOCR's network options, ocr.train's options) of a row: the baseline with the row's change."""
    from utils.config import TrainConfig
    trains = {f.name for f in dataclasses.fields(TrainConfig)}
    change = ROWS[name]
    return ({**BASELINE, **{k: v for k, v in change.items() if k not in trains}},
            {**TRAINING, **{k: v for k, v in change.items() if k in trains}})


def run_row(name, budget, data, images, args, robust_found):
    """Train and measure one row on the budget's subset ``data`` (``images`` images)."""
    import keras
    import model
    stride, epochs = BUDGETS[budget]
    keras.backend.clear_session()
    with tempfile.TemporaryDirectory() as folder:
        network, training = row_options(name)
        unseen = budget.endswith('unseen')
        if unseen:
            training['exclude_syllables'] = UNSEEN
        ocr = model.KoOCR(weights=None, **network)
        started = time.perf_counter()
        ocr.train(data_path=data, val_path='', log_dir=os.path.join(folder, 'logs'), epochs=epochs, **training)
        seconds = time.perf_counter() - started
        row = dict(row=name, budget=budget, epochs=epochs, patch_stride=stride, train_images=images,
                   train_seconds=round(seconds), train_img_s=images * epochs / seconds,
                   network=network, training=training)
        row.update(measure(ocr, args.val_path, robust_found, unseen))
        row.update(speed(ocr, folder))
    return row


def done_rows(path):
    if not os.path.isfile(path):
        return []
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def append_row(path, row):
    """Append one JSON line (rewritten atomically with the rows before it)."""
    from utils.io import write_text
    text = ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in done_rows(path) + [row])
    write_text(path, text)


def table(rows):
    pct = lambda v: '' if v is None else f'{v:.1%}'  # noqa: E731
    head = ['row', 'budget', 'held-out printed top-1', 'held-out handwriting top-1', 'combined printed',
            'combined handwriting', 'unseen syllables', 'all 11,172', 'parameters', '.keras MB', 'ms/image (Keras)',
            'batched img/s', 'training img/s']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in rows:
        lines.append('| ' + ' | '.join([
            r['row'], f"{r['budget']} ({r['train_images']:,} img × {r['epochs']})", pct(r.get('printed_top1')),
            pct(r.get('handwriting_top1')), pct(r.get('combined_printed_top1')),
            pct(r.get('combined_handwriting_top1')), pct(r.get('unseen_top1')), pct(r.get('all_syllables_top1')),
            f"{r['parameters']:,}", f"{r['keras_mb']:.1f}",
            f"{r['ms_per_image']:.1f}", f"{r['batched_img_s']:,.0f}", f"{r['train_img_s']:.0f}"]) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data_path', default='./data', help='training patches (crawl_data.py at 48 px)')
    parser.add_argument('--val_path', default='./val_data', help='held-out patches and their manifest.tsv')
    parser.add_argument('--rows', nargs='+', default=list(ROWS), choices=list(ROWS))
    parser.add_argument('--budget', default='short', choices=list(BUDGETS))
    parser.add_argument('--robust_per_font', type=int, default=40, help='syllables per held-out face, combined')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'ablation.jsonl'))
    args = parser.parse_args(argv)
    import robustness
    robust_found = robustness.glyphs(robustness.held_out_faces(args.val_path), args.robust_per_font, 0)
    todo = [name for name in args.rows
            if not any(r['row'] == name and r['budget'] == args.budget for r in done_rows(args.out))]
    for name in sorted(set(args.rows) - set(todo), key=args.rows.index):
        print(f'{name} ({args.budget}): already in {args.out}', flush=True)
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, 'data')
        images = subset(args.data_path, BUDGETS[args.budget][0], data) if todo else 0
        for name in todo:
            row = run_row(name, args.budget, data, images, args, robust_found)
            append_row(args.out, row)
            print(f"{name} ({args.budget}): printed {row.get('printed_top1', 0):.1%}, handwriting "
                  f"{row.get('handwriting_top1', 0):.1%}, {row['train_seconds']} s", flush=True)
    print(table(done_rows(args.out)))


if __name__ == '__main__':
    main()
