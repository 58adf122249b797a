"""The attribute-mapping expression language: parser -> AST -> evaluator, and Graph's attributeMappingSource trees.

Grammar ("Reference for writing expressions for attribute mappings in Microsoft Entra ID",
https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data):

    expression := operand [comparison operand]          comparison := "=" | "<>" | ">" | ">=" | "<" | "<="
    operand    := Function "(" [argument {"," argument}] ")" | "[" attribute "]" | '"' string '"' | bare
    argument   := [expression]                          (empty arguments are allowed: Replace([x], "a", , , "b", , ))

* Function names are case-sensitive ("The syntax is case-sensitive"); an unknown name, a wrong
  argument count or a required parameter left empty is a parse error.
* "For string constants, if you need a backslash ( \\ ) or quotation mark ( " ) in the string, it must
  be escaped with the backslash ( \\ ) symbol." Docs are silent on a backslash before any other
  character: we chose to keep it (so the page's "\\\\d" and a lone "\\d" both mean \\d).
* Bare words are constants: Mid([userPrincipalName], 1, 8) (the published Salesforce schema,
  https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationschema), InStr's
  vbBinaryCompare, BitAnd's &HF.
* Comparisons are documented for IIF's condition and CBool (IIF([country]="USA", …), CBool([a] = [b])).
  Docs are silent on their attributeMappingSource form: we chose a Function named after the operator
  with parameters "left" and "right".

parseExpression (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-parseexpression)
answers parsedExpression as an attributeMappingSource tree: {expression, name, parameters: [{key,
value}], type: Attribute|Constant|Function}. Its documented example fixes the details followed here:
parameter keys are the function's parameter names from schema/functions (Replace's "Find",
"Replacement"), empty arguments are left out of parameters, the function's expression is rewritten
with ", " between arguments, a constant's expression is always quoted and its name is its value.

Everything here is pure: evaluation reads its clock, GUIDs, randomness and uniqueness checks from an
EvaluationContext, so provisioning cycles can reuse the evaluator.
"""

import json
import os
from random import Random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Optional, Tuple

from . import dotnet_datetime
from .expression_functions import FUNCTIONS, IGNORE_FLOW, EvaluationError, items, text  # noqa: F401 (re-exported)

_FUNCTIONS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "schema-functions.json")
COMPARISONS = ("<>", ">=", "<=", "=", ">", "<")


@dataclass(frozen=True)
class Parameter:
    name: str
    required: bool = True
    repeating: bool = False


def _p(spec):
    """"name" required, "name?" optional, "name*" required and repeating."""
    return Parameter(spec.rstrip("?*"), not spec.endswith("?"), spec.endswith("*"))


# Signatures the reference page documents ("Required/ Repeating" columns) for functions that
# schema/functions (data/schema-functions.json, 14 functions) does not list; that list wins where
# it names a function. Coalesce's trailing defaultValue is one more source: "first source value
# that isn't NULL" treats it the same. FormatDateTime has both forms: Graph's (source,
# inputFormat, outputFormat) and the page's (source, dateTimeStyles, inputFormat, outputFormat).
_DOCUMENTED = {
    "AppRoleAssignmentsComplex": ("source",), "BitAnd": ("value1", "value2"), "CBool": ("Expression",), "CDate": ("Expression",),
    "Coalesce": ("source*",), "ConvertToBase64": ("source",), "ConvertToUTF8Hex": ("source",), "Count": ("attribute",),
    "CStr": ("value",), "DateAdd": ("interval", "value", "dateTime"), "DateDiff": ("interval", "date1", "date2"),
    "DateFromNum": ("value",), "Guid": (), "IgnoreFlowIfNullOrEmpty": ("Expression",),
    "IIF": ("condition", "valueIfTrue", "valueIfFalse"), "InStr": ("value1", "value2", "start?", "compareType?"),
    "IsNull": ("Expression",), "IsNullOrEmpty": ("Expression",), "IsPresent": ("Expression",), "IsString": ("Expression",),
    "Item": ("attribute", "index"), "Left": ("String", "NumChars"), "NormalizeDiacritics": ("source",), "Now": (),
    "NumFromDate": ("value",), "PCase": ("source", "wordSeparators?"),
    "RandomString": ("Length", "MinimumNumbers", "MinimumSpecialCharacters", "MinimumCapital", "MinimumLowerCase", "CharactersToAvoid?"),
    "Redact": ("value",), "RemoveDuplicates": ("attribute",), "SelectUniqueValue": ("uniqueValueRule*",),
    "ToLower": ("source", "culture?"), "ToUpper": ("source", "culture?"), "Word": ("String", "WordNumber", "Delimiters"),
}
_EXTRA_FORMS = {"FormatDateTime": ("source", "dateTimeStyles?", "inputFormat", "outputFormat")}
# At least two rules ("Requires a minimum of two arguments"); key/value pairs ("The function always
# expects an even number of parameters").
_MINIMUM_ARGUMENTS = {"SelectUniqueValue": 2}


