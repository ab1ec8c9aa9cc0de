"""Stable error codes of proposal handling (建议提案办理). Programs rely on them; never rename one."""

NOT_FOUND = "PROPOSAL_NOT_FOUND"
