"""The package's layering: imports run one way, no cycle, no private name crosses a module.

Every import of ``nc_verify`` is read from the source (module-level and function-local
alike, by walking the syntax tree), so a cycle hidden inside a function is seen too.
Layers, lowest first: ``utils`` < ``objective`` < ``landscape`` < ``checks`` <
``runs`` / ``certify`` / ``deepnet`` < ``testing`` < ``cli`` (and the package root).
"""

from __future__ import annotations

import ast
import pathlib

import nc_verify

ROOT = pathlib.Path(nc_verify.__file__).parent
LAYERS = {"utils": 0, "objective": 1, "landscape": 2, "checks": 3, "runs": 4, "certify": 4,
          "deepnet": 4, "atlas": 4, "testing": 5, "cli": 6, "__main__": 7, "__init__": 7}


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


def upward_imports(edges) -> list:
    """Edges that import from a higher layer, or across packages of one layer."""
    bad = []
    for src, dst, names in edges:
        if dst == "nc_verify" and names == ["__version__"]:
            continue                       # the version string is metadata, not a layer's code
        (ls, ts), (ld, td) = _layer(src), _layer(dst)
        if ls < ld or (ls == ld and ts != td and ts not in ("__init__", "__main__")):
            bad.append(f"{src} -> {dst}")
    return bad


def private_crossings(edges) -> list:
    """Edges importing a ``_name`` from another module, or a private module from outside its package."""
    bad = []
    for src, dst, names in edges:
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        if private and src != dst:
            bad.append(f"{src} imports {private} from {dst}")
        package = dst.rpartition(".")[0]
        if dst.rpartition(".")[2].startswith("_") and not (src == package or src.startswith(package + ".")):
            bad.append(f"{src} imports the private module {dst}")
    return bad


def cycles(edges, modules) -> list:
    """Import cycles among ``modules`` (package ``__init__`` re-exports excluded)."""
    graph: dict[str, set] = {m: set() for m in modules}
    for src, dst, _ in edges:
        if dst in graph and src in graph and dst != src and src != "nc_verify" and dst.rpartition(".")[0] != src:
            graph[src].add(dst)
    state: dict[str, int] = {}
    found = []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    return found


def test_every_module_is_in_a_layer():
    unknown = sorted({m for m in MODULES if (m.split(".") + ["__init__"])[1] not in LAYERS})
    assert unknown == []


def test_imports_never_go_up_a_layer():
    assert upward_imports(list(_edges())) == []


def test_no_private_name_crosses_modules():
    assert private_crossings(list(_edges())) == []


def test_import_graph_has_no_cycle():
    assert cycles(list(_edges()), MODULES) == []


def test_the_rules_catch_their_violations():
    """Negative controls: each rule flags a planted violation (and the real graph is non-trivial)."""
    assert len(list(_edges())) > 100
    assert upward_imports([("nc_verify.objective.problem", "nc_verify.landscape.spectrum", ["tangent_basis"])])
    assert upward_imports([("nc_verify.runs.sweep", "nc_verify.certify.exact", ["exact_point"])])
    assert not upward_imports([("nc_verify.checks.theorem2", "nc_verify.landscape.search", ["x"])])
    assert upward_imports([("nc_verify.cli", "nc_verify", ["solve"])])
    assert private_crossings([("nc_verify.checks.theorem2", "nc_verify.landscape.points", ["_same"])])
    assert private_crossings([("nc_verify.cli", "nc_verify.certify._flint", ["flint"])])
    assert not private_crossings([("nc_verify.certify.ball", "nc_verify.certify._flint", ["flint"])])
    planted = [("nc_verify.landscape.a", "nc_verify.landscape.b", []), ("nc_verify.landscape.b", "nc_verify.landscape.a", [])]
    assert cycles(planted, ["nc_verify.landscape.a", "nc_verify.landscape.b"])