def _load_graph_functions():
    with open(_FUNCTIONS_FILE, encoding="utf-8") as handle:
        return json.load(handle)["value"]


# The attributeMappingFunctionSchema list schema/functions answers (data/schema-functions.json).
GRAPH_FUNCTIONS = _load_graph_functions()


def load_signatures(graph_functions=None):
    """name -> tuple of alternative signatures (each a tuple of Parameter)."""
    if graph_functions is None:
        graph_functions = GRAPH_FUNCTIONS
    signatures = {name: (tuple(_p(spec) for spec in specs),) for name, specs in _DOCUMENTED.items()}
    for function in graph_functions:
        signatures[function["name"]] = (tuple(Parameter(parameter["name"], bool(parameter.get("required")),
                                                        bool(parameter.get("allowMultipleOccurrences")))
                                              for parameter in function.get("parameters") or []),)
    for name, specs in _EXTRA_FORMS.items():
        signatures[name] = signatures[name] + (tuple(_p(spec) for spec in specs),)
    return signatures


SIGNATURES = load_signatures()


# ---------------------------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attribute:
    name: str


@dataclass(frozen=True)
class Constant:
    value: str
    # Written without quotes (Mid([x], 1, 8)): presentation only, the value is the same.
    bare: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Function:
    name: str
    # One (parameter name, node or None) per argument slot as written; None is an empty argument.
    arguments: Tuple[Tuple[str, object], ...]


@dataclass(frozen=True)
class Comparison:
    operator: str
    left: object
    right: object


class ExpressionError(ValueError):
    """An expression that does not parse; ``position`` is 1-based, ``code`` a publicErrorDetail code."""

    def __init__(self, message, position=None, code="SyntaxError", target=None):
        super().__init__(message)
        self.position = position
        self.code = code
        self.target = target


def public_error(code, message, detail_code=None, target=None):
    """Graph's publicError shape (https://learn.microsoft.com/graph/api/resources/publicerror)."""
    return {"code": code, "message": message, "target": target,
            "details": [{"code": detail_code or code, "message": message, "target": target}], "innerError": None}


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------

