"""Evaluate a model on patches (``evaluate.py``'s work): ``evaluate(ocr, EvaluateConfig)``.

From the record of one prediction pass (``predictions``): accuracy per data kind and font, confusion
matrices (split mode) or confused pairs (complete mode), the figures, and metrics.json.
"""
import datetime
import os
import unicodedata

import numpy as np
from sklearn.metrics import confusion_matrix

from utils.config import EvaluateConfig
from utils.data import hangul, patches
from utils.data.dataset import Labeler, PatchDataset
from utils.evaluation import gradcam, plots
from utils.evaluation.predictions import gather_images, predict_dataset
from utils.inference import BATCH_SIZE
from utils.inference.topn import top_n_syllables
from utils.io import write_json

WRONG_EXAMPLES = 50      # misread images shown per data kind
CONFUSED_PAIRS = 16      # pairs listed and drawn per data kind
PAIR_SAMPLES = 6         # images drawn per pair
AUGMENTED_IMAGES = 3     # training images per data kind in the augmentation sheet
AUGMENTED_VERSIONS = 5


def default_output_dir(weights_path):
    """pretrained/NAME/model.keras -> pretrained/NAME_evaluation; other weights -> <their dir>/evaluation."""
    folder = os.path.dirname(os.path.abspath(weights_path))
    if os.path.basename(os.path.dirname(folder)) == 'pretrained':
        return f'{folder}_evaluation'
    return os.path.join(folder, 'evaluation')


def data_image_size(folder, kinds=None):
    """Side of the images in the first patch of ``folder``."""
    paths = patches.list_patches(folder, kinds)
    if not paths:
        raise ValueError(f'{folder}: no patches (<kind>_<n>.pickle or .npz) of kinds {kinds or patches.KINDS}')
    return patches.read_patch(paths[0]).images.shape[1]


def check_options(ocr, config, image_size=None, split_components=None):
    """Refuse an --image_size or --split_components the model or the data cannot honour."""
    where = ocr.weights_path or 'the model'
    if split_components is not None and split_components != ocr.config.split_components:
        raise ValueError(f'--split_components={split_components}, but {where} was built with '
                         f'split_components={ocr.config.split_components}')
    if image_size and image_size != ocr.image_size:
        raise ValueError(f'--image_size={image_size}, but {where} takes {ocr.image_size}x{ocr.image_size} images')
    if config.accuracy or config.confusion_matrix or config.class_activation:
        size = data_image_size(config.data_path, config.kinds or None)
        if size != ocr.image_size:
            raise ValueError(f'the images in {config.data_path} are {size}x{size}, but the model takes '
                             f'{ocr.image_size}x{ocr.image_size} (--image_size); evaluate on patches '
                             f'crawled at --image_size={ocr.image_size}')


def scores(predictions, mask, top_n):
    """Accuracy of the images in ``mask``: top-1, top-n and, in split mode, per jamo head and joint."""
    result = {'images': int(mask.sum()), 'top1': float(predictions.correct[mask].mean()),
              f'top{top_n}': float(predictions.in_top[mask].mean())}
    if predictions.jamo_pred is not None:
        right = predictions.jamo_pred[mask] == predictions.jamo_truth[mask]
        result.update({name: float(right[:, i].mean()) for i, name in enumerate(hangul.COMPONENTS)})
        result['joint'] = float(right.all(axis=1).mean())  # all three heads right, charset or not
    return result


def font_names(folder):
    """{font_id: manifest row} from ``folder/manifest.tsv``, or {} without one."""
    path = os.path.join(folder, 'manifest.tsv')
    return {row['font_id']: row for row in patches.read_manifest(path)} if os.path.isfile(path) else {}


def accuracy_report(predictions, top_n, manifest=None):
    """{'overall', 'kinds': {kind: ...}, 'fonts': [...]}: scores overall, per data kind and per font."""
    manifest = manifest or {}
    report = {'overall': scores(predictions, np.ones(len(predictions.truth), bool), top_n),
              'kinds': {kind: scores(predictions, predictions.kinds == kind, top_n)
                        for kind in predictions.kind_names()},
              'fonts': []}
    for font_id in np.unique(predictions.fonts[predictions.fonts >= 0]):
        mask = predictions.fonts == font_id
        row = manifest.get(int(font_id), {})
        report['fonts'].append({'font_id': int(font_id), 'family': row.get('family', f'font {font_id}'),
                                'style': row.get('style', ''), 'kind': row.get('kind', str(predictions.kinds[mask][0])),
                                **scores(predictions, mask, top_n)})
    return report


