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
