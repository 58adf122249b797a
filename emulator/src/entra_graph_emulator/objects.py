"""Graph-shaped application and servicePrincipal objects.

The shape (every property and its default) is the v1.0 instantiate example
(data/applicationtemplate-instantiate.response.json, [instantiate]),
copied for each new object without sharing nested lists.

Names in brackets, like [instantiate], are public pages listed in docs/synchronization.md#sources.
"""

import json
import marshal
import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
NON_GALLERY_TEMPLATE_ID = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
INTEGRATED_APP_TAG = "WindowsAzureActiveDirectoryIntegratedApp"
CUSTOM_SSO_TAG = "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"


def _load_shapes():
    with open(os.path.join(DATA_DIR, "applicationtemplate-instantiate.response.json"), encoding="utf-8") as handle:
        example = json.load(handle)
    return json.dumps(example["application"]), json.dumps(example["servicePrincipal"])


_APPLICATION_SHAPE, _SERVICE_PRINCIPAL_SHAPE = _load_shapes()
_APPLICATION_TEMPLATE = json.loads(_APPLICATION_SHAPE)
_SERVICE_PRINCIPAL_TEMPLATE = json.loads(_SERVICE_PRINCIPAL_SHAPE)


_APPLICATION_MARSHALLED = marshal.dumps(_APPLICATION_TEMPLATE)
_SERVICE_PRINCIPAL_MARSHALLED = marshal.dumps(_SERVICE_PRINCIPAL_TEMPLATE)


def _fresh(marshalled):
    """A new copy of a shape, sharing nothing mutable (marshal is the fastest copy of plain JSON data)."""
    return marshal.loads(marshalled)


def _scope_and_role(display_name, scope_id, role_id):
    scope = {
        "adminConsentDescription": "Allow the application to access %s on behalf of the signed-in user." % display_name,
        "adminConsentDisplayName": "Access %s" % display_name,
        "id": scope_id,
        "isEnabled": True,
        "type": "User",
        "userConsentDescription": "Allow the application to access %s on your behalf." % display_name,
        "userConsentDisplayName": "Access %s" % display_name,
        "value": "user_impersonation",
    }
    role = {"allowedMemberTypes": ["User"], "displayName": "msiam_access", "id": role_id, "isEnabled": True,
            "description": "msiam_access", "value": None, "origin": "Application"}
    return scope, role


def new_application_pair(template, display_name, ids, tenant_id, created_iso, service_management_reference=None):
    """Return (application, servicePrincipal) as instantiate creates them.

    ``ids``: dict with ``application_id``, ``app_id``, ``service_principal_id``, ``scope_id``, ``role_id``.
    """
    template_id = template["id"]
    home_page = template.get("homePageUrl") if template_id != NON_GALLERY_TEMPLATE_ID else None
    scope, role = _scope_and_role(display_name, ids["scope_id"], ids["role_id"])

    application = _fresh(_APPLICATION_MARSHALLED)
    application.update({
        "id": ids["application_id"],
        "appId": ids["app_id"],
        "applicationTemplateId": template_id,
        "createdDateTime": created_iso,
        "displayName": display_name,
        "appRoles": [role],
    })
    application["api"]["oauth2PermissionScopes"] = [scope]
    application["web"] = {"homePageUrl": home_page, "redirectUris": []}
    if service_management_reference is not None:
        application["serviceManagementReference"] = service_management_reference

    service_principal = _fresh(_SERVICE_PRINCIPAL_MARSHALLED)
    tags = [INTEGRATED_APP_TAG]
    if template_id == NON_GALLERY_TEMPLATE_ID:
        # The beta example for the non-gallery template adds the custom-SSO tag [instantiate].
        tags.append(CUSTOM_SSO_TAG)
    service_principal.update({
        "id": ids["service_principal_id"],
        "appId": ids["app_id"],
        "applicationTemplateId": template_id,
        "appDisplayName": display_name,
        "appOwnerOrganizationId": tenant_id,
        "displayName": display_name,
        "homepage": home_page,
        "replyUrls": [],
        "servicePrincipalNames": [ids["app_id"]],
        "tags": tags,
        "appRoles": [dict(role, allowedMemberTypes=["User"])],
        "oauth2PermissionScopes": [dict(scope)],
    })
    return application, service_principal


APPLICATION_PROPERTIES = tuple(_APPLICATION_TEMPLATE) + ("serviceManagementReference",)
SERVICE_PRINCIPAL_PROPERTIES = tuple(_SERVICE_PRINCIPAL_TEMPLATE)