def component_confusions(predictions, mask):
    """{jamo head: int (K, K) confusion matrix (true rows, predicted columns)} of the images in ``mask``."""
    return {name: confusion_matrix(predictions.jamo_truth[mask, i], predictions.jamo_pred[mask, i],
                                   labels=range(len(jamo)))
            for i, (name, jamo) in enumerate(hangul.COMPONENTS.items())}


def confused_pairs(predictions, charset, mask, limit=CONFUSED_PAIRS):
    """The most frequent (truth -> top-1 answer) mistakes among ``mask``: dicts with truth, prediction,
    count, rate (share of the truth's images) and positions (up to PAIR_SAMPLES image positions)."""
    wrong = mask & ~predictions.correct
    keys = predictions.truth[wrong].astype(np.int64) * len(charset) + predictions.top[wrong, 0]
    found, counts = np.unique(keys, return_counts=True)
    per_truth = np.bincount(predictions.truth[mask], minlength=len(charset))
    pairs = []
    for i in np.lexsort((found, -counts))[:limit]:
        truth, answer = divmod(int(found[i]), len(charset))
        positions = np.flatnonzero(wrong & (predictions.truth == truth) & (predictions.top[:, 0] == answer))
        pairs.append({'truth': charset[truth], 'prediction': charset[answer], 'count': int(counts[i]),
                      'rate': float(counts[i] / per_truth[truth]), 'positions': positions[:PAIR_SAMPLES].tolist()})
    return pairs


def _percent(value):
    return f'{100 * value:.2f}%'


def _width(text):
    # Hangul takes two terminal columns: pad by display width, or Korean font names skew the table.
    return sum(2 if unicodedata.east_asian_width(char) in 'WF' else 1 for char in text)


def _table(headers, rows):
    """Text table: first column left-aligned, the others right-aligned."""
    lines = [[str(cell) for cell in line] for line in [headers] + rows]
    widths = [max(_width(cell) for cell in column) for column in zip(*lines)]
    return '\n'.join('  '.join(cell + ' ' * (w - _width(cell)) if i == 0 else ' ' * (w - _width(cell)) + cell
                               for i, (cell, w) in enumerate(zip(line, widths))).rstrip() for line in lines)


def format_accuracy(report, top_n, worst_fonts=10):
    """The accuracy report as text tables: per kind and overall, then the fonts read worst."""
    keys = [key for key in dict.fromkeys(['top1', f'top{top_n}', *hangul.COMPONENTS, 'joint'])
            if key in report['overall']]
    names = ['top-1' if key == 'top1' else f'top-{top_n}' if key == f'top{top_n}' else key for key in keys]
    rows = [[kind, f'{s["images"]:,}', *(_percent(s[k]) for k in keys)]
            for kind, s in [*report['kinds'].items(), ('all', report['overall'])]]
    text = _table(['kind', 'images', *names], rows)
    fonts = sorted(report['fonts'], key=lambda row: (row['top1'], row['font_id']))[:worst_fonts]
    if fonts:
        rows = [[f'{row["family"]} {row["style"]}'.strip(), row['kind'], f'{row["images"]:,}',
                 _percent(row['top1']), _percent(row[f'top{top_n}'])] for row in fonts]
        title = f'\nfonts read worst ({len(fonts)} of {len(report["fonts"])}):\n'
        text += title + _table(['font', 'kind', 'images', 'top-1', f'top-{top_n}'], rows)
    return text


def format_pairs(pairs):
    rows = [[f'{p["truth"]} → {p["prediction"]}', p['count'], _percent(p['rate'])] for p in pairs]
    return _table(['truth → answer', 'count', 'rate'], rows)


def _mistake_figures(ocr, dataset, predictions, out, confusions, wrong_examples):
    """Misread-image grids per kind (``wrong_examples``) and the confused-pair sheets of ``confusions``."""
    rng = np.random.default_rng(0)
    wrong_positions = {}
    for kind in predictions.kind_names() if wrong_examples else []:
        wrong = np.flatnonzero((predictions.kinds == kind) & ~predictions.correct)
        wrong_positions[kind] = np.sort(rng.choice(wrong, min(WRONG_EXAMPLES, len(wrong)), replace=False))
    needed = [p for positions in wrong_positions.values() for p in positions]
    needed += [p for pairs in confusions.values() for pair in pairs for p in pair['positions']]
    images = gather_images(dataset, needed)
    written = []
    for kind, positions in wrong_positions.items():
        if len(positions):
            captions = [f'{ocr.charset[predictions.truth[p]]}→{ocr.charset[predictions.top[p, 0]]}'
                        for p in positions]
            total = int((predictions.kinds == kind).sum())
            wrong = int(((predictions.kinds == kind) & ~predictions.correct).sum())
            written.append(plots.image_grid(
                [images[p] for p in positions], captions,
                f'{kind}: misread images (truth → top-1 answer), {len(positions)} of {wrong:,} '
                f'wrong out of {total:,}', os.path.join(out, f'wrong_{kind}.png'), colour=plots.WRONG))
    for kind, pairs in confusions.items():
        if pairs:
            written.append(plots.confused_pairs_figure(
                pairs, [[images[p] for p in pair['positions']] for pair in pairs],
                f'{kind}: most confused pairs (count · share of the true character)',
                os.path.join(out, f'confused_pairs_{kind}.png')))
    return written


