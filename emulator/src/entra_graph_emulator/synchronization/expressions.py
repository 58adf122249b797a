"""Attribute-mapping expressions: the function vocabulary, the parser and a small evaluator.

Used by schema/parseExpression, schema/functions and to build the template catalog's SCIM schemas.
"""

import functools
import re

from .datafiles import load_json

# Signatures of functions the docs' 14-function list (schema-functions.json) lacks, from the
# "Reference for writing expressions for attribute mappings" page (learn.microsoft.com,
# entra/identity/app-provisioning/functions-for-customizing-application-data).
_EXTRA_FUNCTIONS = {
    "IIF": (("condition", False), ("valueIfTrue", False), ("valueIfFalse", False)),
    "ToLower": (("source", False), ("culture", False)),
    "ToUpper": (("source", False), ("culture", False)),
    "Coalesce": (("source", True),),
    "IsPresent": (("Expression", False),),
    "IsNull": (("Expression", False),),
    "IsNullOrEmpty": (("Expression", False),),
    "Left": (("String", False), ("NumChars", False)),
    "CStr": (("value", False),),
    "PCase": (("source", False), ("wordSeparators", False)),
    "NormalizeDiacritics": (("source", False),),
    "Guid": (),
    "Now": (),
}


@functools.lru_cache(maxsize=None)
def documented_functions():
    """The attributeMappingFunctionSchema list schema/functions returns (data/schema-functions.json)."""
    return load_json("schema-functions.json")["value"]


@functools.lru_cache(maxsize=None)
def function_signatures():
    """name -> ((parameter, allowMultipleOccurrences), ...) for every function the parser knows."""
    signatures = {name: tuple(spec) for name, spec in _EXTRA_FUNCTIONS.items()}
    for function in documented_functions():
        signatures[function["name"]] = tuple((item["name"], bool(item.get("allowMultipleOccurrences"))) for item in function["parameters"])
    return signatures


class ExpressionError(ValueError):
    """An expression that does not parse."""


class _ExpressionParser:
    """Entra's expression syntax: Function(args), [attribute], "constant" (backslash escapes), bare literals."""

    def __init__(self, text, functions):
        self.text = text
        self.position = 0
        self.functions = functions

    def parse(self):
        source, _text = self._expression()
        self._skip_spaces()
        if self.position != len(self.text):
            raise ExpressionError("Unexpected '%s' at position %d." % (self.text[self.position], self.position))
        if source is None:
            raise ExpressionError("The expression is empty.")
        return source

    def _skip_spaces(self):
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def _expression(self):
        """Returns (attributeMappingSource or None for an empty argument, the argument's text)."""
        self._skip_spaces()
        if self.position >= len(self.text) or self.text[self.position] in ",)":
            return None, ""
        char = self.text[self.position]
        if char == "[":
            end = self.text.find("]", self.position)
            if end < 0:
                raise ExpressionError("Missing ']' after position %d." % self.position)
            name = self.text[self.position + 1:end]
            self.position = end + 1
            return _source("[%s]" % name, name, "Attribute"), "[%s]" % name
        if char == '"':
            return self._string_constant()
        start = self.position
        while self.position < len(self.text) and (self.text[self.position].isalnum() or self.text[self.position] in "_.-"):
            self.position += 1
        word = self.text[start:self.position]
        if not word:
            raise ExpressionError("Unexpected '%s' at position %d." % (char, start))
        self._skip_spaces()
        if self.position < len(self.text) and self.text[self.position] == "(":
            return self._function(word)
        # A bare literal (Mid([x], 1, 8)): the constant's own expression is quoted (schema-full.salesforce.json).
        return _source('"%s"' % word, word, "Constant"), word

    def _string_constant(self):
        start = self.position
        self.position += 1
        value = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == "\\" and self.position + 1 < len(self.text):
                value.append(self.text[self.position + 1])
                self.position += 2
                continue
            if char == '"':
                self.position += 1
                raw = self.text[start:self.position]
                return _source(raw, "".join(value), "Constant"), raw
            value.append(char)
            self.position += 1
        raise ExpressionError("Missing closing quote for the constant at position %d." % start)

    def _function(self, name):
        if name not in self.functions:
            raise ExpressionError("'%s' is not a known function." % name)
        self.position += 1
        arguments = []
        while True:
            argument, text = self._expression()
            arguments.append((argument, text))
            self._skip_spaces()
            if self.position >= len(self.text):
                raise ExpressionError("Missing ')' for function %s." % name)
            if self.text[self.position] == ",":
                self.position += 1
                continue
            if self.text[self.position] == ")":
                self.position += 1
                break
            raise ExpressionError("Unexpected '%s' at position %d." % (self.text[self.position], self.position))
        if len(arguments) == 1 and arguments[0][0] is None:
            arguments = []
        signature = self.functions[name]
        parameters = []
        for index, (argument, _text) in enumerate(arguments):
            if not signature:
                raise ExpressionError("%s takes no arguments." % name)
            if index < len(signature):
                key = signature[index][0]
            elif signature[-1][1]:
                key = signature[-1][0]
            else:
                raise ExpressionError("Too many arguments for %s." % name)
            # Empty arguments are skipped (Replace's example keeps only source, Find, Replacement).
            if argument is not None:
                parameters.append({"key": key, "value": argument})
        # The canonical text joins the arguments with ", " (the docs' Replace example).
        text = "%s(%s)" % (name, ", ".join(argument_text for _argument, argument_text in arguments))
        return {"expression": text, "name": name, "parameters": parameters, "type": "Function"}, text


