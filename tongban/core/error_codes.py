"""Stable error codes raised by the core services (working days, audit log).

Programs rely on these strings; never rename one, add a new one instead.
"""

# Working days and holiday schedules
INVALID_DATE = "INVALID_DATE"  # not a calendar date, or the wrong type
INVALID_WORKDAY_COUNT = "INVALID_WORKDAY_COUNT"  # negative, not an integer, or absurdly large
INVALID_SCHEDULE = "INVALID_SCHEDULE"  # a holiday schedule that cannot be loaded as given
DATE_OUTSIDE_YEAR = "DATE_OUTSIDE_YEAR"  # a schedule entry dated in another year
DUPLICATE_DATE = "DUPLICATE_DATE"  # the same date twice in one schedule
MAKEUP_DAY_NOT_WEEKEND = "MAKEUP_DAY_NOT_WEEKEND"  # a 调休 workday on a day that is a workday anyway
SCHEDULE_FILE_UNREADABLE = "SCHEDULE_FILE_UNREADABLE"  # missing file, bad encoding, not JSON
SCHEDULE_LOAD_FORBIDDEN = "SCHEDULE_LOAD_FORBIDDEN"

# Audit log
AUDIT_ENTRY_IMMUTABLE = "AUDIT_ENTRY_IMMUTABLE"
