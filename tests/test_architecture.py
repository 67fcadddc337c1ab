"""The package's layering: imports run one way, no cycle, no private name crosses a module.

Every import of ``nc_verify`` is read from the source (module-level and function-local
alike, by walking the syntax tree), so a cycle hidden inside a function is seen too.
Layers, lowest first: ``utils`` < ``objective`` < ``landscape`` < ``checks`` <
``runs`` / ``certify`` / ``deepnet`` < ``testing`` < ``cli`` (and the package root).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import nc_verify

ROOT = pathlib.Path(nc_verify.__file__).parent
LAYERS = {"utils": 0, "objective": 1, "landscape": 2, "checks": 3, "runs": 4, "certify": 4,
          "deepnet": 4, "testing": 5, "cli": 6, "__main__": 7, "__init__": 7}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path):
    """(imported module, imported names) for every ``nc_verify`` import in ``path``."""
    tree = ast.parse(path.read_text())
    pkg = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "nc_verify":
                yield mod, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "nc_verify":
                    yield a.name, []


def _layer(module: str) -> tuple[int, str]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return LAYERS[top], top


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _edges():
    """(importing module, imported module, names); ``from pkg import mod`` is an edge to ``pkg.mod``."""
    for name, path in MODULES.items():
        for target, names in _imports(path):
            submodules = [n for n in names if f"{target}.{n}" in MODULES]
            for n in submodules:
                yield name, f"{target}.{n}", []
            rest = [n for n in names if n not in submodules]
            if rest or not names:
                yield name, target, rest


def test_every_module_is_in_a_layer():
    unknown = sorted({m for m in MODULES if (m.split(".") + ["__init__"])[1] not in LAYERS})
    assert unknown == []


def test_imports_never_go_up_a_layer():
    bad = []
    for src, dst, _ in _edges():
        (ls, ts), (ld, td) = _layer(src), _layer(dst)
        if ls < ld or (ls == ld and ts != td and ts not in ("__init__", "__main__")):
            bad.append(f"{src} -> {dst}")
    assert bad == []


def test_no_private_name_crosses_modules():
    bad = []
    for src, dst, names in _edges():
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        if private and src != dst:
            bad.append(f"{src} imports {private} from {dst}")
        package = dst.rpartition(".")[0]
        if dst.rpartition(".")[2].startswith("_") and package not in (src, src.rpartition(".")[0]):
            bad.append(f"{src} imports the private module {dst}")
    assert bad == []


def test_import_graph_has_no_cycle():
    graph: dict[str, set] = {m: set() for m in MODULES}
    for src, dst, _ in _edges():
        if dst in graph and dst != src and not src.endswith("__init__") and src != "nc_verify":
            graph[src].add(dst)
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    assert cycles == []


@pytest.mark.parametrize("wrong", [
    {"nc_verify.objective.a": {"nc_verify.landscape.b"}},
])
def test_the_layer_rule_catches_an_upward_import(wrong):
    # negative control of the rule used above: objective (1) importing landscape (2) is flagged
    (src, dsts), = wrong.items()
    (dst,) = dsts
    assert _layer(src)[0] < _layer(dst)[0]
