"""Personal invitations: single-use tokens, CSV import, resumable mailings over SMTP."""

from .tokens import (
    create_invitations,
    find_invitation,
    get_invitation,
    import_invitations,
    invitation_counts,
    invited_by_department,
    issue_token,
    new_token,
    withdraw_token,
)

__all__ = [
    "create_invitations",
    "find_invitation",
    "get_invitation",
    "import_invitations",
    "invitation_counts",
    "invited_by_department",
    "issue_token",
    "new_token",
    "withdraw_token",
]
