"""Stable error codes of electronic certificates. Programs rely on them; never rename one."""

# Input that is not a certificate at all (exit code 2 in ``tongban cert verify``).
MALFORMED = "CERT_MALFORMED"  # not an SD-JWT credential, QR text or Tongban PDF
PDF_NO_CREDENTIAL = "CERT_PDF_NO_CREDENTIAL"  # a PDF, but without an embedded credential
UNSUPPORTED = "CERT_UNSUPPORTED"  # a credential of a profile, type or algorithm this node does not know

# A certificate that is not (or no longer) acceptable (exit code 1).
SIGNATURE_INVALID = "CERT_SIGNATURE_INVALID"  # changed content, or signed by another key than its kid's
DISCLOSURE_INVALID = "CERT_DISCLOSURE_INVALID"  # a disclosure that the issuer did not sign
IDENTIFIER_INVALID = "CERT_IDENTIFIER_INVALID"  # the identifier's check character or segments are wrong
UNKNOWN_ISSUER = "CERT_UNKNOWN_ISSUER"  # the issuing node is not in the trust list
ISSUER_REMOVED = "CERT_ISSUER_REMOVED"  # the issuing node was removed from the federation
UNKNOWN_KEY = "CERT_UNKNOWN_KEY"  # the key id is not one of the issuer's keys
KEY_NOT_VALID = "CERT_KEY_NOT_VALID"  # the issuer's key was not valid when the certificate was issued
REVOKED = "CERT_REVOKED"
SUSPENDED = "CERT_SUSPENDED"
EXPIRED = "CERT_EXPIRED"
NOT_YET_VALID = "CERT_NOT_YET_VALID"
STATUS_UNKNOWN = "CERT_STATUS_UNKNOWN"  # no status list of the issuer, or it does not cover the index
STATUS_STALE = "CERT_STATUS_STALE"  # the issuer's status list is past its expiry
PDF_SEAL_INVALID = "CERT_PDF_SEAL_INVALID"  # the PDF changed after it was sealed, or its seal is not good

# Services.
TYPE_UNKNOWN = "CERT_TYPE_UNKNOWN"
NOT_FOUND = "CERT_NOT_FOUND"
FIELDS_INVALID = "CERT_FIELDS_INVALID"
STATUS_CHANGE_REFUSED = "CERT_STATUS_CHANGE_REFUSED"
NOT_ISSUER = "CERT_NOT_ISSUER"
CONSENT_REQUIRED = "CERT_CONSENT_REQUIRED"
NOT_HOLDER = "CERT_NOT_HOLDER"
WRONG_TYPE = "CERT_WRONG_TYPE"
DISCLOSE_UNKNOWN = "CERT_DISCLOSE_UNKNOWN"

# Verdicts that say the input itself was unusable (``tongban cert verify`` exits 2 for these).
UNUSABLE_INPUT = frozenset({MALFORMED, PDF_NO_CREDENTIAL, UNSUPPORTED})
