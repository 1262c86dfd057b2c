"""The import graph runs one way: scripts -> model.py -> network/, utils/; utils never imports network, and
no module of utils imports itself back through another (a cycle)."""
import ast
import glob
import os

from conftest import ROOT


def _module_name(path):
    return os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.').removesuffix('.__init__')


def _imports(path):
    """Every module a file imports (function-level imports included), as dotted names."""
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f'{node.module}.{alias.name}' for alias in node.names]
    return names


def _utils_graph():
    files = glob.glob(os.path.join(ROOT, 'utils', '**', '*.py'), recursive=True)
    modules = {_module_name(path): path for path in files}
    graph = {name: sorted({i for i in _imports(path) if i in modules and i != name}) for name, path in modules.items()}
    return graph, {name: _imports(path) for name, path in modules.items()}


def test_utils_never_imports_network():
    _, imports = _utils_graph()
    offending = {name: [i for i in found if i == 'network' or i.startswith('network.')]
                 for name, found in imports.items()}
    assert {name: found for name, found in offending.items() if found} == {}


def test_utils_has_no_import_cycle():
    graph, _ = _utils_graph()
    # A package's __init__ importing nothing, a module's edge to its package is no cycle of code.
    state, cycles = {}, []

    def visit(node, path):
        state[node] = 'open'
        for child in graph[node]:
            if state.get(child) == 'open':
                cycles.append(path[path.index(child):] + [child])
            elif child not in state:
                visit(child, path + [child])
        state[node] = 'done'

    for node in graph:
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_walk_sees_function_level_imports(tmp_path):
    path = tmp_path / 'sample.py'
    path.write_text('def f():\n    from network.layers import DirectMap\n    import network\n')
    assert {'network.layers', 'network'} <= set(_imports(str(path)))


def test_every_utils_package_says_what_it_serves():
    for init in glob.glob(os.path.join(ROOT, 'utils', '*', '__init__.py')):
        docstring = ast.get_docstring(ast.parse(open(init, encoding='utf-8').read()))
        assert docstring and len(docstring.split()) > 15, init


def test_network_imports_only_the_label_encoding_of_utils():
    for path in glob.glob(os.path.join(ROOT, 'network', '*.py')):
        used = {i for i in _imports(path) if i.startswith('utils')}
        assert used <= {'utils.data.hangul', 'utils.data.hangul.output_sizes', 'utils.data',
                        'utils.data.hangul.COMPONENTS', 'utils.data.hangul.DOMAIN_OUTPUT'}, (path, used)


def test_names_utils_repeats_from_network_agree():
    import network
    from network.layers import POOLINGS
    from utils import config
    from utils.evaluation import gradcam
    assert set(config.NETWORKS) == set(network.BACKBONES)
    assert config.FC_LINKS == POOLINGS
    assert gradcam.FEATURES_LAYER == network.FEATURES_LAYER