def _source(expression, name, source_type):
    return {"expression": expression, "name": name, "parameters": [], "type": source_type}


def parse_expression(text, function_parameters=None):
    """An attributeMappingSource for ``text`` (the shape of schema-parseexpression.response.json).

    ``function_parameters``: name -> ((parameter, allowMultipleOccurrences), ...); function_signatures() by default.
    """
    return _ExpressionParser(text, function_parameters or function_signatures()).parse()


def evaluate_expression(source, properties):
    """Evaluate a parsed expression against testInputObject properties; returns a list of strings.

    Only the common functions are evaluated; others raise ExpressionError (docs are silent on the
    service's evaluator: we chose a subset).
    """
    value = _evaluate(source, properties)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _evaluate(source, properties):
    source_type = source.get("type")
    if source_type == "Attribute":
        return properties.get(source.get("name"))
    if source_type == "Constant":
        return source.get("name")
    arguments = {}
    for parameter in source.get("parameters") or []:
        arguments.setdefault(parameter["key"], []).append(_evaluate(parameter["value"], properties))
    name = source.get("name")

    def first(key, default=None):
        values = arguments.get(key)
        return values[0] if values else default

    def text(value):
        if isinstance(value, list):
            return value[0] if value else None
        return value

    if name == "Append":
        return (text(first("source")) or "") + (text(first("suffix")) or "")
    if name == "Prepend":
        return (text(first("prefix")) or "") + (text(first("source")) or "")
    if name == "Join":
        items = []
        for value in arguments.get("source", []):
            items.extend(value if isinstance(value, list) else [value])
        return (text(first("separator")) or "").join(str(item) for item in items if item not in (None, ""))
    if name == "Replace":
        result = text(first("source")) or ""
        if first("RegularExpression") is not None:
            return re.sub(text(first("RegularExpression")), text(first("Replacement")) or "", result)
        if first("Find") is not None:
            return result.replace(text(first("Find")), text(first("Replacement")) or "")
        return result
    if name in ("ToLower", "ToUpper"):
        value = text(first("source"))
        return None if value is None else (value.lower() if name == "ToLower" else value.upper())
    if name == "Mid":
        value = text(first("source")) or ""
        start = int(text(first("start")) or 1)
        return value[start - 1:start - 1 + int(text(first("length")) or 0)]
    if name == "Left":
        return (text(first("String")) or "")[:int(text(first("NumChars")) or 0)]
    if name == "Not":
        return "False" if str(text(first("source"))).lower() == "true" else "True"
    if name == "StripSpaces":
        return (text(first("source")) or "").replace(" ", "")
    if name == "Split":
        return (text(first("source")) or "").split(text(first("delimiter")) or ",")
    if name == "Switch":
        value = text(first("source"))
        pairs = [text(item) for item in arguments.get("switchValue", [])]
        for index in range(0, len(pairs) - 1, 2):
            if pairs[index] == value:
                return pairs[index + 1]
        return text(first("defaultValue"))
    if name == "IIF":
        return text(first("valueIfTrue")) if str(text(first("condition"))).lower() == "true" else text(first("valueIfFalse"))
    if name == "Coalesce":
        for value in arguments.get("source", []):
            if text(value) not in (None, ""):
                return text(value)
        return None
    if name in ("IsPresent", "IsNull", "IsNullOrEmpty"):
        value = text(first("Expression"))
        present = value is not None and (name != "IsNullOrEmpty" or value != "")
        return str(present if name == "IsPresent" else not present)
    if name in ("SingleAppRoleAssignment", "CStr"):
        return text(first("source", first("value")))
    raise ExpressionError("The emulator does not evaluate %s." % name)