def _component_figures(confusions, predictions, out):
    written = []
    for kind, matrices in confusions.items():
        images = int((predictions.kinds == kind).sum())
        for head, matrix in matrices.items():
            accuracy = np.trace(matrix) / max(1, matrix.sum())
            written.append(plots.confusion_figure(
                matrix, plots.jamo_labels(head),
                f'{kind} · {head}: {100 * accuracy:.1f}% right of {images:,} images',
                os.path.join(out, f'confusion_{kind}_{head}.png')))
    return written


def _sample_patch(folder, kind, count, rng, image_size=None, keep=None):
    """Up to ``count`` random images (and labels) of one random patch of a kind; ``keep`` filters labels."""
    paths = patches.list_patches(folder, [kind])
    patch = patches.read_patch(paths[rng.integers(len(paths))], image_size)
    usable = np.flatnonzero(keep(patch.labels) if keep else np.ones(len(patch.labels), bool))
    chosen = np.sort(rng.choice(usable, min(count, len(usable)), replace=False))
    return patch.images[chosen], patch.labels[chosen]


def _present_kinds(folder, kinds):
    return [kind for kind in patches.KINDS if (not kinds or kind in kinds) and patches.list_patches(folder, [kind])]


def class_activation_figures(ocr, folder, kinds, count, out):
    """One Grad-CAM sheet per data kind: ``count`` random images, a heat map and overlay per head."""
    rng = np.random.default_rng(0)
    labeler = Labeler(ocr.config.split_components, ocr.charset)
    written = []
    for kind in _present_kinds(folder, kinds):
        images, labels = _sample_patch(folder, kind, count, rng, ocr.image_size, labeler.keep)
        if not len(labels):
            continue
        outputs = ocr.model.predict(images[..., None].astype(np.float32), verbose=0)
        best, _ = top_n_syllables(outputs, ocr.charset, 1)
        answers = [ocr.charset[i] for i in best[:, 0]]
        titles = [(f'{truth}→{answer}', plots.RIGHT if truth == answer else plots.WRONG)
                  for truth, answer in zip(labels, answers)]
        truths = labeler.targets(labels)
        captions = {}
        for head in hangul.COMPONENTS if ocr.config.split_components else ():
            names, guessed = plots.jamo_labels(head), np.argmax(outputs[head], axis=1)
            captions[head] = [(names[g], plots.RIGHT) if g == t else (f'{names[t]}→{names[g]}', plots.WRONG)
                              for g, t in zip(guessed, truths[head])]
        maps = gradcam.grad_cam(ocr.model, images)
        written.append(plots.gradcam_figure(
            images, maps, titles, captions,
            f'{kind}: Grad-CAM of each head\'s answer on the "features" layer (truth → answer)',
            os.path.join(out, f'gradcam_{kind}.png')))
    return written


def augmentation_figure(ocr, folder, kinds, out, log=print):
    """Training images before and after the model's augmentation layer (training=True)."""
    rng = np.random.default_rng(0)
    layer = next((layer for layer in ocr.model.layers if layer.name == 'augmentation'), None)
    source = "the model's augmentation layer"
    if layer is None:  # network/ builds it: utils may not import network
        layer, source = ocr.default_augmentation(), 'a default GlyphAugmentation (the model has no augmentation layer)'
    log(f'show_augmentation: {source}')
    found = _present_kinds(folder, kinds)
    if not found:
        raise ValueError(f'{folder}: no training patches to show augmentation on (--train_data_path)')
    ink_scale = ocr.model.get_layer('ink_scale')
    originals, augmented, labels = [], [], []
    for kind in found:
        images, chars = _sample_patch(folder, kind, AUGMENTED_IMAGES, rng)
        ink = ink_scale(images.astype(np.float32))
        versions = [np.asarray(layer(ink, training=True))[..., 0] for _ in range(AUGMENTED_VERSIONS)]
        originals.extend(images)
        augmented.extend(np.stack(versions, axis=1))
        labels.extend(f'{kind}\n{char}' for char in chars)
    # Back from ink = 1 to the patches' ink-dark uint8 range.
    augmented = np.round(255 * (1 - np.clip(np.array(augmented), 0, 1))).astype(np.uint8)
    return plots.augmentation_figure(originals, augmented, labels, f'training images through {source}',
                                     os.path.join(out, 'augmentation.png'))


