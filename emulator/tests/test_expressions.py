"""The attribute-mapping expression language (expressions.py): grammar, trees, every documented example.

Examples are those of "Reference for writing expressions for attribute mappings in Microsoft Entra ID"
(https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data),
the parseExpression page's request/response pair and the published Salesforce schema.
"""

import json
import os
import random
import uuid
from datetime import datetime, timezone

import pytest

from entra_graph_emulator import expressions
from entra_graph_emulator.expressions import Attribute, Comparison, Constant, EvaluationContext, ExpressionError, Function

DATA = os.path.join(os.path.dirname(expressions.__file__), "data")


def load(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return json.load(handle)


def run(expression, context=None, **attributes):
    return expressions.evaluation_result(expressions.evaluate(expressions.parse(expression), attributes, context))


# -- grammar ------------------------------------------------------------------------------------

def test_the_documented_parse_expression_exchange():
    request = load("examples/schema-parseexpression.request.json")
    response = expressions.parse_expression_response(request["expression"], request["testInputObject"])
    assert response == load("examples/schema-parseexpression.response.json")


def test_published_schema_sources_round_trip():
    schema = load("schema-full.salesforce.json")
    sources = [item["source"] for rule in schema["synchronizationRules"] for mapping in rule["objectMappings"]
               for item in mapping["attributeMappings"] if item["source"]]
    assert len([source for source in sources if source["type"] == "Function"]) >= 4
    for source in sources:
        node = expressions.from_source(source)
        assert expressions.to_source(node) == source
        # The tree without its expression text rebuilds the same node (parameters go to their positions).
        stripped = json.loads(json.dumps(source).replace('"expression": ', '"_expression": '))
        assert expressions.to_source(expressions.from_source(stripped))["parameters"] == source["parameters"]


def test_parse_builds_the_ast():
    node = expressions.parse('IIF([country]="USA", Mid([x], 1, 2), "Other")')
    assert node == Function("IIF", (
        ("condition", Comparison("=", Attribute("country"), Constant("USA"))),
        ("valueIfTrue", Function("Mid", (("source", Attribute("x")), ("start", Constant("1", True)), ("length", Constant("2", True))))),
        ("valueIfFalse", Constant("Other")),
    ))


def test_string_constants_escape_backslash_and_quote():
    # The page's example: "Company name: \"Contoso\"".
    node = expressions.parse(r'Append("Company name: \"Contoso\"", "\\")')
    assert node.arguments[0][1] == Constant('Company name: "Contoso"')
    assert node.arguments[1][1] == Constant("\\")
    assert expressions.to_text(node) == r'Append("Company name: \"Contoso\"", "\\")'
    assert expressions.to_source(node)["parameters"][0]["value"] == {
        "expression": r'"Company name: \"Contoso\""', "name": 'Company name: "Contoso"', "parameters": [], "type": "Constant"}
    # A backslash before any other character stays (docs are silent; see the module docstring).
    assert expressions.parse(r'"\d"') == Constant(r"\d")


def test_nested_calls_and_empty_arguments():
    node = expressions.parse('ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))')
    assert expressions.attribute_names(node) == ["PreferredFirstName", "PreferredLastName"]
    replace = expressions.to_source(expressions.parse('Replace([mail], "@contoso.com", , ,"", ,)'))
    assert [parameter["key"] for parameter in replace["parameters"]] == ["source", "Find", "Replacement"]
    assert replace["expression"] == 'Replace([mail], "@contoso.com", , , "", , )'


def test_comparison_tree():
    source = expressions.to_source(expressions.parse('CBool([attribute1] = [attribute2])'))
    assert source["parameters"][0]["value"]["name"] == "=" and source["parameters"][0]["value"]["type"] == "Function"
    assert [parameter["key"] for parameter in source["parameters"][0]["value"]["parameters"]] == ["left", "right"]
    assert expressions.from_source(source) == expressions.parse("CBool([attribute1]=[attribute2])")


@pytest.mark.parametrize("expression, code, fragment", [
    ("Teleport([x])", "UnknownFunction", "'Teleport' is not a known function"),
    ("toLower([x])", "UnknownFunction", "case-sensitive"),
    ("Mid([x], 1)", "ArgumentCountMismatch", "Mid takes 3 arguments (source, start, length), but 2 were given"),
    ("Not([a], [b])", "ArgumentCountMismatch", "Not takes 1 argument"),
    ("Now(1)", "ArgumentCountMismatch", "Now takes 0 arguments"),
    ("Join([x])", "ArgumentCountMismatch", "at least 2"),
    ('Switch([x], "d", "k")', "ArgumentCountMismatch", "even number"),
    ("SelectUniqueValue([a])", "ArgumentCountMismatch", "at least 2"),
    ('Append(SelectUniqueValue([a], [b]), "x")', "InvalidNesting", "top level"),
    ('Replace(, "a", , , "b", , )', "MissingArgument", "'source'"),
    ("Append([a], )", "MissingArgument", "'suffix'"),
    ("Append([a]", "SyntaxError", "position 11"),
    ('"open', "SyntaxError", "no closing quotation mark"),
    ("[open", "SyntaxError", "no closing ']'"),
    ("[]", "SyntaxError", "empty"),
    ("", "EmptyExpression", "empty"),
    ("Append([a], [b]) [c]", "SyntaxError", "after the end"),
    ('IIF([a]=, "x", "y")', "SyntaxError", "right-hand side"),
])
def test_parse_errors(expression, code, fragment):
    with pytest.raises(ExpressionError) as caught:
        expressions.parse(expression)
    assert caught.value.code == code and fragment in str(caught.value)
    response = expressions.parse_expression_response(expression, {"properties": []})
    assert response["parsingSucceeded"] is False and response["parsedExpression"] is None and response["evaluationSucceeded"] is False
    assert response["error"]["code"] == "ExpressionParsingFailed" and response["error"]["details"][0]["code"] == code


def test_evaluation_errors_are_reported_not_raised():
    response = expressions.parse_expression_response('IIF([country]="USA", "a", "b")', {"properties": [{"key": "country", "value": ""}]})
    assert response["parsingSucceeded"] is True and response["evaluationSucceeded"] is False
    assert response["error"]["code"] == "ExpressionEvaluationFailed" and "[country]" in response["error"]["message"]
    # Without testInputObject nothing is evaluated.
    response = expressions.parse_expression_response("[mail]")
    assert response["evaluationSucceeded"] is False and response["error"] is None and response["evaluationResult"] is None


def test_graph_function_list_gives_the_parameter_names():
    graph = {function["name"]: [parameter["name"] for parameter in function["parameters"]] for function in load("schema-functions.json")["value"]}
    for name, parameters in graph.items():
        assert [parameter.name for parameter in expressions.SIGNATURES[name][0]] == parameters


# -- the documented examples, function by function -----------------------------------------------

@pytest.mark.parametrize("expression, attributes, expected", [
    ('Append([userPrincipalName], ".test")', {"userPrincipalName": "John.Doe@contoso.com"}, ["John.Doe@contoso.com.test"]),
    ("BitAnd(&HF, &HF7)", {}, ["7"]),
    ("CBool([attribute1] = [attribute2])", {"attribute1": "a", "attribute2": "a"}, ["True"]),
    ("CBool([attribute1] = [attribute2])", {"attribute1": "a", "attribute2": "b"}, ["False"]),
    ("CDate([StatusHireDate])", {"StatusHireDate": "2020-03-16-07:00"}, ["3/16/2020 7:00:00 AM"]),
    ('CDate("2021-06-30+08:00")', {}, ["6/29/2021 4:00:00 PM"]),
    ('CDate("2009-06-15T01:45:30-07:00")', {}, ["6/15/2009 8:45:30 AM"]),
    ("Coalesce([mail],[userPrincipalName])", {"userPrincipalName": "John.Doe@contoso.com"}, ["John.Doe@contoso.com"]),
    ('Coalesce([mail], "")', {}, [""]),
    ('ConvertToBase64("Hello world!")', {}, ["SABlAGwAbABvACAAdwBvAHIAbABkACEA"]),
    ('ConvertToUTF8Hex("Hello world!")', {}, ["48656C6C6F20776F726C6421"]),
    ("Count([proxyAddresses])", {"proxyAddresses": ["a", "b", "c"]}, ["3"]),
    ("CStr([dn])", {"dn": "cn=Joe,dc=contoso,dc=com"}, ["cn=Joe,dc=contoso,dc=com"]),
    ('DateAdd("d", 7, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"}, ["3/23/2012 7:00:00 AM"]),
    ('DateAdd("d", -10, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"}, ["3/6/2012 7:00:00 AM"]),
    ('DateAdd("ww", 2, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"}, ["3/30/2012 7:00:00 AM"]),
    ('DateAdd("m", 10, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"}, ["1/16/2013 7:00:00 AM"]),
    ('DateAdd("yyyy", 2, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"}, ["3/16/2014 7:00:00 AM"]),
    ('DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))', {}, ["13"]),
    ('DateDiff("d", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', {}, ["-3449"]),
    ('DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', {}, ["-493"]),
    ('DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', {}, ["-113"]),
    ('DateDiff("yyyy", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', {}, ["-9"]),
    ('DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))', {}, ["0"]),
    ('DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))', {}, ["24"]),
    ('DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))', {}, ["1440"]),
    ('DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))', {}, ["86400"]),
    ("DateFromNum(129699324000000000)", {}, ["1/1/2012 11:00:00 PM"]),
    ("DateFromNum([lastLogonTimestamp])", {"lastLogonTimestamp": "129699324000000000"}, ["1/1/2012 11:00:00 PM"]),
    ('FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', {"extensionAttribute1": "20150123105347.1Z"}, ["2015-01-23"]),
    ('FormatDateTime([extensionAttribute1], "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', {"extensionAttribute1": "20150123105347.1Z"}, ["2015-01-23"]),
    ('IgnoreFlowIfNullOrEmpty([department])', {"department": "Sales"}, ["Sales"]),
    ('IgnoreFlowIfNullOrEmpty([department])', {"department": ""}, []),
    ('IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))', {"prefix": "3444"}, ["Prof."]),
    ('IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))', {"prefix": "1"}, []),
    ('IIF([country]="USA",[country],[department])', {"country": "USA", "department": "Sales"}, ["USA"]),
    ('IIF([country]="USA",[country],[department])', {"country": "NZ", "department": "Sales"}, ["Sales"]),
    ('IIF([country]="USA",IIF([state]="CA","True","False"),"False")', {"country": "USA", "state": "CA"}, ["True"]),
    ('IIF([country]="USA",IIF([state]="CA","True","False"),"False")', {"country": "USA", "state": "WA"}, ["False"]),
    ('IIF([country]="USA","True",IIF([state]="CA","True","False"))', {"country": "NZ", "state": "CA"}, ["True"]),
    ('IIF(DateDiff("d", CDate("2021-08-18"), CDate([StatusHireDate])) > 5, "False", "True")', {"StatusHireDate": "2021-08-31"}, ["False"]),
    ('Switch([country],[country],"","Other")', {"country": ""}, ["Other"]),
    ('Switch([country],[country],"","Other")', {"country": "NZ"}, ["NZ"]),
    ('Switch([BusinessTitle],[BusinessTitle],"","N/A")', {}, ["N/A"]),
    ('Switch([employeeId], ToUpper([employeeId]), "", [mailNickname])', {"mailNickname": "jdoe"}, ["jdoe"]),
    ('Switch([employeeId], ToUpper([employeeId]), "", [mailNickname])', {"employeeId": "e-1042", "mailNickname": "jdoe"}, ["E-1042"]),
    ('InStr("The quick brown fox","quick")', {}, ["5"]),
    ('InStr("repEated","e",3,vbBinaryCompare)', {}, ["7"]),
    ('InStr("repEated","e",3,vbTextCompare)', {}, ["4"]),
    ('InStr("abc","z")', {}, ["0"]),
    ("IsNull([displayName])", {}, ["True"]),
    ("IsNull([displayName])", {"displayName": ""}, ["False"]),
    ("IsNullOrEmpty([displayName])", {"displayName": ""}, ["True"]),
    ("IsNullOrEmpty([displayName])", {"displayName": "x"}, ["False"]),
    ("IsPresent([displayName])", {"displayName": "x"}, ["True"]),
    ("IsPresent([displayName])", {}, ["False"]),
    ("IsString([displayName])", {"displayName": "x"}, ["True"]),
    ('Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])',
     {"directManager": "m"}, ["m"]),
    ("Item([proxyAddresses], 1)", {"proxyAddresses": ["smtp:a@x", "smtp:b@x"]}, ["smtp:a@x"]),
    ("Item([proxyAddresses], 3)", {"proxyAddresses": ["smtp:a@x"]}, []),
    ('Join(", ", "", [surname], [givenName])', {"givenName": "John", "surname": "Doe"}, ["Doe, John"]),
    ('Join(";", [proxyAddresses], [mail])', {"proxyAddresses": ["a", "b"], "mail": "c"}, ["a;b;c"]),
    ('Left("John Doe", 3)', {}, ["Joh"]),
    ('Left("John Doe", 0)', {}, [""]),
    ('Left("John Doe", -1)', {}, ["John Doe"]),
    ('Left("Jo", 5)', {}, ["Jo"]),
    ("Left([missing], 2)", {}, [""]),
    ("Mid([userPrincipalName], 1, 8)", {"userPrincipalName": "johnsmith@contoso.com"}, ["johnsmit"]),
    ("Mid([x], 3, 100)", {"x": "abcdef"}, ["cdef"]),
    ("Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", {"givenName": "John", "surname": "Doe"}, ["JohDoe"]),
    ("NormalizeDiacritics([givenName])", {"givenName": "Zoë"}, ["Zoe"]),
    ('NormalizeDiacritics("ÄÆçĎëğİłñØœřßšțüÿž")', {}, ["AAEcDegIlnOEoerssstuyz"]),
    ("Not([IsSoftDeleted])", {"IsSoftDeleted": "false"}, ["True"]),
    ("Not([IsSoftDeleted])", {"IsSoftDeleted": "True"}, ["False"]),
    ("NumFromDate(\"2020-12-31 23:59:59-08:00\")", {}, ["132539615990000000"]),
    ('NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))',
     {"ContractEndDate": "2020-12-31-08:00"}, ["132539615990000000"]),
    ('NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))',
     {"endDate": "12/31/2020 10:00:00 AM"}, ["132539615990000000"]),
    ("PCase([firstName])", {"firstName": "PABLO GONSALVES (SECOND)"}, ["Pablo Gonsalves (Second)"]),
    ("PCase([lastName],\" '-\")", {"lastName": "PINTO-DE'SILVA"}, ["Pinto-De'Silva"]),
    ('PCase(Join(" ",[firstName],[lastName]))', {"firstName": "GREGORY", "lastName": "JAMES"}, ["Gregory James"]),
    ("Redact([userPrincipalName])", {"userPrincipalName": "a@b"}, ["a@b"]),
    ("RemoveDuplicates([proxyAddresses])", {"proxyAddresses": ["a", "b", "a"]}, ["a", "b"]),
    ('Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )', {"BusinessTitle": "Product Developer"}, ["Software Engineer"]),
    ('Replace([UserID],"<username>", , , , , "<username>@contoso.com")', {"UserID": "jsmith"}, ["jsmith@contoso.com"]),
    (r'Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )',
     {"telephoneNumber": "+91 9998887777"}, ["9998887777"]),
    # The page prints 19998887777, but its class [()\s-] does not hold the "+".
    (r'Replace([mobile], , "[()\\s-]+", , "", , )', {"mobile": "+1 (999) 888-7777"}, ["+19998887777"]),
    (r'Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )', {"AddressLineData": "545 Tremont Street"},
     ["888 Tremont Street"]),
    ('Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )', {"userPrincipalName": "jsmith@contoso.com"}, ["jsmith"]),
    (r'Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )',
     {"telephoneNumber": "", "mobile": "+91 8887779999"}, ["8887779999"]),
    ('Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', {"mailNickname": "john_doe72"}, ["72"]),
    ('Replace([mail], "@contoso.com", , ,"", ,)', {"mail": "john.doe@contoso.com"}, ["john.doe"]),
    ('Replace([preferredLanguage], "-", , , "_", , )', {"preferredLanguage": "EN-US"}, ["EN_US"]),
    ('SelectUniqueValue(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"), '
     'Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"))',
     {"PreferredFirstName": "John", "PreferredLastName": "Smith"}, ["John.Smith@contoso.com"]),
    ("SingleAppRoleAssignment([appRoleAssignments])", {"appRoleAssignments": ["Default Assignment"]}, ["Default Assignment"]),
    ('Split([extensionAttribute5], ",")', {"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"}, ["PermissionSetOne", "PermissionSetTwo"]),
    ("StripSpaces([x])", {"x": " a b  c "}, ["abc"]),
    ('Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")', {"state": "QLD"},
     ["Australia/Brisbane"]),
    ('Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")', {"state": "qld"},
     ["Australia/Sydney"]),
    ('Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")', {"statusFlag": "TRUE"}, ["1"]),
    ('Switch([statusFlag], "Default Value", "true", "1", "", "0")', {"statusFlag": ""}, ["0"]),
    ('Switch([IsSoftDeleted], , "False", "True", "True", "False")', {"IsSoftDeleted": "False"}, ["True"]),
    ('ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))',
     {"PreferredFirstName": "John", "PreferredLastName": "Smith"}, ["john.smith@contoso.com"]),
    ("ToUpper([x])", {"x": "en-us"}, ["EN-US"]),
    ('ToUpper([x], "en-US")', {"x": "a"}, ["A"]),
    ('Word("The quick brown fox",3," ")', {}, ["brown"]),
    ('Word("This,string!has&many separators",3,",!&#")', {}, ["has"]),
    ('Word("a b", 0, " ")', {}, [""]),
    ('Word("a b", 3, " ")', {}, [""]),
    ('Prepend("x-", [a])', {"a": "b"}, ["x-b"]),
    ('"United States"', {}, ["United States"]),
    ("[mail]", {"mail": "a@b"}, ["a@b"]),
    ("[mail]", {}, []),
])
def test_documented_examples(expression, attributes, expected):
    assert run(expression, **attributes) == expected


def test_join_with_a_number_and_utf8_hex():
    # The page's "1000 + object id digits" example; its printed output comes from another object id.
    object_id = "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
    digits = "".join(char for char in object_id.encode("utf-8").hex().upper() if char.isdigit())
    assert run('Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))', objectId=object_id) == ["1000" + digits]


def test_select_unique_value_asks_the_context():
    taken = {"John.Smith@contoso.com", "J.Smith@contoso.com"}
    context = EvaluationContext(is_unique=lambda value: value not in taken)
    expression = ('SelectUniqueValue(Join("@", Join(".", [PreferredFirstName], [PreferredLastName]), "contoso.com"), '
                  'Join("@", Join(".", Mid([PreferredFirstName], 1, 1), [PreferredLastName]), "contoso.com"), '
                  'Join("@", Join(".", Mid([PreferredFirstName], 1, 2), [PreferredLastName]), "contoso.com"))')
    assert run(expression, context, PreferredFirstName="John", PreferredLastName="Smith") == ["Jo.Smith@contoso.com"]
    taken.add("Jo.Smith@contoso.com")
    with pytest.raises(expressions.EvaluationError, match="escrowed"):
        run(expression, context, PreferredFirstName="John", PreferredLastName="Smith")


def test_context_supplies_time_guids_and_randomness():
    context = EvaluationContext(now=lambda: datetime(2021, 7, 2, 15, 33, 38, tzinfo=timezone.utc),
                                new_guid=lambda: uuid.UUID("00aa00aa-bb11-cc22-dd33-44ee44ee44ee"), random=random.Random(7))
    assert run("Now()", context) == ["7/2/2021 3:33:38 PM"]
    assert run("Guid()", context) == ["00aa00aa-bb11-cc22-dd33-44ee44ee44ee"]
    value = run('RandomString(10,2,2,2,1,"?,")', context)[0]
    assert len(value) == 10 and sum(char.isdigit() for char in value) >= 2 and sum(char.isupper() for char in value) >= 2
    assert "?" not in value and "," not in value
    again = run('RandomString(10,2,2,2,1,"?,")', EvaluationContext(random=random.Random(7)))[0]
    assert again == value
    assert run("DefaultDomain()", EvaluationContext(default_domain="contoso.onmicrosoft.com")) == ["contoso.onmicrosoft.com"]


@pytest.mark.parametrize("expression, attributes, fragment", [
    ('IIF([country]="","Other",[country])', {"country": ""}, "[country] is null or empty"),
    ('IIF(IsPresent([country]),[country],"Other")', {}, "[country] is null or empty"),
    ("Item([proxyAddresses], 0)", {"proxyAddresses": ["a"]}, "starts at 1"),
    ('Mid([x], "a", 1)', {"x": "abc"}, "not a number"),
    ('CBool("maybe")', {}, "neither True, False nor a number"),
    ('Replace([x], , "(", , "", , )', {"x": "a"}, "not valid"),
    ('DateAdd("q", 1, CDate("2021-01-01"))', {}, "interval"),
    ('FormatDateTime([d], "yyyy-MM-dd", "dd")', {"d": "31/12/2020"}, "does not match"),
    ('InStr("a", "b", 1, vbSomething)', {}, "compareType"),
    ("DefaultDomain()", {}, "default domain"),
])
def test_evaluation_errors(expression, attributes, fragment):
    with pytest.raises(expressions.EvaluationError) as caught:
        run(expression, **attributes)
    assert fragment in str(caught.value)


def test_input_object_values_are_normalised():
    roles = {"key": "appRoleAssignments", "value@odata.type": "#Collection(String)", "value": ["Default Assignment"]}
    attributes = expressions.attributes_from_input({"properties": [{"key": "accountEnabled", "value": True}, {"key": "n", "value": 3}, roles]})
    assert attributes == {"accountEnabled": "True", "n": "3", "appRoleAssignments": ["Default Assignment"]}


def test_every_signature_has_an_evaluator_and_the_required_functions_exist():
    required = ("Append CBool Coalesce DateFromNum FormatDateTime IIF IgnoreFlowIfNullOrEmpty InStr IsNull IsNullOrEmpty IsPresent Item Join Left Mid "
                "NormalizeDiacritics Not Replace SelectUniqueValue SingleAppRoleAssignment Split StripSpaces Switch ToLower ToUpper Word").split()
    assert set(required) <= set(expressions.SIGNATURES)
    assert set(expressions.SIGNATURES) == set(expressions.FUNCTIONS)
