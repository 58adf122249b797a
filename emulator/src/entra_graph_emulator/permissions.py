"""Application permissions (token ``roles``) that allow each kind of call.

Each constant is a ``permission_rule``: any one of the listed roles allows the call.
``ANY_VALID_TOKEN`` (None) only requires a valid access token.
Source: [permissions] (current learn.microsoft.com permission tables).
``Application.ReadWrite.OwnedBy`` is accepted without checking ownership: the emulator does
not model owners (docs are silent on how an emulator should; we chose "allow").

Names in brackets, like [permissions], are public pages listed in docs/synchronization.md#sources.
"""

ANY_VALID_TOKEN = None

# [permissions] "list or get jobs, get template(s), get schema".
SYNC_READ = ("Synchronization.Read.All", "Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# [permissions] "create, start, pause, restart, delete job; PUT secrets; template update".
SYNC_WRITE = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# [permissions] "schema update or delete".
SCHEMA_WRITE = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy", "CustomSecAttributeProvisioning.ReadWrite.All")

# [permissions] "validateCredentials" [validateCredentials, beta].
VALIDATE_CREDENTIALS = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# [permissions] "provisionOnDemand": only Terraform's documentation names one.
PROVISION_ON_DEMAND = ("Synchronization.ReadWrite.All",)

# [permissions] "instantiate" [instantiate].
INSTANTIATE = ("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All")

# [permissions] "list application templates": any valid token.
APPLICATION_TEMPLATES_READ = ANY_VALID_TOKEN

# Reading applications and service principals ([list service principals], [list applications] permission
# tables, Application rows: they do not list Directory.ReadWrite.All).
DIRECTORY_READ = (
    "Application.Read.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All",
)

# Deleting applications and service principals ([delete application], [delete service principal], Application
# rows). [delete application] also lists AgentIdentityBlueprint.DeleteRestore.All, for agent identity
# blueprints, which the emulator does not model.
DIRECTORY_WRITE = ("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# Reading users, groups and assignments ([list users], [list groups], [appRoleAssignedTo] permission tables).
USERS_READ = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
GROUPS_READ = ("GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
APP_ROLE_ASSIGNMENTS_READ = ("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")


class AllOf(tuple):
    """A rule that needs every listed role (the others need any one)."""


# "List provisioningObjectSummary": Application "AuditLog.Read.All and Directory.Read.All"
# (https://learn.microsoft.com/graph/api/provisioningobjectsummary-list#permissions).
PROVISIONING_LOGS_READ = AllOf(("AuditLog.Read.All", "Directory.Read.All"))

# Every role some route checks (apps may still be registered with other roles).
KNOWN_ROLES = frozenset(
    SYNC_READ + SYNC_WRITE + SCHEMA_WRITE + PROVISION_ON_DEMAND + INSTANTIATE + DIRECTORY_READ + DIRECTORY_WRITE
    + USERS_READ + GROUPS_READ + APP_ROLE_ASSIGNMENTS_READ + PROVISIONING_LOGS_READ
)
