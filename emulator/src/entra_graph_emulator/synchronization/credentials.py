"""Secrets and the simulated provisioning targets that accept or reject them.

The synchronizationSecret vocabulary, which keys GET masks, and the rules by which the simulated
targets judge credentials: used by validateCredentials, by every job cycle and by provisionOnDemand.

Names in brackets, like [CSDL], are public pages listed in docs/synchronization.md#sources.
"""

import re

from . import simulation

# The synchronizationSecret enum ([CSDL], [secret pair]:
# https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationsecretkeystringvaluepair). Keys are
# parsed case-sensitively (inferred from the .NET enum parser's error, [SCIM onboarding agent]). The collection keeps
# its own copy (plugins/module_utils/_sync_secret.py; neither imports the other):
# tests/unit/plugins/module_utils/test__sync_secret_keys.py fails when the two differ.
SECRET_KEYS = frozenset((
    "None", "UserName", "Password", "SecretToken", "AppKey", "BaseAddress", "ClientIdentifier", "ClientSecret",
    "SingleSignOnType", "Sandbox", "Url", "Domain", "ConsumerKey", "ConsumerSecret", "TokenKey", "TokenExpiration",
    "Oauth2AccessToken", "Oauth2AccessTokenCreationTime", "Oauth2RefreshToken", "SyncAll", "InstanceName",
    "Oauth2ClientId", "Oauth2ClientSecret", "CompanyId", "UpdateKeyOnSoftDelete", "SynchronizationSchedule",
    "SystemOfRecord", "SandboxName", "EnforceDomain", "SyncNotificationSettings", "SkipOutOfScopeDeletions",
    "Oauth2AuthorizationCode", "Oauth2RedirectUri", "ApplicationTemplateIdentifier", "Oauth2TokenExchangeUri",
    "Oauth2AuthorizationUri", "AuthenticationType", "Server", "PerformInboundEntitlementGrants", "HardDeletesEnabled",
    "SyncAgentCompatibilityKey", "SyncAgentADContainer", "ValidateDomain", "TestReferences", "ConnectionString",
))
# Masked on GET besides the template's "secret": true configuration fields ([secret masking]:
# Password is observed masked; the rest follow from their names).
ALWAYS_MASKED_SECRET_KEYS = frozenset((
    "Password", "SecretToken", "ClientSecret", "Oauth2ClientSecret", "Oauth2AccessToken", "Oauth2RefreshToken",
    "ConsumerSecret", "Oauth2AuthorizationCode",
))
# The masking token [Terraform].
MASK = "*"

# A GUID (the cross-tenant target's CompanyId; Edm.Guid in request bodies).
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# ---------------------------------------------------------------------------------------------
# Credentials: the simulated targets (validateCredentials, cycles, provisionOnDemand)
# ---------------------------------------------------------------------------------------------

class CredentialProblem:
    """Why credentials are rejected: the job-level error (quarantine) and the API-level detail."""

    __slots__ = ("code", "message", "detail_code", "detail_message", "target")

    def __init__(self, code, message, detail_code=None, detail_message=None, target=None):
        self.code = code
        self.message = message
        self.detail_code = detail_code or code
        self.detail_message = detail_message or message
        self.target = target


SCIM_INVALID_CREDENTIALS = "SystemForCrossDomainIdentityManagementInvalidCredentials"
SCIM_VALIDATION_UNAVAILABLE = "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"


def normalise_base_address(address):
    return str(address or "").strip().rstrip("/").lower()


