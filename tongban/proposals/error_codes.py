"""Stable error codes of proposal handling (建议提案办理). Programs rely on them; never rename one."""

NOT_FOUND = "PROPOSAL_NOT_FOUND"
FORBIDDEN = "PROPOSAL_FORBIDDEN"  # the user's role or unit does not allow this step
INVALID = "PROPOSAL_INVALID"  # a required field is missing or malformed (see ``errors``)
DUPLICATE_NUMBER = "PROPOSAL_DUPLICATE_NUMBER"  # the session already has a proposal with this number
UNKNOWN_KIND = "PROPOSAL_UNKNOWN_KIND"
UNKNOWN_JURISDICTION = "PROPOSAL_UNKNOWN_JURISDICTION"
RULES_INVALID = "PROPOSAL_RULES_INVALID"  # a jurisdiction's rules do not make sense
STATE_CONFLICT = "PROPOSAL_STATE_CONFLICT"  # the step is not possible in the proposal's status
LEAD_UNIT_REQUIRED = "PROPOSAL_LEAD_UNIT_REQUIRED"  # a hand-over without a lead unit
UNIT_UNKNOWN = "PROPOSAL_UNIT_UNKNOWN"
UNIT_DUPLICATE = "PROPOSAL_UNIT_DUPLICATE"  # the lead unit also listed as co-handler, or twice
TRANSFER_WINDOW_CLOSED = "PROPOSAL_TRANSFER_WINDOW_CLOSED"  # accept/return asked after the window
REASON_REQUIRED = "PROPOSAL_REASON_REQUIRED"
CLASS_REQUIRED = "PROPOSAL_CLASS_REQUIRED"  # a reply without a class
UNKNOWN_CLASS = "PROPOSAL_UNKNOWN_CLASS"  # a class not in the jurisdiction's class table
BODY_REQUIRED = "PROPOSAL_BODY_REQUIRED"
PROMISE_DATE_REQUIRED = "PROPOSAL_PROMISE_DATE_REQUIRED"  # a follow-up class needs the promised date
NOT_SIGNED_OFF = "PROPOSAL_NOT_SIGNED_OFF"  # a letter or sending for a reply not signed off
UNIT_PROFILE_MISSING = "PROPOSAL_UNIT_PROFILE_MISSING"  # the unit has no 发文字号 prefix
NOT_ANSWERED = "PROPOSAL_NOT_ANSWERED"  # feedback on a proposal not answered yet
UNKNOWN_SATISFACTION = "PROPOSAL_UNKNOWN_SATISFACTION"
EXTENSION_TOO_LONG = "PROPOSAL_EXTENSION_TOO_LONG"
EXTENSION_PENDING = "PROPOSAL_EXTENSION_PENDING"
PUBLICATION_NOT_FOUND = "PROPOSAL_PUBLICATION_NOT_FOUND"
LETTER_UNAVAILABLE = "PROPOSAL_LETTER_UNAVAILABLE"  # the renderer is not installed
UNKNOWN_FORMAT = "PROPOSAL_UNKNOWN_FORMAT"
