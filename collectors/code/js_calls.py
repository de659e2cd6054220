"""The JavaScript and TypeScript AI call analyser: finds AI SDK calls and `fetch`/axios calls to AI
hosts on the tree-sitter syntax tree.

As in Python, a call counts only when its receiver resolves through imports (`import`,
`require`) and declarations to a client of an SDK in the catalogue; a local function or method
that shares an operation's name is not an SDK call. Values resolve from string and template
literals, `+` chains, object literals and `const`/`let`/`var` bindings of the function, the
class (`this.client = ...`, class fields) or the module. AWS SDK v3 commands are judged where
the command is built (`new ConverseCommand({...})`), because that is where `modelId` is.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterator

from collectors.code.calls import (
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
from collectors.code.pipeline import Document, ScanOptions
from collectors.code.sdks import ClientSpec, SdkCatalogue, load_catalogue, normalise_gateways

JAVASCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx")
TYPESCRIPT_SUFFIXES = (".ts", ".mts", ".cts")
TSX_SUFFIXES = (".tsx",)

FUNCTION_NODES = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition", "generator_function_declaration", "generator_function"}
)
WRAPPER_NODES = frozenset({"parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression", "type_assertion", "await_expression"})
TRANSPARENT_SEGMENTS = frozenset({"withResponse", "asResponse"})
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "request"})
PLACEHOLDER_SOURCE_LENGTH = 40


@functools.cache
def _parsers() -> dict[str, Any]:
    import tree_sitter
    import tree_sitter_javascript
    import tree_sitter_typescript

    return {
        "javascript": tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language())),
        "typescript": tree_sitter.Parser(tree_sitter.Language(tree_sitter_typescript.language_typescript())),
        "tsx": tree_sitter.Parser(tree_sitter.Language(tree_sitter_typescript.language_tsx())),
    }


def _grammar(path: str) -> str:
    if path.endswith(TSX_SUFFIXES):
        return "tsx"
    if path.endswith(TYPESCRIPT_SUFFIXES):
        return "typescript"
    return "javascript"


class JsCallAnalyser:
    """Finds AI SDK calls in JavaScript and TypeScript files."""

    name = "js-calls"

    def __init__(self, options: ScanOptions):
        self.catalogue = load_catalogue()
        self.gateways = normalise_gateways(options.gateways)
        self.literals = self.catalogue.call_literals()

    def accepts_path(self, path: str) -> bool:
        return path.endswith(JAVASCRIPT_SUFFIXES + TYPESCRIPT_SUFFIXES + TSX_SUFFIXES) and not path.endswith(".d.ts")

    def analyse(self, document: Document) -> list[CallOccurrence]:
        data = document.text.encode("utf-8")
        tree = _parsers()[_grammar(document.source.path)].parse(data)
        module = JsModule(tree.root_node, data, self.catalogue, self.gateways)
        return module.calls(document)


@dataclass(frozen=True)
class ImportPath:
    """A name bound to an export of a module: `openai#default`, `openai#OpenAI`, or `openai#*`."""

    module: str
    export: str
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientPart:
    client: Client
    attributes: tuple[str, ...]


@dataclass(frozen=True)
class Parameter:
    type_name: str | None


@dataclass(frozen=True)
class Bound:
    """A binding to evaluate lazily: the value node and the scope it is evaluated in."""

    node_id: int
    scope_id: int


class JsModule:
    """One parsed file: its imports, the names each function binds, and the calls it makes."""

    def __init__(self, root: Any, data: bytes, catalogue: SdkCatalogue, gateways: frozenset[str]):
        self.root = root
        self.data = data
        self.catalogue = catalogue
        self.gateways = gateways
        self.nodes: dict[int, Any] = {}
        self.imports: dict[str, ImportPath] = {}
        self.bindings: dict[int, dict[str, list[Any]]] = {}
        self.parent_scope: dict[int, int] = {}
        self.class_of: dict[int, int] = {}  # function scope -> class node id, for `this`
        self.class_fields: dict[tuple[int, str], list[Bound | Parameter]] = {}
        self._evaluating: set[int] = set()
        self._memo: dict[tuple[int, int], Any] = {}
        self.operation_names = _operation_names(catalogue)
        self._index()

    # Indexing

    def _index(self) -> None:
        stack: list[tuple[Any, int, int | None]] = [(self.root, self.root.id, None)]
        self.nodes[self.root.id] = self.root
        while stack:
            node, scope, class_id = stack.pop()
            kind = node.type
            inner_scope, inner_class = scope, class_id
            if kind in FUNCTION_NODES:
                inner_scope = node.id
                self.nodes[node.id] = node
                self.parent_scope[node.id] = scope
                if class_id is not None and kind == "method_definition":
                    self.class_of[node.id] = class_id
                elif class_id is not None and scope in self.class_of and kind == "arrow_function":
                    self.class_of[node.id] = self.class_of[scope]
                self._index_parameters(node, class_id if kind == "method_definition" else None)
                if kind in ("function_declaration", "generator_function_declaration"):
                    name = node.child_by_field_name("name")
                    if name is not None:
                        self._bind(scope, name.text.decode(), ("function", node.id))
            elif kind in ("class_declaration", "class"):
                inner_class = node.id
                name = node.child_by_field_name("name")
                if name is not None:
                    self._bind(scope, name.text.decode(), UNKNOWN)
            elif kind == "import_statement":
                self._index_import(node)
            elif kind == "variable_declarator":
                self._index_declarator(node, scope)
            elif kind == "assignment_expression":
                self._index_assignment(node, scope, class_id)
            elif kind in ("public_field_definition", "field_definition") and class_id is not None:
                name = node.child_by_field_name("name") or node.child_by_field_name("property")
                value = node.child_by_field_name("value")
                if name is not None and value is not None:
                    self.nodes[value.id] = value
                    self.class_fields.setdefault((class_id, name.text.decode()), []).append(Bound(value.id, scope))
            for child in reversed(node.named_children):
                stack.append((child, inner_scope, inner_class))

    def _index_parameters(self, function: Any, class_id: int | None) -> None:
        """Bind each parameter in its function; a TypeScript constructor parameter property
        (`constructor(private client: OpenAI)`) is a class field as well."""
        parameters = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
        if parameters is None:
            return
        names = [parameters] if parameters.type == "identifier" else parameters.named_children
        for parameter in names:
            if parameter.type == "identifier":
                pattern = parameter
            elif parameter.type == "assignment_pattern":
                pattern = parameter.child_by_field_name("left")
            else:
                pattern = parameter.child_by_field_name("pattern")
            type_node = parameter.child_by_field_name("type")
            type_name = None
            if type_node is not None and type_node.named_children:
                type_name = type_node.named_children[0].text.decode()
            if pattern is None or pattern.type != "identifier":
                continue
            self._bind(function.id, pattern.text.decode(), Parameter(type_name))
            is_property = any(child.type in ("accessibility_modifier", "readonly") for child in parameter.children)
            if class_id is not None and is_property:
                self.class_fields.setdefault((class_id, pattern.text.decode()), []).append(Parameter(type_name))

    def _index_import(self, node: Any) -> None:
        source = node.child_by_field_name("source")
        if source is None:
            return
        module = _string_value(source)
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    self.imports[part.text.decode()] = ImportPath(module, "default")
                elif part.type == "namespace_import":
                    for name in part.named_children:
                        self.imports[name.text.decode()] = ImportPath(module, "*")
                elif part.type == "named_imports":
                    for specifier in part.named_children:
                        name = specifier.child_by_field_name("name")
                        alias = specifier.child_by_field_name("alias") or name
                        if name is not None and alias is not None:
                            self.imports[alias.text.decode()] = ImportPath(module, name.text.decode())

    def _index_declarator(self, node: Any, scope: int) -> None:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is None:
            return
        required = _required_module(value)
        if name.type == "identifier":
            if required is not None:
                self.imports[name.text.decode()] = ImportPath(required, "*")
            elif value is not None:
                self.nodes[value.id] = value
                self._bind(scope, name.text.decode(), Bound(value.id, scope))
            else:
                self._bind(scope, name.text.decode(), UNKNOWN)
        elif name.type == "object_pattern":
            for part in name.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    key = alias = part.text.decode()
                elif part.type == "pair_pattern":
                    key_node, alias_node = part.child_by_field_name("key"), part.child_by_field_name("value")
                    if key_node is None or alias_node is None or alias_node.type != "identifier":
                        continue
                    key, alias = key_node.text.decode(), alias_node.text.decode()
                else:
                    continue
                if required is not None:
                    self.imports[alias] = ImportPath(required, key)
                else:
                    self._bind(scope, alias, UNKNOWN)

    def _index_assignment(self, node: Any, scope: int, class_id: int | None) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        self.nodes[right.id] = right
        if left.type == "identifier":
            self._bind(scope, left.text.decode(), Bound(right.id, scope))
        elif left.type == "member_expression":
            target = left.child_by_field_name("object")
            prop = left.child_by_field_name("property")
            if target is not None and prop is not None and target.type == "this" and scope in self.class_of:
                self.class_fields.setdefault((self.class_of[scope], prop.text.decode()), []).append(Bound(right.id, scope))

    def _bind(self, scope: int, name: str, value: Any) -> None:
        self.bindings.setdefault(scope, {}).setdefault(name, []).append(value)

    # Evaluation

    def evaluate(self, node: Any, scope: int) -> Any:
        if node is None:
            return UNKNOWN
        key = (node.id, scope)
        if key in self._memo:
            return self._memo[key]
        if node.id in self._evaluating:
            return UNKNOWN
        self._evaluating.add(node.id)
        try:
            value = self._evaluate(node, scope)
        finally:
            self._evaluating.discard(node.id)
        self._memo[key] = value
        return value

    def _evaluate(self, node: Any, scope: int) -> Any:
        kind = node.type
        if kind in WRAPPER_NODES:
            inner = node.named_children[0] if node.named_children else None
            return self.evaluate(inner, scope)
        if kind == "string":
            return Text(_string_value(node))
        if kind == "template_string":
            return self._template(node, scope)
        if kind in ("true", "false"):
            return Flag(kind == "true")
        if kind == "binary_expression" and node.child_by_field_name("operator") is not None and node.child_by_field_name("operator").type == "+":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            values = [self.evaluate(left, scope), self.evaluate(right, scope)]
            if any(isinstance(value, Text) for value in values):
                return concatenate(values, [_source(left), _source(right)])
            return UNKNOWN
        if kind == "identifier":
            return self.lookup(node.text.decode(), scope)
        if kind == "member_expression":
            return self._member(node, scope)
        if kind == "subscript_expression":
            base = self.evaluate(node.child_by_field_name("object"), scope)
            index = self.evaluate(node.child_by_field_name("index"), scope)
            if isinstance(base, Mapping) and isinstance(index, Text) and index.complete:
                return base.entries.get(index.value, UNKNOWN)
            return UNKNOWN
        if kind == "object":
            return self._object(node, scope)
        if kind == "new_expression":
            return self._constructed(node, scope)
        if kind == "call_expression":
            return self._call_value(node, scope)
        if kind in ("arrow_function", "function_expression", "function"):
            return ("function", node.id)
        return UNKNOWN

    def _template(self, node: Any, scope: int) -> Any:
        parts, sources = [], []
        for child in node.named_children:
            if child.type == "string_fragment":
                parts.append(Text(child.text.decode()))
                sources.append("")
            elif child.type == "escape_sequence":
                parts.append(Text(_unescape(child.text.decode())))
                sources.append("")
            elif child.type == "template_substitution":
                inner = child.named_children[0] if child.named_children else None
                parts.append(self.evaluate(inner, scope))
                sources.append(_source(inner))
        if not parts:
            return Text("")
        return concatenate(parts, sources)

    def _object(self, node: Any, scope: int) -> Mapping:
        entries: dict[str, Any] = {}
        open_ = False
        for child in node.named_children:
            if child.type == "pair":
                key_node, value = child.child_by_field_name("key"), child.child_by_field_name("value")
                key = _property_key(key_node)
                if key is None:
                    open_ = True
                    continue
                entries[key] = self.evaluate(value, scope)
            elif child.type == "shorthand_property_identifier":
                name = child.text.decode()
                entries[name] = self.lookup(name, scope)
            elif child.type == "spread_element":
                spread = self.evaluate(child.named_children[0] if child.named_children else None, scope)
                if isinstance(spread, Mapping):
                    entries.update(spread.entries)
                    open_ = open_ or spread.open
                else:
                    open_ = True
            elif child.type == "method_definition":
                name = child.child_by_field_name("name")
                if name is not None:
                    entries[name.text.decode()] = UNKNOWN
        return Mapping(entries, open_)

    def lookup(self, name: str, scope: int) -> Any:
        current: int | None = scope
        while current is not None:
            bound = self.bindings.get(current, {}).get(name)
            if bound:
                values = [self._bound_value(item) for item in bound]
                first = values[0]
                return first if all(value == first for value in values[1:]) else UNKNOWN
            current = self.parent_scope.get(current)
        if name in self.imports:
            return self.imports[name]
        return UNKNOWN

    def _bound_value(self, item: Any) -> Any:
        if isinstance(item, Bound):
            return self.evaluate(self.nodes[item.node_id], item.scope_id)
        if isinstance(item, Parameter):
            return self._parameter(item)
        return item

    def _parameter(self, parameter: Parameter) -> Any:
        """Resolve a parameter: unresolved, unless its TypeScript type is a client class."""
        if parameter.type_name is None:
            return UNKNOWN
        imported = self.imports.get(parameter.type_name)
        spec = self._client_spec(imported) if imported is not None else None
        return Client(spec, None, None) if spec is not None else UNKNOWN

    def _member(self, node: Any, scope: int) -> Any:
        target = node.child_by_field_name("object")
        prop = node.child_by_field_name("property")
        if target is None or prop is None:
            return UNKNOWN
        name = prop.text.decode()
        if target.type == "this":
            class_id = self._class_of(scope)
            assigned = self.class_fields.get((class_id, name)) if class_id is not None else None
            if not assigned:
                return UNKNOWN
            values = [self._bound_value(item) for item in assigned]
            first = values[0]
            return first if all(value == first for value in values[1:]) else UNKNOWN
        base = self.evaluate(target, scope)
        if isinstance(base, ImportPath):
            if base.export == "*" and not base.attributes:
                return ImportPath(base.module, name)
            return ImportPath(base.module, base.export, (*base.attributes, name))
        if isinstance(base, Client):
            return ClientPart(base, (name,))
        if isinstance(base, ClientPart):
            return ClientPart(base.client, (*base.attributes, name))
        if isinstance(base, Mapping):
            return base.entries.get(name, UNKNOWN)
        return UNKNOWN

    def _class_of(self, scope: int) -> int | None:
        current: int | None = scope
        while current is not None:
            if current in self.class_of:
                return self.class_of[current]
            current = self.parent_scope.get(current)
        return None

    def _arguments(self, node: Any, scope: int) -> Arguments:
        arguments = Arguments()
        holder = node.child_by_field_name("arguments")
        if holder is None:
            return arguments
        for child in holder.named_children:
            if child.type == "spread_element":
                arguments.spread = True
                continue
            arguments.positional.append(self.evaluate(child, scope))
        if arguments.positional:
            first = arguments.positional[0]
            if isinstance(first, Mapping):
                arguments.keywords = dict(first.entries)
                arguments.spread = arguments.spread or first.open
            elif not isinstance(first, Text):
                arguments.spread = True
        return arguments

    def _client_spec(self, imported: ImportPath) -> ClientSpec | None:
        """Return the client class an import names; `require("openai")` itself is the default export."""
        if imported.attributes:
            return None
        export = "default" if imported.export == "*" else imported.export
        return self.catalogue.js_clients.get((imported.module, export))

    def _constructed(self, node: Any, scope: int) -> Any:
        constructor = self.evaluate(node.child_by_field_name("constructor"), scope)
        if not isinstance(constructor, ImportPath):
            return UNKNOWN
        spec = self._client_spec(constructor)
        if spec is None:
            return UNKNOWN
        return self._client(spec, self._arguments(node, scope))

    def _client(self, spec: ClientSpec, arguments: Arguments) -> Client:
        vertex: bool | None = None
        if spec.vertex_keyword:
            flag = arguments.get(spec.vertex_keyword)
            if isinstance(flag, Flag):
                vertex = flag.value
            elif flag is MISSING and arguments.get("apiKey") is not MISSING:
                vertex = False
        host, source = client_endpoint(spec, arguments, vertex)
        if spec.vertex_keyword and vertex is None:
            host, source = None, None
        return Client(spec, host, source, vertex=vertex)

    def _call_value(self, node: Any, scope: int) -> Any:
        function = node.child_by_field_name("function")
        required = _required_module(node)
        if required is not None:
            return ImportPath(required, "*")
        callee = self.evaluate(function, scope)
        if isinstance(callee, ClientPart) and callee.client.spec.model_factory and callee.attributes[-1] == callee.client.spec.model_factory:
            arguments = self._arguments(node, scope)
            client = callee.client
            return Client(client.spec, client.host, client.host_source, model=arguments.get("model"), labels=arguments.get("labels"), vertex=client.vertex)
        if isinstance(callee, ClientPart) and callee.attributes[-1] in self.catalogue.apis[callee.client.spec.api].sessions:
            return callee.client
        if isinstance(callee, tuple) and callee[0] == "function":
            return self._returned(callee[1])
        return UNKNOWN

    def _returned(self, function_id: int) -> Any:
        function = self.nodes[function_id]
        body = function.child_by_field_name("body")
        if body is None:
            return UNKNOWN
        if body.type != "statement_block":
            value = self.evaluate(body, function_id)
            return value if isinstance(value, Client) else UNKNOWN
        values = [self.evaluate(child.named_children[0], function_id) for child in _own_nodes(body) if child.type == "return_statement" and child.named_children]
        if not values or not all(value == values[0] for value in values[1:]):
            return UNKNOWN
        return values[0] if isinstance(values[0], Client) else UNKNOWN

    # Calls

    def calls(self, document: Document) -> list[CallOccurrence]:
        found = []
        for node, scope in self._call_nodes():
            occurrence = self._judge(node, scope, document)
            if occurrence is not None:
                found.append(occurrence)
        return found

    def _call_nodes(self) -> Iterator[tuple[Any, int]]:
        stack: list[tuple[Any, int]] = [(self.root, self.root.id)]
        while stack:
            node, scope = stack.pop()
            if node.type in ("call_expression", "new_expression") and self._may_be_call(node):
                yield node, scope
            inner = node.id if node.type in FUNCTION_NODES else scope
            for child in reversed(node.named_children):
                stack.append((child, inner))

    def _may_be_call(self, node: Any) -> bool:
        """Cheap check before evaluation: the callee's last name must be one an SDK or HTTP call
        can have."""
        callee = node.child_by_field_name("function") or node.child_by_field_name("constructor")
        if callee is None:
            return False
        if callee.type == "member_expression":
            prop = callee.child_by_field_name("property")
            name = prop.text.decode() if prop is not None else ""
        else:
            name = callee.text.decode()
        return name in self.operation_names or name in self.imports

    def _where(self, node: Any, document: Document) -> tuple[str, str, int, int, str | None]:
        row, byte_column = node.start_point
        line_start = node.start_byte - byte_column
        column = len(self.data[line_start:node.start_byte].decode("utf-8", errors="replace")) + 1
        source = document.source
        return (source.scope, source.path, row + 1, column, source.commit)

    def _judge(self, node: Any, scope: int, document: Document) -> CallOccurrence | None:
        if node.type == "new_expression":
            return self._command(node, scope, document)
        function = node.child_by_field_name("function")
        if function is None:
            return None
        if function.type == "member_expression":
            base = self.evaluate(function.child_by_field_name("object"), scope)
            method = function.child_by_field_name("property").text.decode()
            if isinstance(base, (Client, ClientPart)):
                client = base if isinstance(base, Client) else base.client
                attributes = () if isinstance(base, Client) else base.attributes
                operation = ".".join(part for part in (*attributes, method) if part not in TRANSPARENT_SEGMENTS)
                if operation in self.catalogue.apis[client.spec.api].operations:
                    return build_call(self.catalogue, self.gateways, self._where(node, document), "javascript", client, _snake(operation, client), self._arguments(node, scope))
                return None
            if isinstance(base, ImportPath) and base.module in self.catalogue.js_http and method in HTTP_VERBS and not base.attributes:
                return self._http(base.module, method, node, scope, document)
            return None
        if function.type == "identifier":
            name = function.text.decode()
            bound = self.lookup(name, scope)
            if bound is UNKNOWN and name == "fetch" and not self._is_bound(name, scope):
                return self._http("fetch", None, node, scope, document)
            if isinstance(bound, ImportPath) and bound.module in self.catalogue.js_http and not bound.attributes:
                return self._http(bound.module, None, node, scope, document)
        return None

    def _is_bound(self, name: str, scope: int) -> bool:
        current: int | None = scope
        while current is not None:
            if name in self.bindings.get(current, {}):
                return True
            current = self.parent_scope.get(current)
        return name in self.imports

    def _command(self, node: Any, scope: int, document: Document) -> CallOccurrence | None:
        """Judge `new ConverseCommand({...})` of the AWS SDK v3 with the client that sends it, when
        it is built inside `client.send(...)`."""
        constructor = self.evaluate(node.child_by_field_name("constructor"), scope)
        if not isinstance(constructor, ImportPath) or constructor.attributes:
            return None
        for (module, _), spec in self.catalogue.js_clients.items():
            api = self.catalogue.apis[spec.api]
            if module == constructor.module and constructor.export in api.commands:
                client = self._sending_client(node, scope) or Client(spec, *client_endpoint(spec, Arguments()))
                operation = _command_operation(constructor.export)
                return build_call(self.catalogue, self.gateways, self._where(node, document), "javascript", client, operation, self._arguments(node, scope))
        return None

    def _sending_client(self, node: Any, scope: int) -> Client | None:
        holder = node.parent
        call = holder.parent if holder is not None and holder.type == "arguments" else None
        if call is None or call.type != "call_expression":
            return None
        function = call.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            return None
        prop = function.child_by_field_name("property")
        if prop is None or prop.text != b"send":
            return None
        client = self.evaluate(function.child_by_field_name("object"), scope)
        return client if isinstance(client, Client) else None

    def _http(self, library: str, method: str | None, node: Any, scope: int, document: Document) -> CallOccurrence | None:
        arguments = self._arguments(node, scope)
        url = arguments.positional[0] if arguments.positional else MISSING
        verb = method
        if verb is None:
            init = arguments.positional[1] if len(arguments.positional) > 1 else MISSING
            declared = init.entries.get("method") if isinstance(init, Mapping) else None
            if isinstance(declared, Text) and declared.complete:
                verb = declared.value
            elif init is MISSING:
                verb = "GET"  # fetch's default method
            else:
                verb = "request"
        return build_http_call(self.catalogue, self.gateways, self._where(node, document), "javascript", library, verb, url)


def _operation_names(catalogue: SdkCatalogue) -> frozenset[str]:
    names = {"fetch", "send", *HTTP_VERBS}
    for api in catalogue.apis.values():
        names.update(operation.rsplit(".", 1)[-1] for operation in api.operations)
        names.update(api.commands)
    for spec in catalogue.js_clients.values():
        if spec.model_factory:
            names.add(spec.model_factory)
    return frozenset(names)


def _command_operation(command: str) -> str:
    """`ConverseStreamCommand` -> `converse_stream`, the operation name boto3 uses too."""
    return _to_snake(command.removesuffix("Command"))


def _snake(operation: str, client: Client) -> str:
    """Name JavaScript operations as the Python SDK does where they differ only in case."""
    if client.spec.api in ("bedrock_js", "vertex", "genai"):
        return ".".join(_to_snake(part) for part in operation.split("."))
    return operation


def _to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _own_nodes(body: Any) -> Iterator[Any]:
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        yield node
        if node.type not in FUNCTION_NODES and node.type not in ("class_declaration", "class"):
            stack.extend(node.named_children)


def _required_module(node: Any) -> str | None:
    """Return the module of `require("x")` (or `await import("x")`), else None."""
    while node is not None and node.type in WRAPPER_NODES:
        node = node.named_children[0] if node.named_children else None
    if node is None or node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    if function is None or arguments is None or function.type not in ("identifier", "import") or function.text not in (b"require", b"import"):
        return None
    strings = [child for child in arguments.named_children if child.type == "string"]
    return _string_value(strings[0]) if strings else None


def _string_value(node: Any) -> str:
    parts = []
    for child in node.named_children:
        if child.type == "string_fragment":
            parts.append(child.text.decode())
        elif child.type == "escape_sequence":
            parts.append(_unescape(child.text.decode()))
    return "".join(parts)


def _unescape(sequence: str) -> str:
    simple = {"\\n": "\n", "\\t": "\t", "\\r": "\r", "\\'": "'", '\\"': '"', "\\\\": "\\", "\\`": "`", "\\$": "$", "\\/": "/"}
    return simple.get(sequence, sequence[1:])


def _property_key(node: Any) -> str | None:
    if node is None:
        return None
    if node.type in ("property_identifier", "identifier"):
        return node.text.decode()
    if node.type == "string":
        return _string_value(node)
    return None


def _source(node: Any) -> str:
    if node is None:
        return "…"
    text = node.text.decode("utf-8", errors="replace")
    return text if len(text) <= PLACEHOLDER_SOURCE_LENGTH else text[: PLACEHOLDER_SOURCE_LENGTH - 1] + "…"