def _scim_problem(secrets, targets):
    """SCIM (and SCIM-based gallery) credentials: BaseAddress + SecretToken.

    Rules (docs are silent; we chose): a registered target accepts only its tokens; any other
    https base address accepts any non-empty token; anything else is rejected.
    """
    base = str(secrets.get("BaseAddress") or "").strip()
    token = secrets.get("SecretToken") or ""
    if not base.lower().startswith("https://") or len(base) <= len("https://"):
        # [AWS SSO walkthrough]'s quarantined job [observed errors].
        return CredentialProblem(SCIM_INVALID_CREDENTIALS, "Please provide a valid tenant URL for your application.", target="BaseAddress")
    if not token:
        return CredentialProblem(SCIM_INVALID_CREDENTIALS, "Please provide a valid secret token for your application.", target="SecretToken")
    accepted = _registered_tokens(base, targets)
    if accepted is not None and token not in accepted:
        # [Asterius test]: validation against a SCIM endpoint that answers 401 [observed errors].
        return CredentialProblem(
            SCIM_INVALID_CREDENTIALS,
            "The SCIM endpoint rejected the secret token: Unauthorized (401). Please provide valid credentials for your application.",
            SCIM_VALIDATION_UNAVAILABLE,
            "Error validating credentials. The SCIM endpoint answered Unauthorized (401).",
            "SecretToken")
    return None


def _registered_tokens(base, targets):
    """Tokens of the registered target whose base address is ``base`` or a path prefix of it."""
    normalised = normalise_base_address(base)
    best = None
    for address, tokens in targets.items():
        if normalised == address or normalised.startswith(address + "/"):
            if best is None or len(address) > len(best[0]):
                best = (address, tokens)
    return best[1] if best else None


def _keys_problem(secrets, keys, code, message):
    for key in keys:
        if not str(secrets.get(key) or "").strip():
            return CredentialProblem(code, message, target=key)
    return None


def credential_problem(kind, secrets, targets):
    """None when ``secrets`` would be accepted by the simulated target of ``kind``."""
    if kind == "scim":
        return _scim_problem(secrets, targets)
    if kind == "salesforce":
        # [job get]'s quarantine error [observed errors].
        return _keys_problem(secrets, ("UserName", "Password", "SecretToken"), "SalesforceInvalidCredentials",
                             "Your Salesforce.com credentials are invalid.  Please obtain a current Salesforce.com administrative user name, "
                             "password and security token, and enter those in the screen for configuring user provisioning")
    if kind == "box":
        # [Box example]'s quarantined job [observed errors].
        return _keys_problem(secrets, ("SecretToken",), "BoxInsufficientPermissions",
                             "Authorization with Box is not valid. Please re-authorize access to Box")
    if kind == "aws":
        # [provisioning API guide] and [2020 walkthrough] save ClientSecret and SecretToken for AWS;
        # docs are silent on the error code: we chose InvalidCredentials.
        return _keys_problem(secrets, ("ClientSecret", "SecretToken"), "InvalidCredentials",
                             "The AWS access key or secret key is invalid. Please provide valid credentials.")
    if kind == "azure2azure":
        # [cross-tenant guide]: CompanyId (the target tenant) and AuthenticationType SyncPolicy; the error code is our choice.
        company = str(secrets.get("CompanyId") or "")
        if not GUID_RE.match(company):
            return CredentialProblem("InvalidCredentials", "Please provide the target tenant id (CompanyId) for cross-tenant synchronization.",
                                     target="CompanyId")
        if secrets.get("AuthenticationType") != "SyncPolicy":
            return CredentialProblem("InvalidCredentials", "Cross-tenant synchronization authenticates with AuthenticationType SyncPolicy.",
                                     target="AuthenticationType")
        return None
    return None


def cycle_failure(problem):
    # [quarantine guide]: invalid credentials quarantine the job with EncounteredQuarantineException.
    return simulation.CycleFailure("EncounteredQuarantineException", problem.code, problem.message, True)


def seed_secrets(kind):
    """Valid credentials for the simulated target of ``kind`` (seeded jobs that run)."""
    return {
        "scim": {"BaseAddress": "https://scim.emulator.test/scim/v2", "SecretToken": "seeded-secret-token"},
        "salesforce": {"UserName": "admin@contoso.example", "Password": "seeded-password", "SecretToken": "seeded-security-token"},
        "box": {"SecretToken": "seeded-secret-token"},
        "aws": {"ClientSecret": "seeded-access-key", "SecretToken": "seeded-secret-key"},
        "azure2azure": {"CompanyId": "00000000-0000-4000-8000-000000000001", "AuthenticationType": "SyncPolicy"},
    }.get(kind, {"BaseAddress": "https://scim.emulator.test/scim/v2", "SecretToken": "seeded-secret-token"})