_BARE_STOP = set(',()[]"=<>') | {" ", "\t", "\r", "\n"}
_FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class _Parser:
    def __init__(self, source, signatures):
        self.text = source
        self.position = 0
        self.signatures = signatures
        self.depth = 0

    def error(self, message, position=None, code="SyntaxError", target=None):
        position = self.position if position is None else position
        return ExpressionError("%s (at position %d)" % (message, position + 1), position + 1, code, target)

    def skip(self):
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def peek(self):
        return self.text[self.position] if self.position < len(self.text) else ""

    def parse(self):
        self.skip()
        if not self.peek():
            raise self.error("The expression is empty.", code="EmptyExpression")
        node = self.expression()
        self.skip()
        if self.peek():
            raise self.error("Unexpected '%s' after the end of the expression." % self.peek())
        return node

    def expression(self):
        left = self.operand()
        self.skip()
        for operator in COMPARISONS:
            if self.text.startswith(operator, self.position):
                self.position += len(operator)
                self.skip()
                if not self.peek() or self.peek() in ",)":
                    raise self.error("The comparison '%s' has no right-hand side." % operator)
                return Comparison(operator, left, self.operand())
        return left

    def operand(self):
        self.skip()
        char, start = self.peek(), self.position
        if char == "[":
            end = self.text.find("]", start)
            if end < 0:
                raise self.error("The attribute name that starts here has no closing ']'.", start)
            name = self.text[start + 1:end]
            if not name.strip():
                raise self.error("The attribute name is empty.", start)
            self.position = end + 1
            return Attribute(name)
        if char == '"':
            return self.string()
        while self.peek() and self.peek() not in _BARE_STOP:
            self.position += 1
        word = self.text[start:self.position]
        if not word:
            raise self.error("Expected a function, an [attribute] or a \"constant\" but found %s." % (repr(char) if char else "the end"), start)
        self.skip()
        if self.peek() == "(":
            if not _FUNCTION_NAME.match(word):
                raise self.error("'%s' is not a function name." % word, start)
            return self.function(word, start)
        return Constant(word, bare=True)

    def string(self):
        start = self.position
        self.position += 1
        value = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == "\\" and self.position + 1 < len(self.text) and self.text[self.position + 1] in '\\"':
                value.append(self.text[self.position + 1])
                self.position += 2
                continue
            self.position += 1
            if char == '"':
                return Constant("".join(value))
            value.append(char)
        raise self.error("The string constant that starts here has no closing quotation mark.", start)

    def function(self, name, start):
        if name not in self.signatures:
            raise self.error("'%s' is not a known function; function names are case-sensitive." % name, start, "UnknownFunction", name)
        if name == "SelectUniqueValue" and self.depth:
            raise self.error("SelectUniqueValue must be at the top level and cannot be nested.", start, "InvalidNesting", name)
        self.position += 1
        self.depth += 1
        slots = []
        self.skip()
        if self.peek() == ")":
            self.position += 1
        else:
            while True:
                self.skip()
                slots.append(None if self.peek() in (",", ")") else self.expression())
                self.skip()
                if self.peek() == ",":
                    self.position += 1
                elif self.peek() == ")":
                    self.position += 1
                    break
                else:
                    raise self.error("Expected ',' or ')' in the arguments of %s but found %s." % (name, repr(self.peek()) if self.peek() else "the end"),
                                     code="SyntaxError", target=name)
        self.depth -= 1
        return Function(name, self.bind(name, slots, start))

    def bind(self, name, slots, start):
        """Give each argument slot its parameter name; check counts and required parameters."""
        problems = []
        for signature in self.signatures[name]:
            keys, problem = _bind(name, signature, slots)
            if problem is None:
                return tuple(zip(keys, slots))
            problems.append(problem)
        others = [problem for problem in problems if problem[0] != "ArgumentCountMismatch"]
        if others:
            code, message = others[0]
        elif name == "Switch" or name == "SelectUniqueValue":
            code, message = problems[0]
        else:
            code = "ArgumentCountMismatch"
            forms = " or ".join(_arity(name, signature) for signature in self.signatures[name])
            message = "%s, but %d %s given." % (forms, len(slots), "was" if len(slots) == 1 else "were")
        raise self.error(message, start, code, name)


def _arity(name, signature):
    names = ", ".join(parameter.name + ("…" if parameter.repeating else "") for parameter in signature)
    low = len([parameter for parameter in signature if parameter.required])
    low = max(low, _MINIMUM_ARGUMENTS.get(name, 0))
    if signature and signature[-1].repeating:
        return "%s takes at least %d argument%s (%s)" % (name, low, "" if low == 1 else "s", names)
    if low == len(signature):
        return "%s takes %d argument%s (%s)" % (name, low, "" if low == 1 else "s", names)
    return "%s takes %d to %d arguments (%s)" % (name, low, len(signature), names)


def _bind(name, signature, slots):
    """(keys, None) or (None, (code, message))."""
    repeating = signature[-1].repeating if signature else False
    last_required = max([index for index, parameter in enumerate(signature) if parameter.required], default=-1)
    if (len(slots) > len(signature) and not repeating) or len(slots) < last_required + 1 or len(slots) < _MINIMUM_ARGUMENTS.get(name, 0):
        return None, ("ArgumentCountMismatch", "%s, but %d %s given." % (_arity(name, signature), len(slots), "was" if len(slots) == 1 else "were"))
    if name == "Switch" and len(slots) % 2:
        return None, ("ArgumentCountMismatch",
                      "Switch takes source, defaultValue and key/value pairs: an even number of arguments, but %d were given." % len(slots))
    keys = [signature[min(index, len(signature) - 1)].name for index in range(len(slots))]
    for index, parameter in enumerate(signature):
        given = [slot for key, slot in zip(keys, slots) if key == parameter.name and slot is not None]
        if parameter.required and not given and (index < len(slots) or parameter.repeating):
            return None, ("MissingArgument", "%s needs a value for its parameter '%s'." % (name, parameter.name))
    if name == "SelectUniqueValue" and len([slot for slot in slots if slot is not None]) < 2:
        return None, ("ArgumentCountMismatch", "SelectUniqueValue takes at least two rules.")
    return keys, None