def _to_json(value):
    """numpy values and arrays (nested in dicts and lists) -> plain Python ones."""
    if isinstance(value, dict):
        return {key: _to_json(v) for key, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def evaluate(ocr, config=None, log=print, progress=True):
    """Do what ``config`` (an ``EvaluateConfig``) asks; figures and metrics.json go to its ``out``.

    Returns the metrics, with 'figures' listing every PNG written; metrics.json is written when
    --accuracy or --confusion_matrix ran."""
    config = config or EvaluateConfig()
    if not (config.out or ocr.weights_path):
        raise ValueError('a model built in memory has no folder of its own: give an output folder (out=...)')
    out = config.out or default_output_dir(ocr.weights_path)
    kinds = config.kinds or None
    metrics, figures = {'weights': ocr.weights_path, 'data_path': config.data_path}, []
    ran = config.accuracy or config.confusion_matrix
    if ran:
        metrics.update(_prediction_metrics(ocr, config, kinds, out, figures, log, progress))
    if config.class_activation:
        figures += class_activation_figures(ocr, config.data_path, kinds, config.class_activation_n, out)
    if config.show_augmentation:
        figures.append(augmentation_figure(ocr, config.train_data_path, kinds, out, log))
    for path in figures:
        log(f'figure: {path}')
    metrics = _to_json({**metrics, 'figures': figures})
    if ran:
        # Figures named relative to metrics.json's folder: the file stays right wherever the folder goes.
        write_json(os.path.join(out, 'metrics.json'),
                   {**metrics, 'figures': [os.path.relpath(path, out) for path in figures]})
        log(f'metrics: {os.path.join(out, "metrics.json")}')
    return metrics


def _prediction_metrics(ocr, config, kinds, out, figures, log, progress):
    """The prediction pass and everything computed from it: accuracy and confusion (returned), their
    figures (appended to ``figures``)."""
    labeler = Labeler(ocr.config.split_components, ocr.charset)
    dataset = PatchDataset(config.data_path, ocr.image_size, labeler, BATCH_SIZE, config.patch_size, kinds,
                           shuffle=False)
    predictions = predict_dataset(ocr.model, ocr.charset, dataset, config.top_n, progress)
    images = len(predictions.truth)
    metrics = {
        'image_size': ocr.image_size, 'network': ocr.config.network,
        'split_components': ocr.config.split_components, 'charset_size': len(ocr.charset),
        'kinds': predictions.kind_names(), 'top_n': config.top_n, 'images': images,
        'inference': {'images_per_s': images / max(predictions.seconds, 1e-9), 'seconds': predictions.seconds,
                      'batch_size': BATCH_SIZE, 'cpus': os.cpu_count(),
                      'timed': 'model.predict and top-n ranking'},
        'evaluated_at': datetime.datetime.now().astimezone().isoformat(timespec='seconds')}
    log(f'{images:,} images of {config.data_path}: {metrics["inference"]["images_per_s"]:.0f} images/s')
    if config.accuracy:
        metrics['accuracy'] = accuracy_report(predictions, config.top_n, font_names(config.data_path))
        log(format_accuracy(metrics['accuracy'], config.top_n))
    pairs = {}
    if config.confusion_matrix and ocr.config.split_components:
        matrices = {kind: component_confusions(predictions, predictions.kinds == kind)
                    for kind in predictions.kind_names()}
        metrics['confusion'] = {kind: {head: {'labels': hangul.COMPONENTS[head], 'matrix': matrix}
                                       for head, matrix in heads.items()} for kind, heads in matrices.items()}
        figures.extend(_component_figures(matrices, predictions, out))
    elif config.confusion_matrix:
        pairs = {kind: confused_pairs(predictions, ocr.charset, predictions.kinds == kind)
                 for kind in predictions.kind_names()}
        metrics['confusion'] = {kind: [{k: v for k, v in pair.items() if k != 'positions'} for pair in found]
                                for kind, found in pairs.items()}
        for kind, found in pairs.items():
            log(f'most confused ({kind}):\n{format_pairs(found)}')
    figures.extend(_mistake_figures(ocr, dataset, predictions, out, pairs, config.accuracy))
    return metrics
