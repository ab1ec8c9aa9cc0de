"""Stable error codes of the exchange between nodes (see docs/exchange.md).

Programs rely on these strings (the sending relay decides what to do from them); never rename one,
add a new one instead.
"""

# An envelope refused by the receiver (docs/exchange.md, "What the receiver checks")
ENVELOPE_MALFORMED = "ENVELOPE_MALFORMED"  # not an object, a field missing, of the wrong type or form
BODY_TOO_LARGE = "BODY_TOO_LARGE"  # the request body exceeds TONGBAN_EXCHANGE_MAX_BODY_BYTES
WRONG_RECIPIENT = "WRONG_RECIPIENT"  # addressed to another node
UNKNOWN_SENDER = "UNKNOWN_SENDER"  # the sender is not in the trust list
MEMBER_REMOVED = "MEMBER_REMOVED"  # the sender is in the trust list with status "removed"
UNKNOWN_KEY = "UNKNOWN_KEY"  # the kid is not one of the sender's keys
KEY_NOT_VALID = "KEY_NOT_VALID"  # the key was not valid at the envelope's created_at
BAD_SIGNATURE = "BAD_SIGNATURE"  # the signature does not verify (or its algorithm is not the key's)
STALE = "STALE"  # created_at older than TONGBAN_EXCHANGE_MAX_AGE_SECONDS
FROM_THE_FUTURE = "FROM_THE_FUTURE"  # created_at later than now + TONGBAN_EXCHANGE_MAX_SKEW_SECONDS

# Looking up where to send (the sending side)
UNKNOWN_RECIPIENT = "UNKNOWN_RECIPIENT"  # the recipient is not in the trust list
RECIPIENT_REMOVED = "RECIPIENT_REMOVED"  # the recipient is in the trust list with status "removed"

# The trust list
TRUST_LIST_MALFORMED = "TRUST_LIST_MALFORMED"  # not a trust list document as docs/exchange.md describes
TRUST_LIST_BAD_SIGNATURE = "TRUST_LIST_BAD_SIGNATURE"  # not signed by a configured trust anchor key
TRUST_LIST_ROLLBACK = "TRUST_LIST_ROLLBACK"  # a lower version than the one installed (or same, differing)
TRUST_LIST_MISSING = "TRUST_LIST_MISSING"  # no trust list installed yet
TRUST_LIST_EXPIRED = "TRUST_LIST_EXPIRED"  # past next_update + TONGBAN_TRUST_GRACE_HOURS
TRUST_ANCHOR_NOT_CONFIGURED = "TRUST_ANCHOR_NOT_CONFIGURED"  # TONGBAN_TRUST_ANCHOR_KEY unset or invalid
TRUST_LIST_URL_MISSING = "TRUST_LIST_URL_MISSING"  # TONGBAN_TRUST_LIST_URL unset
TRUST_LIST_UNREACHABLE = "TRUST_LIST_UNREACHABLE"  # the fetch failed (network, HTTP status, file)

# This node's own signing keys
NODE_KEY_MISSING = "NODE_KEY_MISSING"  # no key yet: run `tongban federation node-init`
NODE_KEY_UNREADABLE = "NODE_KEY_UNREADABLE"  # the key file cannot be read or decrypted
NODE_KEY_EXISTS = "NODE_KEY_EXISTS"  # node-init with a kid other than the current key's
NODE_KEY_INVALID_KID = "NODE_KEY_INVALID_KID"  # a kid with characters outside [A-Za-z0-9._:-]
