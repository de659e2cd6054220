"""The Python AI call analyser: finds AI SDK calls and raw HTTP calls to AI hosts in Python files
and notebooks, on the syntax tree.

A call counts only when its receiver resolves, through imports and assignments, to a client of
an SDK in the catalogue (rules/catalogues/ai_sdks.yaml): `client.converse(...)` where `client =
boto3.client("bedrock-runtime")`, never a local function or method that shares the name.
Arguments are resolved from literals, f-strings, `+` chains, dict literals and names assigned
in the function, the class (`self.client = ...`) or the module; a parameter, an environment
variable or a value from another module is unresolved, and reported so, never guessed.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from collectors.code.calls import (
    HOST_ARGUMENT,
    HOST_DEFAULT,
    MISSING,
    UNKNOWN,
    Arguments,
    CallOccurrence,
    Client,
    Flag,
    Mapping,
    Text,
    build_call,
    build_http_call,
    client_endpoint,
    concatenate,
)
from collectors.code.inventory import InventoryOccurrence
from collectors.code.pipeline import Document, ScanOptions
from collectors.code.sdks import ClientSpec, SdkCatalogue, host_of, load_catalogue, normalise_gateways

PYTHON_SUFFIXES = (".py", ".pyw", ".ipynb")

# Attribute segments that wrap an operation without changing it.
TRANSPARENT_SEGMENTS = frozenset({"with_raw_response", "with_streaming_response"})

# Calls whose keyword arguments build a labels-carrying config (google-genai).
CONFIG_CLASSES = frozenset({"google.genai.types.GenerateContentConfig"})

# Methods of an HTTP session object that send a request.
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "request", "stream"})

# Placeholders name the unresolved expression, cut to this length.
PLACEHOLDER_SOURCE_LENGTH = 40

SCOPE_NODES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


class PythonCallAnalyser:
    """Finds AI SDK calls in Python files and notebook code cells."""

    name = "python-calls"

    def __init__(self, options: ScanOptions):
        self.catalogue = load_catalogue()
        self.gateways = normalise_gateways(options.gateways)
        self.literals = self.catalogue.call_literals()
        # A module that imports none of these cannot make an AI call, so it is not parsed.
        modules = "|".join(sorted(re.escape(module) for module in self.catalogue.python_modules()))
        self.import_pattern = re.compile(rf"^[ \t]*(?:from|import)[ \t]+(?:[\w.]+[ \t]*,[ \t]*)*(?:{modules})\b", re.MULTILINE)

    def accepts_path(self, path: str) -> bool:
        return path.endswith(PYTHON_SUFFIXES)

    def analyse(self, document: Document) -> list[CallOccurrence | InventoryOccurrence]:
        source = document.source
        if source.path.endswith(".ipynb"):
            return self._analyse_notebook(document)
        if not self.import_pattern.search(document.text):
            return []
        try:
            tree = ast.parse(document.text, filename=source.path)
        except (SyntaxError, ValueError) as error:
            line = getattr(error, "lineno", None)
            document.report(f"not valid Python ({'line ' + str(line) + ': ' if line else ''}{getattr(error, 'msg', error)}); its AI calls were not analysed")
            return []
        lines = document.text.splitlines()
        module = PythonModule(tree, self.catalogue, self.gateways)
        return module.calls(lambda line, column: (line, _character_column(lines, line, column)), source)

    def _analyse_notebook(self, document: Document) -> list[CallOccurrence | InventoryOccurrence]:
        cells = notebook_cells(document.text)
        if cells is None:
            document.report("not a valid notebook (the file is not JSON with a cells list); its AI calls were not analysed")
            return []
        found: list[CallOccurrence | InventoryOccurrence] = []
        modules: set[str] = set()
        # Cells share one namespace, as in the kernel: a client built in one cell is used in
        # later ones. When the cells do not parse together, each cell is read alone.
        units = [join_cells(cells)] + cells
        for unit in units:
            try:
                tree = ast.parse(unit.source)
            except (SyntaxError, ValueError):
                continue
            module = PythonModule(tree, self.catalogue, self.gateways)
            modules.update(module.ai_modules())
            found.extend(module.calls(unit.position, document.source))
            if unit is units[0]:
                break
        calls = [item for item in found if isinstance(item, CallOccurrence)]
        if calls or modules:
            sdks = sorted({call.sdk for call in calls} | modules)
            found.append(
                InventoryOccurrence(
                    kind="code.notebook", scope=document.source.scope, path=document.source.path, line=1, column=1,
                    provider=_single_provider(calls), name=document.source.path,
                    attributes={"sdks": sdks, "calls": len(calls), "cells": len(cells)}, commit=document.source.commit,
                )
            )
        return found


def _single_provider(calls: list[CallOccurrence]) -> str:
    providers = {call.provider for call in calls}
    if not providers:
        return "unknown"
    if len(providers) > 1:
        return "mixed"
    return providers.pop()


def _character_column(lines: list[str], line: int, byte_offset: int) -> int:
    """Turn an AST column (a UTF-8 byte offset) into a 1-based character column."""
    if line - 1 >= len(lines):
        return byte_offset + 1
    text = lines[line - 1]
    if text.isascii():
        return byte_offset + 1
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")) + 1


@dataclass
class NotebookCell:
    """A code cell's source with IPython magics blanked, and where each of its lines sits in the
    notebook file."""

    source: str
    lines: list[tuple[int, int]] = field(default_factory=list)  # (file line, column of the text)

    def position(self, line: int, byte_offset: int) -> tuple[int, int]:
        if not self.lines:
            return 1, 1
        file_line, start = self.lines[min(line, len(self.lines)) - 1]
        text = self.source.splitlines()[line - 1] if line - 1 < len(self.source.splitlines()) else ""
        column = len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))
        return file_line, start + column


def join_cells(cells: list[NotebookCell]) -> NotebookCell:
    """Join code cells into one module, each line keeping its place in the notebook file."""
    sources, lines = [], []
    for cell in cells:
        source = cell.source if cell.source.endswith("\n") or not cell.source else cell.source + "\n"
        count = source.count("\n")
        sources.append(source)
        lines.extend((cell.lines + [cell.lines[-1] if cell.lines else (1, 1)] * count)[:count])
    return NotebookCell("".join(sources), lines)


def notebook_cells(text: str) -> list[NotebookCell] | None:
    """Return the code cells of a notebook, each line placed at the line of the .ipynb file whose
    JSON string contains it (the notebook is stored with one source line per JSON line, as Jupyter
    writes it). Columns ignore escape sequences earlier on the same line."""
    try:
        notebook = json.loads(text)
    except ValueError:
        return None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None

    line_starts = [0]
    line_starts.extend(index + 1 for index, character in enumerate(text) if character == "\n")
    cursor = 0
    cells = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict):
            continue
        raw = cell.get("source", [])
        if isinstance(raw, str):
            raw = [raw]
        parts = [part for part in raw if isinstance(part, str)] if isinstance(raw, list) else []
        placed: list[tuple[int, int]] = []
        for part in parts:
            offset = _find_json_string(text, part, cursor)
            if offset is None:
                previous = placed[-1][0] + 1 if placed else _line_at(line_starts, cursor)
                placed.extend((previous, 1) for _ in range(max(1, len(part.splitlines()))))
                continue
            line = _line_at(line_starts, offset)
            column = offset - line_starts[line - 1] + 2  # after the opening quote, 1-based
            placed.extend((line, column) for _ in range(max(1, len(part.splitlines()))))
            cursor = offset + 1
        if cell.get("cell_type") != "code":
            continue
        source = "".join(parts)
        cleaned = "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))
        cells.append(NotebookCell(cleaned, placed))
    return cells


def _find_json_string(text: str, value: str, start: int) -> int | None:
    for encoded in dict.fromkeys((json.dumps(value, ensure_ascii=False), json.dumps(value))):
        offset = text.find(encoded, start)
        if offset != -1:
            return offset
    return None


def _line_at(line_starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(line_starts, offset)


# Values the evaluation produces besides those of collectors/code/calls.py.


@dataclass(frozen=True)
class ImportPath:
    """A name bound by an import, as the dotted path it stands for (`openai.OpenAI`)."""

    path: str


@dataclass(frozen=True)
class Boto3Session:
    pass


@dataclass(frozen=True)
class HttpSession:
    module: str
    base_url: Any = MISSING


@dataclass(frozen=True)
class ClientPart:
    """An attribute path below a client, as `client.chat.completions`."""

    client: Client
    attributes: tuple[str, ...]


@dataclass(frozen=True)
class LocalFunction:
    node: ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class LocalClass:
    node: ast.ClassDef


@dataclass(frozen=True)
class Instance:
    """An instance of a class of the same module, whose methods may return a client."""

    node: ast.ClassDef


@dataclass(frozen=True)
class Parameter:
    annotation: ast.expr | None


class PythonModule:
    """One parsed module: its imports, the names each scope binds, and the calls it makes."""

    def __init__(self, tree: ast.Module, catalogue: SdkCatalogue, gateways: frozenset[str]):
        self.tree = tree
        self.catalogue = catalogue
        self.gateways = gateways
        self.imports: dict[str, str] = {}
        self.bindings: dict[ast.AST, dict[str, list[Any]]] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        self.self_names: dict[ast.AST, str] = {}  # method -> its first parameter's name
        self.class_of: dict[ast.AST, ast.ClassDef] = {}  # method -> class
        self.attributes: dict[tuple[ast.ClassDef, str], list[tuple[ast.expr, ast.AST]]] = {}
        self.module_settings: dict[str, list[ast.expr]] = {}
        self._evaluating: set[int] = set()
        self._memo: dict[tuple[int, int], Any] = {}
        self._index(tree, tree)

    # Indexing: one pass that records every binding with the scope it belongs to.

    def _index(self, node: ast.AST, scope: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                self._index_import(child)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._bind(scope, child.name, LocalClass(child) if isinstance(child, ast.ClassDef) else LocalFunction(child), child.lineno)
                self._enter(child, scope)
                continue
            elif isinstance(child, ast.Lambda):
                self._enter(child, scope)
                continue
            elif isinstance(child, ast.Assign):
                for target in child.targets:
                    self._index_target(target, child.value, scope)
            elif isinstance(child, (ast.AnnAssign, ast.AugAssign)) and child.value is not None:
                value = child.value if isinstance(child, ast.AnnAssign) else None
                self._index_target(child.target, value, scope)
            elif isinstance(child, (ast.With, ast.AsyncWith)):
                for item in child.items:
                    if item.optional_vars is not None:
                        self._index_target(item.optional_vars, item.context_expr, scope)
            elif isinstance(child, (ast.For, ast.AsyncFor, ast.comprehension)):
                self._index_target(child.target, None, scope)
            elif isinstance(child, ast.NamedExpr):
                self._index_target(child.target, child.value, scope)
            self.parents[child] = scope
            self._index(child, scope)

    def _enter(self, node: ast.AST, scope: ast.AST) -> None:
        self.parents[node] = scope
        self.bindings.setdefault(node, {})
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            for extra in (arguments.vararg, arguments.kwarg):
                if extra is not None:
                    every.append(extra)
            for argument in every:
                self._bind(node, argument.arg, Parameter(argument.annotation), 0)
            if isinstance(scope, ast.ClassDef) and not isinstance(node, ast.Lambda) and arguments.args:
                self.self_names[node] = arguments.args[0].arg
                self.class_of[node] = scope
        self._index(node, node)

    def _index_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.imports.setdefault(top, top)
            return
        if node.level or not node.module:
            return
        for alias in node.names:
            if alias.name != "*":
                self.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def _index_target(self, target: ast.expr, value: ast.expr | None, scope: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self._bind(scope, target.id, (value, scope) if value is not None else UNKNOWN, target.lineno)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = target.value.id
            if scope in self.self_names and owner == self.self_names[scope] and value is not None:
                self.attributes.setdefault((self.class_of[scope], target.attr), []).append((value, scope))
            elif isinstance(scope, ast.Module) and value is not None:
                self.module_settings.setdefault(f"{owner}.{target.attr}", []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._index_target(element, None, scope)
        elif isinstance(target, ast.Starred):
            self._index_target(target.value, None, scope)

    def _bind(self, scope: ast.AST, name: str, value: Any, line: int) -> None:
        self.bindings.setdefault(scope, {}).setdefault(name, []).append((line, value))

    # Evaluation: what an expression stands for, without running anything.

    def evaluate(self, node: ast.expr | None, scope: ast.AST) -> Any:
        if node is None:
            return UNKNOWN
        key = id(node)
        memo_key = (key, id(scope))
        if memo_key in self._memo:
            return self._memo[memo_key]
        if key in self._evaluating:
            return UNKNOWN
        self._evaluating.add(key)
        try:
            value = self._evaluate(node, scope)
        finally:
            self._evaluating.discard(key)
        self._memo[memo_key] = value
        return value

    def _evaluate(self, node: ast.expr, scope: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return Flag(node.value)
            return Text(node.value) if isinstance(node.value, str) else UNKNOWN
        if isinstance(node, ast.JoinedStr):
            return self._joined(node, scope)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.evaluate(node.left, scope), self.evaluate(node.right, scope)
            if isinstance(left, Text) or isinstance(right, Text):
                return concatenate([left, right], [_source(node.left), _source(node.right)])
            return UNKNOWN
        if isinstance(node, ast.Name):
            return self.lookup(node.id, scope, node.lineno)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, scope)
        if isinstance(node, ast.Call):
            return self._call_value(node, scope)
        if isinstance(node, ast.Dict):
            return self._mapping(node, scope)
        if isinstance(node, ast.Subscript):
            base = self.evaluate(node.value, scope)
            key = self.evaluate(node.slice, scope)
            if isinstance(base, Mapping) and isinstance(key, Text) and key.complete:
                return base.entries.get(key.value, UNKNOWN)
            return UNKNOWN
        if isinstance(node, ast.Await):
            return self.evaluate(node.value, scope)
        return UNKNOWN

    def _joined(self, node: ast.JoinedStr, scope: ast.AST) -> Any:
        parts, sources = [], []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(Text(str(value.value)))
                sources.append("")
            elif isinstance(value, ast.FormattedValue):
                resolved = self.evaluate(value.value, scope)
                plain = value.conversion == -1 and value.format_spec is None
                parts.append(resolved if plain and isinstance(resolved, Text) else UNKNOWN)
                sources.append(_source(value.value))
        return concatenate(parts, sources)

    def _mapping(self, node: ast.Dict, scope: ast.AST) -> Mapping:
        entries: dict[str, Any] = {}
        open_ = False
        for key, value in zip(node.keys, node.values):
            if key is None:
                spread = self.evaluate(value, scope)
                if isinstance(spread, Mapping):
                    entries.update(spread.entries)
                    open_ = open_ or spread.open
                else:
                    open_ = True
                continue
            resolved_key = self.evaluate(key, scope)
            if isinstance(resolved_key, Text) and resolved_key.complete:
                entries[resolved_key.value] = self.evaluate(value, scope)
            else:
                open_ = True
        return Mapping(entries, open_)

    def lookup(self, name: str, scope: ast.AST, line: int | None = None) -> Any:
        """Resolve a name as seen from `line` of `scope`. In the scope itself the last binding before
        that line wins, as in `model = GenerativeModel(model)`, which rebinds a parameter. A name of
        an enclosing scope resolves only when all its bindings agree, because when a function runs
        relative to the module's assignments is not known."""
        current: ast.AST | None = scope
        while current is not None:
            if isinstance(current, ast.ClassDef) and current is not scope:
                current = self.parents.get(current)
                continue  # class bodies are not visible from their methods
            bound = self.bindings.get(current, {}).get(name)
            if bound:
                if current is scope and line is not None:
                    before = [item for item_line, item in bound if item_line < line]
                    if before:
                        return self._bound_value(before[-1], name, current)
                return self._merge([self._bound_value(item, name, current) for _, item in bound])
            if isinstance(current, ast.Module):
                break
            current = self.parents.get(current)
        if name in self.imports:
            return ImportPath(self.imports[name])
        return UNKNOWN

    def _bound_value(self, item: Any, name: str, scope: ast.AST) -> Any:
        if isinstance(item, tuple):
            value, where = item
            return self.evaluate(value, where)
        if isinstance(item, Parameter):
            return self._parameter(item, scope)
        return item

    def _parameter(self, parameter: Parameter, scope: ast.AST) -> Any:
        """Resolve a parameter: unresolved, except that a client-class annotation makes it a client
        whose configuration is unknown."""
        if parameter.annotation is None:
            return UNKNOWN
        annotation = parameter.annotation
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return UNKNOWN
        kind = self.evaluate(annotation, self.parents.get(scope, self.tree))
        if isinstance(kind, ImportPath) and kind.path in self.catalogue.python_clients:
            spec = self.catalogue.python_clients[kind.path]
            return Client(spec, None, None, vertex=None)
        return UNKNOWN

    @staticmethod
    def _merge(values: list[Any]) -> Any:
        """Merge the values of a name bound more than once: it resolves only when they all agree."""
        first = values[0]
        if all(value == first for value in values[1:]):
            return first
        return UNKNOWN

    def _attribute(self, node: ast.Attribute, scope: ast.AST) -> Any:
        if isinstance(node.value, ast.Name):
            method = self._method_of(scope)
            if method is not None and node.value.id == self.self_names[method]:
                owner = self.class_of[method]
                assigned = self.attributes.get((owner, node.attr))
                if assigned:
                    return self._merge([self.evaluate(value, where) for value, where in assigned])
                class_level = self.bindings.get(owner, {}).get(node.attr)
                if class_level:
                    return self._merge([self._bound_value(item, node.attr, owner) for _, item in class_level])
                return UNKNOWN
        base = self.evaluate(node.value, scope)
        if isinstance(base, ImportPath):
            return ImportPath(f"{base.path}.{node.attr}")
        if isinstance(base, Client):
            return ClientPart(base, (node.attr,))
        if isinstance(base, ClientPart):
            return ClientPart(base.client, (*base.attributes, node.attr))
        return UNKNOWN

    def _method_of(self, scope: ast.AST) -> ast.AST | None:
        current: ast.AST | None = scope
        while current is not None and not isinstance(current, ast.Module):
            if current in self.self_names:
                return current
            current = self.parents.get(current)
        return None

    def _arguments(self, node: ast.Call, scope: ast.AST) -> Arguments:
        arguments = Arguments()
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                arguments.spread = True
                continue
            arguments.positional.append(self.evaluate(argument, scope))
        for keyword in node.keywords:
            if keyword.arg is None:
                spread = self.evaluate(keyword.value, scope)
                if isinstance(spread, Mapping):
                    arguments.keywords.update(spread.entries)
                    arguments.spread = arguments.spread or spread.open
                else:
                    arguments.spread = True
                continue
            arguments.keywords[keyword.arg] = self.evaluate(keyword.value, scope)
        return arguments

    def _call_value(self, node: ast.Call, scope: ast.AST) -> Any:
        """What a call returns, for the calls whose result matters: client constructors, boto3
        factories and sessions, HTTP sessions, config objects and local functions returning a
        client."""
        function = self.evaluate(node.func, scope)
        if isinstance(function, ImportPath):
            return self._constructed(function.path, node, scope)
        if isinstance(node.func, ast.Attribute):
            base = self.evaluate(node.func.value, scope)
            if isinstance(base, Boto3Session) and node.func.attr == "client":
                return self._boto3_client(node, scope)
            if isinstance(base, Instance):
                method = _method(base.node, node.func.attr)
                return self._returned(method) if method is not None else UNKNOWN
        if isinstance(function, ClientPart) and function.attributes[-1] in self.catalogue.apis[function.client.spec.api].sessions:
            return function.client
        if isinstance(function, LocalFunction):
            return self._returned(function.node)
        if isinstance(function, LocalClass):
            return Instance(function.node)
        return UNKNOWN

    def _constructed(self, path: str, node: ast.Call, scope: ast.AST) -> Any:
        catalogue = self.catalogue
        if path in catalogue.python_clients:
            return self._client(catalogue.python_clients[path], self._arguments(node, scope))
        if path in catalogue.boto3["factories"]:
            return self._boto3_client(node, scope)
        if path in catalogue.boto3["sessions"]:
            return Boto3Session()
        if path in CONFIG_CLASSES:
            arguments = self._arguments(node, scope)
            return Mapping(dict(arguments.keywords), arguments.spread)
        module, _, name = path.rpartition(".")
        http = catalogue.python_http.get(module)
        if http is not None and name in http.session_classes:
            arguments = self._arguments(node, scope)
            return HttpSession(module, arguments.get("base_url"))
        return UNKNOWN

    def _client(self, spec: ClientSpec, arguments: Arguments) -> Client:
        vertex: bool | None = None
        if spec.vertex_keyword:
            flag = arguments.get(spec.vertex_keyword)
            if isinstance(flag, Flag):
                vertex = flag.value
            elif flag is MISSING and arguments.get("api_key") is not MISSING:
                vertex = False
        host, source = client_endpoint(spec, arguments, vertex)
        if spec.vertex_keyword and vertex is None:
            host, source = None, None
        model = arguments.get("model_name", spec.model_argument) if spec.model_argument is not None else MISSING
        if model is MISSING and spec.model_argument is not None:
            model = arguments.get("model")
        labels = arguments.get(spec.labels_keyword) if spec.labels_keyword else MISSING
        return Client(spec, host, source, model=model, labels=labels, vertex=vertex)

    def _boto3_client(self, node: ast.Call, scope: ast.AST) -> Any:
        boto3 = self.catalogue.boto3
        arguments = self._arguments(node, scope)
        service = arguments.get("service_name", 0)
        if not (isinstance(service, Text) and service.complete and service.value == boto3["service"]):
            return UNKNOWN
        spec = self.catalogue.boto3_client
        host, source = client_endpoint(spec, arguments)
        return Client(spec, host, source)

    def _returned(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> Any:
        returns = [child for child in _walk_own(function) if isinstance(child, ast.Return) and child.value is not None]
        if not returns:
            return UNKNOWN
        values = [self.evaluate(child.value, function) for child in returns]
        merged = self._merge(values)
        return merged if isinstance(merged, Client) else UNKNOWN

    # Calls: the walk that records every SDK call with its place.

    def calls(self, position, source) -> list[CallOccurrence]:
        found = []
        for node, scope in self._call_nodes(self.tree, self.tree):
            occurrence = self._judge(node, scope, position, source)
            if occurrence is not None:
                found.append(occurrence)
        return found

    def _call_nodes(self, node: ast.AST, scope: ast.AST) -> Iterator[tuple[ast.Call, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, SCOPE_NODES) else scope
            if isinstance(child, ast.Call):
                yield child, scope
            yield from self._call_nodes(child, inner)

    def _judge(self, node: ast.Call, scope: ast.AST, position, source) -> CallOccurrence | None:
        line, column = position(node.lineno, node.col_offset)
        where = (source.scope, source.path, line, column, source.commit)
        function = node.func
        if isinstance(function, ast.Attribute):
            base = self.evaluate(function.value, scope)
            if isinstance(base, (Client, ClientPart)):
                client = base if isinstance(base, Client) else base.client
                attributes = () if isinstance(base, Client) else base.attributes
                operation = ".".join(part for part in (*attributes, function.attr) if part not in TRANSPARENT_SEGMENTS)
                if operation in self.catalogue.apis[client.spec.api].operations:
                    return build_call(self.catalogue, self.gateways, where, "python", client, operation, self._arguments(node, scope))
                return None
            if isinstance(base, HttpSession):
                return self._http(base.module, function.attr, node, scope, where, base.base_url)
        resolved = self.evaluate(function, scope)
        if isinstance(resolved, ImportPath):
            return self._module_call(resolved.path, node, scope, where)
        return None

    def _module_call(self, path: str, node: ast.Call, scope: ast.AST, where) -> CallOccurrence | None:
        catalogue = self.catalogue
        module, _, name = path.rpartition(".")
        top = path.split(".", 1)[0]

        function_spec = catalogue.python_functions.get(module)
        if function_spec is not None and name in catalogue.apis[function_spec.api].operations:
            arguments = self._arguments(node, scope)
            host, host_source = client_endpoint(function_spec, arguments)
            client = Client(function_spec, host, host_source)
            return build_call(catalogue, self.gateways, where, "python", client, name, arguments)

        if top in catalogue.module_clients:
            spec, settings = catalogue.module_clients[top]
            operation = path[len(top) + 1:]
            if operation in catalogue.apis[spec.api].operations:
                host, host_source = self._module_host(top, spec, settings)
                return build_call(catalogue, self.gateways, where, "python", Client(spec, host, host_source), operation, self._arguments(node, scope))

        http = catalogue.python_http.get(module)
        if http is not None and name in http.functions:
            return self._http(module, name, node, scope, where)
        return None

    def _module_host(self, module: str, spec: ClientSpec, settings: tuple[str, ...]) -> tuple[str | None, str | None]:
        """Return the endpoint of a module-level client, which `openai.base_url = ...` at module
        level sets."""
        aliases = [name for name, path in self.imports.items() if path == module]
        for alias in aliases:
            for setting in settings:
                assigned = self.module_settings.get(f"{alias}.{setting}")
                if not assigned:
                    continue
                value = self._merge([self.evaluate(node, self.tree) for node in assigned])
                host = host_of(value.value) if isinstance(value, Text) else None
                return (host, HOST_ARGUMENT) if host else (None, None)
        return spec.default_host, HOST_DEFAULT

    def _http(self, module: str, method: str, node: ast.Call, scope: ast.AST, where, base_url: Any = None) -> CallOccurrence | None:
        """Judge a raw HTTP call of a module function or, when `base_url` is not None, of a session."""
        http = self.catalogue.python_http[module]
        if method not in (HTTP_VERBS if base_url is not None else http.functions):
            return None
        arguments = self._arguments(node, scope)
        if method in ("request", "stream"):
            verb = arguments.get("method", 0)
            url = arguments.get("url", 1)
            verb_text = verb.value if isinstance(verb, Text) and verb.complete else "request"
        else:
            url = arguments.get("url", 0)
            verb_text = method
        if isinstance(base_url, Text) and (url is MISSING or isinstance(url, Text)):
            url = Text(base_url.value.rstrip("/") + "/" + (url.value.lstrip("/") if isinstance(url, Text) else ""), base_url.complete)
        return build_http_call(self.catalogue, self.gateways, where, "python", module, verb_text, url)

    def ai_modules(self) -> set[str]:
        """Return the AI SDKs this module imports, named as the catalogue names them."""
        sdks = set()
        for path in self.imports.values():
            for client_path, spec in self.catalogue.python_clients.items():
                if path == client_path or client_path.startswith(path + "."):
                    sdks.add(spec.sdk)
            if path.split(".")[0] in self.catalogue.python_functions:
                sdks.add(self.catalogue.python_functions[path.split(".")[0]].sdk)
        return sdks


def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
            return statement
    return None


def _walk_own(function: ast.AST) -> Iterator[ast.AST]:
    """Walk a function's body without entering nested functions or classes."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, SCOPE_NODES):
            stack.extend(ast.iter_child_nodes(node))


def _source(node: ast.expr) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, AttributeError):
        return "…"
    return text if len(text) <= PLACEHOLDER_SOURCE_LENGTH else text[: PLACEHOLDER_SOURCE_LENGTH - 1] + "…"