def parse(expression, signatures=None):
    """The AST of ``expression``; raises ExpressionError."""
    if not isinstance(expression, str):
        raise ExpressionError("The expression must be a string.", None, "InvalidExpression")
    return _Parser(expression, signatures or SIGNATURES).parse()


# ---------------------------------------------------------------------------------------------
# Text and attributeMappingSource trees
# ---------------------------------------------------------------------------------------------

def quote(value):
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def to_text(node):
    """The canonical text of a node (", " between arguments, as parseExpression's example rewrites it)."""
    if node is None:
        return ""
    if isinstance(node, Attribute):
        return "[%s]" % node.name
    if isinstance(node, Constant):
        return node.value if node.bare else quote(node.value)
    if isinstance(node, Comparison):
        return "%s%s%s" % (to_text(node.left), node.operator, to_text(node.right))
    return "%s(%s)" % (node.name, ", ".join(to_text(argument) for _key, argument in node.arguments))


def to_source(node):
    """The attributeMappingSource tree of a node (the shape of parseExpression's parsedExpression)."""
    if isinstance(node, Attribute):
        return {"expression": to_text(node), "name": node.name, "parameters": [], "type": "Attribute"}
    if isinstance(node, Constant):
        return {"expression": quote(node.value), "name": node.value, "parameters": [], "type": "Constant"}
    if isinstance(node, Comparison):
        parameters = [{"key": "left", "value": to_source(node.left)}, {"key": "right", "value": to_source(node.right)}]
        return {"expression": to_text(node), "name": node.operator, "parameters": parameters, "type": "Function"}
    parameters = [{"key": key, "value": to_source(argument)} for key, argument in node.arguments if argument is not None]
    return {"expression": to_text(node), "name": node.name, "parameters": parameters, "type": "Function"}


def from_source(source, signatures=None):
    """The AST of an attributeMappingSource tree. Its ``expression`` is authoritative when present
    (Graph fills it in every tree it returns); otherwise the tree is rebuilt from type, name and
    parameters, each parameter going to its parameter's position."""
    if not isinstance(source, dict):
        raise ExpressionError("An attributeMappingSource must be an object.", None, "InvalidSource")
    if isinstance(source.get("expression"), str) and source["expression"].strip():
        return parse(source["expression"], signatures)
    kind, name = str(source.get("type") or "").lower(), source.get("name")
    if kind == "attribute" and name:
        return Attribute(name)
    if kind == "constant":
        return Constant("" if name is None else str(name))
    if kind != "function" or not name:
        raise ExpressionError("An attributeMappingSource needs a type (Attribute, Constant, Function) and a name.", None, "InvalidSource")
    parameters = [(parameter.get("key"), from_source(parameter.get("value"), signatures)) for parameter in source.get("parameters") or []]
    if name in COMPARISONS:
        values = dict(parameters)
        return Comparison(name, values.get("left"), values.get("right"))
    return parse(to_text(Function(name, _positional(name, parameters, signatures or SIGNATURES))), signatures)


def _positional(name, parameters, signatures):
    signature = (signatures.get(name) or ((),))[0]
    order = [parameter.name for parameter in signature]
    slots = {}
    tail = []
    for key, node in parameters:
        if key in order and not signature[order.index(key)].repeating:
            slots[order.index(key)] = (key, node)
        else:
            tail.append((key, node))
    fixed = max(slots, default=-1) + 1
    if tail:
        fixed = max(fixed, len(order) - 1)
    return tuple(slots.get(index, ("", None)) for index in range(fixed)) + tuple(tail)


def attribute_names(node):
    """The names of every [attribute] a node refers to, in order."""
    if isinstance(node, Attribute):
        return [node.name]
    if isinstance(node, Comparison):
        return attribute_names(node.left) + attribute_names(node.right)
    if isinstance(node, Function):
        return [name for _key, argument in node.arguments for name in attribute_names(argument)]
    return []


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------

