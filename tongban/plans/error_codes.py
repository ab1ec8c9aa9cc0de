"""Stable error codes of plan supervision. Programs rely on them; never rename one."""

FILE_UNSUPPORTED = "PLAN_FILE_UNSUPPORTED"  # not text, .docx, .pdf or .html; or encrypted
PDF_NO_TEXT = "PLAN_PDF_NO_TEXT"  # a scanned PDF without a text layer
NO_STRUCTURE = "PLAN_NO_STRUCTURE"  # no parts or no tasks recognised
NOT_FOUND = "PLAN_NOT_FOUND"
IMPORT_HAS_ERRORS = "PLAN_IMPORT_HAS_ERRORS"  # the preview reports errors (duplicate task numbers)
CODE_INVALID = "PLAN_CODE_INVALID"  # not a slug of at most 64 characters
CODE_TAKEN = "PLAN_CODE_TAKEN"  # another plan has this code
FREQUENCY_INVALID = "PLAN_FREQUENCY_INVALID"
FORBIDDEN = "PLAN_FORBIDDEN"  # only the integration office imports plans and assigns units
TASK_NOT_FOUND = "PLAN_TASK_NOT_FOUND"
UNIT_UNKNOWN = "PLAN_UNIT_UNKNOWN"  # a unit that is not a known organisation
ASSIGNMENT_INVALID = "PLAN_ASSIGNMENT_INVALID"  # no lead, the lead also a co-unit, a removed task…
EXCEL_INVALID = "PLAN_EXCEL_INVALID"  # not an .xlsx, wrong columns or wrong values (by row and column)

# Tracking (reporting, review, indicators, assessment, ledger).
TRACKING_FORBIDDEN = "PLAN_TRACKING_FORBIDDEN"  # not the office / not this unit's reporter
TASK_NOT_ASSIGNED = "PLAN_TASK_NOT_ASSIGNED"  # the unit is not responsible for the task
PERIOD_NOT_FOUND = "PLAN_PERIOD_NOT_FOUND"
PERIOD_NOT_OPEN = "PLAN_PERIOD_NOT_OPEN"  # not started yet, or closed by the office
REPORT_NOT_FOUND = "PLAN_REPORT_NOT_FOUND"
REPORT_INVALID = "PLAN_REPORT_INVALID"  # status, progress or narrative not acceptable
REPORT_LOCKED = "PLAN_REPORT_LOCKED"  # submitted or accepted: the unit cannot change it now
REVIEW_STATE = "PLAN_REVIEW_STATE"  # only a submitted report can be returned or accepted
RETURN_REASON_REQUIRED = "PLAN_RETURN_REASON_REQUIRED"
ATTACHMENT_EMPTY = "PLAN_ATTACHMENT_EMPTY"
ATTACHMENT_TOO_LARGE = "PLAN_ATTACHMENT_TOO_LARGE"
ATTACHMENT_TYPE = "PLAN_ATTACHMENT_TYPE"
SETTINGS_INVALID = "PLAN_SETTINGS_INVALID"  # light rule, weights or due working days
INDICATOR_NOT_FOUND = "PLAN_INDICATOR_NOT_FOUND"
OBSERVATION_INVALID = "PLAN_OBSERVATION_INVALID"
ASSESSMENT_INVALID = "PLAN_ASSESSMENT_INVALID"
ASSESSMENT_NOT_FOUND = "PLAN_ASSESSMENT_NOT_FOUND"
LEDGER_FILE_INVALID = "PLAN_LEDGER_FILE_INVALID"  # not an .xlsx, or not a ledger of this plan
LEDGER_COLUMNS = "PLAN_LEDGER_COLUMNS"  # a required column is missing or renamed
LEDGER_ROWS_INVALID = "PLAN_LEDGER_ROWS_INVALID"  # one or more rows are wrong: nothing saved
