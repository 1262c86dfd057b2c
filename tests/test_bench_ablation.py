"""bench/ablation.py: the same patch subset for every row, rows appended as they finish, a resumed run skips
the rows it has, and the table shows every row."""
import importlib
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
ablation = importlib.import_module('ablation')

FIGURES = dict(printed_top1=0.9, handwriting_top1=0.8, combined_printed_top1=0.7, combined_handwriting_top1=0.6,
               parameters=1000, keras_mb=0.5, ms_per_image=2.0, batched_img_s=900.0, train_img_s=300.0,
               train_images=40, epochs=1, train_seconds=1)


def test_every_row_changes_one_thing_from_the_baseline():
    assert ablation.ROWS['baseline'] == {}
    for name, change in ablation.ROWS.items():
        assert len(change) <= 2 and set(change) <= set(ablation.BASELINE) | {
            'adversarial_learning', 'fit_discriminator', 'loss', 'decoder', 'iterative_refinement', 'refinement_t',
            'direct_map', 'seed'}, name
    network, training = ablation.row_options('printed twins, no reversal')
    assert network['adversarial_learning'] and 'fit_discriminator' not in network and training['fit_discriminator']
    assert ablation.row_options('baseline seed 1')[1]['seed'] == 1


def test_subset_takes_every_kth_patch_of_each_kind(patch_dirs, tmp_path):
    train_dir, _, counts = patch_dirs  # printed_0 (20), printed_1 (11), handwritten_0 (15)
    assert ablation.subset(train_dir, 2, str(tmp_path / 'two')) == 20 + 15
    assert sorted(os.listdir(tmp_path / 'two')) == ['handwritten_0.npz', 'printed_0.pickle']
    assert ablation.subset(train_dir, 1, str(tmp_path / 'all')) == sum(counts.values())


def test_rows_are_appended_as_they_finish_and_a_rerun_skips_them(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / 'ablation.jsonl')
    trained, subsets = [], []

    def fake_row(name, budget, data, images, args, found):
        trained.append(name)
        return dict(row=name, budget=budget, **FIGURES)

    def fake_subset(data_path, stride, folder):
        subsets.append(stride)
        return 40

    monkeypatch.setattr(ablation, 'run_row', fake_row)
    monkeypatch.setattr(ablation, 'subset', fake_subset)
    monkeypatch.setattr(importlib.import_module('robustness'), 'held_out_faces', lambda path: {})
    monkeypatch.setattr(importlib.import_module('robustness'), 'glyphs', lambda faces, n, seed: [])
    ablation.main(['--rows', 'baseline', 'direct_map', '--out', out])
    ablation.main(['--rows', 'baseline', 'fire', '--out', out])
    assert trained == ['baseline', 'direct_map', 'fire']
    assert subsets == [6, 6]  # one subset per run for all its rows, none when nothing is left to train
    ablation.main(['--rows', 'fire', '--out', out])
    assert subsets == [6, 6]
    rows = [json.loads(line) for line in open(out, encoding='utf-8')]
    assert [r['row'] for r in rows] == ['baseline', 'direct_map', 'fire']
    ablation.main(['--rows', 'baseline', '--budget', 'long', '--out', out])  # another budget is another row
    assert trained[-1] == 'baseline' and len(ablation.done_rows(out)) == 4
    table = capsys.readouterr().out.split('| row |')[-1]
    assert table.count('\n|') == 5 and '90.0%' in table and 'long (40 img × 1)' in table


def test_top1_on_counts_only_the_images_of_the_syllables_asked():
    from types import SimpleNamespace
    truth = np.array([0, 1, 2, 1])
    predictions = SimpleNamespace(truth=truth, correct=np.array([True, False, True, True]))
    assert ablation.top1_on(predictions, '가각간', '각') == 0.5  # the two 각 images: one right
    assert ablation.top1_on(predictions, '가각간', ['가', '간']) == 1.0