@dataclass
class EvaluationContext:
    """What evaluation may not take from the expression: time, GUIDs, randomness, and the target's
    uniqueness check (SelectUniqueValue); a provisioning cycle passes its own."""
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    new_guid: Callable[[], object] = uuid.uuid4
    random: Random = field(default_factory=Random)
    is_unique: Callable[[str], bool] = field(default=lambda value: True)
    default_domain: Optional[str] = None


def _normalise(value):
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value if item is not None]
    return value


def attributes_from_input(test_input_object):
    """An expressionInputObject's properties ({key, value}) as attribute name -> value."""
    properties = (test_input_object or {}).get("properties") or []
    return {item.get("key"): _normalise(item.get("value")) for item in properties if isinstance(item, dict) and item.get("key")}


class _Call:
    def __init__(self, node, attributes, context):
        self.node = node
        self.attributes = attributes
        self.context = context
        self.by_key = {}
        for key, argument in node.arguments:
            if argument is not None:
                self.by_key.setdefault(key, []).append(argument)

    def evaluate(self, node):
        return _evaluate(node, self.attributes, self.context)

    def nodes(self, key):
        return self.by_key.get(key, [])

    def given(self, key):
        return bool(self.by_key.get(key))

    def value(self, key):
        nodes = self.by_key.get(key)
        return self.evaluate(nodes[0]) if nodes else None

    def values(self, key):
        return [self.evaluate(node) for node in self.nodes(key)]

    def attribute(self, name):
        return self.attributes.get(name)

    def attributes_in(self, key):
        return [name for node in self.nodes(key) for name in attribute_names(node)]


def _compare(operator, left, right):
    left, right = text(left), text(right)
    try:
        left_key, right_key = float(left), float(right)
    except (TypeError, ValueError):
        left_key, right_key = left or "", right or ""
    return {"=": left_key == right_key, "<>": left_key != right_key, ">": left_key > right_key, ">=": left_key >= right_key,
            "<": left_key < right_key, "<=": left_key <= right_key}[operator]


def _evaluate(node, attributes, context):
    if isinstance(node, Attribute):
        return _normalise(attributes.get(node.name))
    if isinstance(node, Constant):
        return node.value
    if isinstance(node, Comparison):
        left = _evaluate(node.left, attributes, context)
        right = _evaluate(node.right, attributes, context)
        return "True" if _compare(node.operator, left, right) else "False"
    return FUNCTIONS[node.name](_Call(node, attributes, context))


def evaluate(node, attributes, context=None):
    """The value of ``node`` for ``attributes`` (name -> str, list or None): None, a str, a list of
    str, a datetime or IGNORE_FLOW. Raises EvaluationError."""
    return _evaluate(node, attributes or {}, context or EvaluationContext())


def evaluation_result(value):
    """A value as parseExpression's evaluationResult (a string collection). Docs are silent on null and
    on IgnoreFlowIfNullOrEmpty's dropped flow: we chose an empty collection for both."""
    if value is None or value is IGNORE_FLOW:
        return []
    if isinstance(value, datetime):
        return [dotnet_datetime.format_general(value)]
    return items(value) if isinstance(value, list) else [text(value)]


def parse_expression_response(expression, test_input_object=None, context=None, signatures=None):
    """The parseExpressionResponse for a parseExpression request body's values.

    A parse error answers parsingSucceeded false with the reason in error (a publicError); docs are
    silent on its code and message: we chose "ExpressionParsingFailed" with a message naming the
    problem and its 1-based position, the detail's code naming the kind (UnknownFunction,
    ArgumentCountMismatch, MissingArgument, SyntaxError) and its target the function.
    Without testInputObject nothing is evaluated (evaluationSucceeded false, error null).
    """
    try:
        node = parse(expression, signatures)
    except ExpressionError as exc:
        return {"error": public_error("ExpressionParsingFailed", str(exc), exc.code, exc.target), "evaluationSucceeded": False,
                "evaluationResult": None, "parsedExpression": None, "parsingSucceeded": False}
    response = {"error": None, "evaluationSucceeded": False, "evaluationResult": None, "parsedExpression": to_source(node),
                "parsingSucceeded": True}
    if isinstance(test_input_object, dict):
        try:
            response["evaluationResult"] = evaluation_result(evaluate(node, attributes_from_input(test_input_object), context))
            response["evaluationSucceeded"] = True
        except EvaluationError as exc:
            response["error"] = public_error("ExpressionEvaluationFailed", str(exc))
    return response
