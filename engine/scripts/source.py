"""The engine's own source text, gathered for a script: so each formula stays written once.

A Gathering takes registry entries (only the keys a run uses) and top-level definitions from
engine modules, follows every name they use to its definition (across engine modules) or its
import, and hands back the statements in their modules' order, grouped by section.
"""

import ast
import importlib
import inspect
from dataclasses import dataclass, field


@dataclass
class _Module:
    name: str
    tree: ast.Module
    text: str
    bound: dict[str, int]            # top-level name -> index of the statement binding it


@dataclass
class Gathering:
    """What a script takes from the engine. section_of(module, name) names each statement's
    section; sections come out in the order of `sections`."""

    sections: tuple[str, ...]
    section_of: object                                  # (module, name) -> section
    imports: set[str] = field(default_factory=set)      # import lines outside the engine
    parts: dict = field(default_factory=dict)           # (module, index) -> (section, text)
    _modules: dict = field(default_factory=dict)
    _filtered: dict = field(default_factory=dict)       # (module, registry) -> kept keys

    def definitions(self, module: str, *names: str) -> None:
        """The top-level definitions `names` of `module` and what they need."""
        for name in names:
            self._need(module, name)

    def entries(self, module: str, registry: str, keys) -> None:
        """The registry `registry` of `module` cut down to the entries `keys`."""
        kept = self._filtered.setdefault((module, registry), set())
        kept.update(keys)
        mod = self._module(module)
        index = mod.bound[registry]
        stmt = mod.tree.body[index]
        items = [(k, v) for k, v in zip(stmt.value.keys, stmt.value.values, strict=True)
                 if ast.literal_eval(k) in kept]
        head = ast.get_source_segment(mod.text, stmt.target)
        if isinstance(stmt, ast.AnnAssign):
            head += ": " + ast.get_source_segment(mod.text, stmt.annotation)
        lines = [f"{head} = {{"]
        for k, v in items:
            lines.append(f"    {ast.get_source_segment(mod.text, k)}: "
                         f"{ast.get_source_segment(mod.text, v, padded=False)},")
        self.parts[(module, index)] = (self.section_of(module, registry), "\n".join(lines + ["}"]))
        for _, v in items:
            self._follow(mod, v)

    def text(self, section: str) -> str:
        """The section's statements, modules in the engine's order, each in its file's order:
        definitions two blank lines apart, runs of one-line constants together."""
        chosen = [(key, text) for key, (sec, text) in self.parts.items() if sec == section]
        chosen.sort(key=lambda item: (MODULE_ORDER.index(item[0][0]), item[0][1]))
        out = ""
        for number, (_, text) in enumerate(chosen):
            one_liners = "\n" not in text and number and "\n" not in chosen[number - 1][1]
            out += ("\n" if one_liners else "\n\n\n" if number else "") + text
        return out

    def import_lines(self) -> str:
        """The imports, `from x import a, b` once per module, plain imports first."""
        plain = sorted(line for line in self.imports if line.startswith("import "))
        names: dict[str, list[str]] = {}
        for line in sorted(self.imports - set(plain)):
            module, name = line.removeprefix("from ").split(" import ")
            names.setdefault(module, []).append(name)
        return "\n".join(plain + [f"from {m} import {', '.join(n)}" for m, n in names.items()])

    def _module(self, name: str) -> _Module:
        if name not in self._modules:
            text = inspect.getsource(importlib.import_module(name))
            tree = ast.parse(text)
            bound = {}
            for index, stmt in enumerate(tree.body):
                for bound_name in _bound_names(stmt):
                    bound[bound_name] = index
            self._modules[name] = _Module(name, tree, text, bound)
        return self._modules[name]

    def _need(self, module: str, name: str) -> None:
        mod = self._module(module)
        if name not in mod.bound:
            return                                       # a builtin or a local name
        index = mod.bound[name]
        stmt = mod.tree.body[index]
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith("engine"):
            original = next(a.name for a in stmt.names if (a.asname or a.name) == name)
            if (stmt.module, original) not in self._filtered:
                self._need(stmt.module, original)
            return
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            self.imports.add(_import_line(stmt, name))
            return
        if (module, index) in self.parts or (module, name) in self._filtered:
            return
        self.parts[(module, index)] = (
            self.section_of(module, name), ast.get_source_segment(mod.text, stmt)
        )
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef):   # decorators are outside it
            decorators = [ast.get_source_segment(mod.text, d) for d in stmt.decorator_list]
            self.parts[(module, index)] = (
                self.parts[(module, index)][0],
                "".join(f"@{d}\n" for d in decorators) + self.parts[(module, index)][1],
            )
        self._follow(mod, stmt)

    def _follow(self, mod: _Module, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                self._need(mod.name, sub.id)


# The engine's layering: a module's statements may use those of the modules before it.
MODULE_ORDER = ("engine.errors", "engine.activations", "engine.network", "engine.losses",
                "engine.regularizers", "engine.trace", "engine.optimizers", "engine.train")


def _bound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names]
    return []


def _import_line(stmt: ast.Import | ast.ImportFrom, name: str) -> str:
    alias = next(a for a in stmt.names if (a.asname or a.name).split(".")[0] == name)
    spelled = alias.name + (f" as {alias.asname}" if alias.asname else "")
    if isinstance(stmt, ast.Import):
        return f"import {spelled}"
    return f"from {stmt.module} import {spelled}"
