"""Stable error codes of 一件事 bundles. Programs rely on them; never rename one."""

DEFINITION_INVALID = "BUNDLE_DEFINITION_INVALID"  # a cycle, a dangling step or item, a mapping to nothing
NOT_FOUND = "BUNDLE_NOT_FOUND"
FORM_MISSING_FIELD = "BUNDLE_FORM_MISSING_FIELD"  # the form lacks a field a (later) step needs
CERTIFICATE_MISSING = (
    "BUNDLE_CERTIFICATE_MISSING"  # a step uses a certificate of the applicant's they do not hold
)
CONSENT_REQUIRED = "BUNDLE_CONSENT_REQUIRED"  # the applicant did not sign the one declaration
STEP_REFUSED = "BUNDLE_STEP_REFUSED"  # a step could not be started: its own error is attached
OUTPUT_INVALID = "BUNDLE_OUTPUT_INVALID"  # a step produced an unusable value (e.g. an invalid USCC)
EXTERNAL_ERROR = "BUNDLE_EXTERNAL_ERROR"  # an outside party (the bank) failed; retried
NOT_WITHDRAWABLE = "BUNDLE_NOT_WITHDRAWABLE"
SUPERVISORS_ONLY = "BUNDLE_SUPERVISORS_ONLY"  # metrics and other applicants' bundles
