"""utils/config.py: every string switch and numeric range is checked when a config is made, before any data
is read; unbuilt methods refuse in one place; a run's recorded config can be run again (train.py --config)."""
import dataclasses
import json

import pytest

import train
from utils import config
from utils.config import EvaluateConfig, NetworkConfig, TrainConfig, parse_kinds, read_config_file


SWITCHES = [(NetworkConfig, 'network', config.NETWORKS), (NetworkConfig, 'fc_link', config.FC_LINKS),
            (TrainConfig, 'optimizer', config.OPTIMIZERS), (TrainConfig, 'lr_schedule', config.LR_SCHEDULES)]


@pytest.mark.parametrize('cls,field,value', [(cls, field, value) for cls, field, values in SWITCHES
                                             for value in values])
def test_every_allowed_switch_value_is_accepted(cls, field, value):
    assert getattr(cls(**{field: value}), field) == value


@pytest.mark.parametrize('cls,field,value,allowed', [
    (NetworkConfig, 'network', 'resnet', 'melnyk'),
    (NetworkConfig, 'fc_link', 'GMP', 'GWOAP'),
    (TrainConfig, 'optimizer', 'rmsprop', 'adabound'),
    (TrainConfig, 'lr_schedule', 'step', 'cosine'),
])
def test_an_unknown_switch_is_refused_quoting_the_value_and_the_choices(cls, field, value, allowed):
    with pytest.raises(ValueError, match=rf"{field}='{value}'; choose from .*'{allowed}'"):
        cls(**{field: value})


@pytest.mark.parametrize('charset', ['', None, 3])
def test_a_charset_must_be_a_name_or_a_file(charset):
    with pytest.raises(ValueError, match="charset=.*choose from \\('ksx1001', 'all'\\)"):
        NetworkConfig(charset=charset)


def test_kinds_are_parsed_once_into_a_list():
    assert TrainConfig(kinds='printed, clova').kinds == ['printed', 'clova']
    assert TrainConfig(kinds='').kinds == [] and EvaluateConfig().kinds == []
    assert TrainConfig(kinds=['handwritten']).kinds == ['handwritten']
    assert parse_kinds(',printed,,') == ['printed']
    with pytest.raises(ValueError, match="unknown data kinds \\['typed'\\]"):
        EvaluateConfig(kinds='printed,typed')


@pytest.mark.parametrize('cls,field,bad,good', [
    (NetworkConfig, 'image_size', 7, 8), (NetworkConfig, 'width', 0, 0.25), (NetworkConfig, 'refinement_t', 0, 1),
    (TrainConfig, 'batch_size', 0, 1), (TrainConfig, 'epochs', 0, 1), (TrainConfig, 'learning_rate', 0.0, 1e-6),
    (TrainConfig, 'patch_size', 0, 1), (TrainConfig, 'adversarial_ratio', -0.1, 0.0),
    (EvaluateConfig, 'top_n', 0, 1), (EvaluateConfig, 'class_activation_n', 0, 1), (EvaluateConfig, 'patch_size', 0, 1),
])
def test_numbers_out_of_range_are_refused(cls, field, bad, good):
    assert getattr(cls(**{field: good}), field) == good
    with pytest.raises(ValueError, match=rf'{field}={bad!r}: must be'):
        cls(**{field: bad})
    with pytest.raises(ValueError, match=rf"{field}='8': expected a number"):
        cls(**{field: '8'})


def test_a_bad_option_fails_before_any_data_is_read(tmp_path):
    with pytest.raises(ValueError, match="optimizer='adamw'"):
        train.main([f'--data_path={tmp_path / "nowhere"}', '--optimizer=adamw', '--network=compact'])


def test_a_config_file_gives_the_defaults_and_flags_override_it(tmp_path):
    path = tmp_path / 'run.json'
    path.write_text(json.dumps({'network': 'compact', 'image_size': 32, 'epochs': 7, 'kinds': ['printed']}))
    args = train.parse_args([f'--config={path}', '--epochs=3'])
    assert (args.network, args.image_size, args.epochs, args.kinds) == ('compact', 32, 3, 'printed')
    assert args.from_config == {'network', 'image_size', 'epochs', 'kinds'}
    assert TrainConfig(**config.pick(TrainConfig, args)).kinds == ['printed']


def test_a_run_record_is_a_config_file(tmp_path):
    """train_state.json and a shipped config.json keep the options under 'network' and 'train' beside
    other facts (epochs done, the command): those are read, the rest is not an option."""
    record = {'epoch': 3, 'best': 0.5, 'monitor': 'val_top1', 'command': 'train.py',
              'network': config.as_record(NetworkConfig(network='fire', image_size=48)),
              'train': config.as_record(TrainConfig(batch_size=64, kinds='clova'))}
    path = tmp_path / 'train_state.json'
    path.write_text(json.dumps(record))
    options = read_config_file(str(path), NetworkConfig, TrainConfig)
    assert options['network'] == 'fire' and options['batch_size'] == 64 and 'epoch' not in options
    assert NetworkConfig(**config.pick(NetworkConfig, options)) == NetworkConfig(network='fire', image_size=48)
    args = train.parse_args([f'--config={path}'])
    assert (args.network, args.image_size, args.batch_size, args.kinds) == ('fire', 48, 64, 'clova')


def test_a_bad_config_file_names_itself(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json: no such config file'):
        read_config_file(str(tmp_path / 'missing.json'), TrainConfig)
    path = tmp_path / 'typo.json'
    path.write_text(json.dumps({'epohcs': 3}))
    with pytest.raises(ValueError, match=r"typo.json: unknown options \['epohcs'\]"):
        read_config_file(str(path), NetworkConfig, TrainConfig)
    path.write_text('{')
    with pytest.raises(ValueError, match='typo.json: not a KoOCR config'):
        read_config_file(str(path), TrainConfig)


def test_the_shipped_config_records_every_option(repo_root):
    path = f'{repo_root}/pretrained/compact48_w075_split/config.json'
    options = read_config_file(path, NetworkConfig, TrainConfig)
    names = {f.name for cls in (NetworkConfig, TrainConfig) for f in dataclasses.fields(cls)}
    assert set(options) == names
    assert NetworkConfig(**config.pick(NetworkConfig, options)).network == 'compact'
