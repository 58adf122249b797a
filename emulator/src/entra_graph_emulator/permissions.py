"""Application permissions (token ``roles``) that allow each kind of call.

Each constant is a ``permission_rule``: any one of the listed roles allows the call.
``ANY_VALID_TOKEN`` (None) only requires a valid access token.
Source: [permissions] (current learn.microsoft.com permission tables).
``Application.ReadWrite.OwnedBy`` is accepted without checking ownership: the emulator does
not model owners (docs are silent on how an emulator should; we chose "allow").

Names in brackets, like [permissions], are public pages listed in docs/synchronization.md#sources.
"""

ANY_VALID_TOKEN = None

# [permissions] "list or get jobs, get template(s)".
SYNC_READ = ("Synchronization.Read.All", "Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# Get a job's or a template's schema: its Application row also lists the custom security attribute provisioning
# permissions, CustomSecAttributeProvisioning.Read.All as the least privileged
# (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-get#permissions).
SCHEMA_READ = SYNC_READ + ("CustomSecAttributeProvisioning.Read.All", "CustomSecAttributeProvisioning.ReadWrite.All")

# [permissions] "create, start, pause, restart, delete job; PUT secrets; template update".
SYNC_WRITE = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# [permissions] "schema update or delete"
# (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-update#permissions,
# https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-delete#permissions).
SCHEMA_WRITE = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy", "CustomSecAttributeProvisioning.ReadWrite.All")

# [permissions] "validateCredentials" [validateCredentials, beta].
VALIDATE_CREDENTIALS = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# parseExpression needs a write permission although it changes nothing: its Application row lists
# Application.ReadWrite.OwnedBy and Synchronization.ReadWrite.All only
# (https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-parseexpression#permissions).
PARSE_EXPRESSION = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

# provisionOnDemand: Application.ReadWrite.OwnedBy, then Synchronization.ReadWrite.All
# (https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-provisionondemand#permissions).
PROVISION_ON_DEMAND = ("Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy")

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
# List group members: its Application row lists GroupMember.ReadWrite.All, not Directory.ReadWrite.All
# (https://learn.microsoft.com/graph/api/group-list-members#permissions).
GROUP_MEMBERS_READ = ("GroupMember.Read.All", "Directory.Read.All", "Group.Read.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All")
# Its Application row also lists Application.ReadWrite.OwnedBy
# (https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto#permissions).
APP_ROLE_ASSIGNMENTS_READ = (
    "Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All",
)


class AllOf(tuple):
    """A rule that needs every listed role (the others need any one)."""


# "List provisioningObjectSummary": Application "AuditLog.Read.All and Directory.Read.All"
# (https://learn.microsoft.com/graph/api/provisioningobjectsummary-list#permissions).
PROVISIONING_LOGS_READ = AllOf(("AuditLog.Read.All", "Directory.Read.All"))

# Every role some route checks (apps may still be registered with other roles).
KNOWN_ROLES = frozenset(
    SYNC_READ + SCHEMA_READ + SYNC_WRITE + SCHEMA_WRITE + PARSE_EXPRESSION + PROVISION_ON_DEMAND + INSTANTIATE + DIRECTORY_READ
    + DIRECTORY_WRITE + USERS_READ + GROUPS_READ + GROUP_MEMBERS_READ + APP_ROLE_ASSIGNMENTS_READ + PROVISIONING_LOGS_READ
)
