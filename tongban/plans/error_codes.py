"""Stable error codes of plan supervision. Programs rely on them; never rename one."""

FILE_UNSUPPORTED = "PLAN_FILE_UNSUPPORTED"  # not text, .docx, .pdf or .html; or encrypted
PDF_NO_TEXT = "PLAN_PDF_NO_TEXT"  # a scanned PDF without a text layer
NO_STRUCTURE = "PLAN_NO_STRUCTURE"  # no parts or no tasks recognised
NOT_FOUND = "PLAN_NOT_FOUND"
