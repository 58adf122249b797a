"""Application permissions (token ``roles``) that allow each kind of call.

Each constant is a ``permission_rule``: any one of the listed roles allows the call.
``ANY_VALID_TOKEN`` (None) only requires a valid access token.
Source: graph-sync-api.md §5.1 (current learn.microsoft.com permission tables).
``Application.ReadWrite.OwnedBy`` is accepted without checking ownership: the emulator does
not model owners (docs are silent on how an emulator should; we chose "allow").
"""

ANY_VALID_TOKEN = None

# §5.1 "list or get jobs, get template(s), get schema".
SYNC_READ = ("Synchronization.Read.All", "Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# §5.1 "create, start, pause, restart, delete job; PUT secrets; template update".
SYNC_WRITE = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# §5.1 "schema update or delete".
SCHEMA_WRITE = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy", "CustomSecAttributeProvisioning.ReadWrite.All")

# §5.1 "validateCredentials" (DB:validatecredentials).
VALIDATE_CREDENTIALS = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# §5.1 "provisionOnDemand": only Terraform's documentation names one.
PROVISION_ON_DEMAND = ("Synchronization.ReadWrite.All",)

# §5.1 "instantiate" (D1:applicationtemplate-instantiate).
INSTANTIATE = ("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All")

# §5.1 "list application templates": any valid token.
APPLICATION_TEMPLATES_READ = ANY_VALID_TOKEN

# Reading applications and service principals: the Application rows of the permission tables of
# https://learn.microsoft.com/graph/api/serviceprincipal-list, .../serviceprincipal-get,
# .../application-list and .../application-get (Directory.ReadWrite.All is not listed there).
DIRECTORY_READ = (
    "Application.Read.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All",
)

# Deleting applications and service principals: https://learn.microsoft.com/graph/api/application-delete and
# .../serviceprincipal-delete (Application rows). application-delete also lists
# AgentIdentityBlueprint.DeleteRestore.All, for agent identity blueprints, which the emulator does not model.
DIRECTORY_WRITE = ("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# Every role some route checks (apps may still be registered with other roles).
KNOWN_ROLES = frozenset(
    SYNC_READ + SYNC_WRITE + SCHEMA_WRITE + PROVISION_ON_DEMAND + INSTANTIATE + DIRECTORY_READ + DIRECTORY_WRITE
)
