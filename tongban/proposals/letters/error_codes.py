"""Stable error codes of reply letters (答复函). Programs rely on them; never rename one.

Every one is raised as :class:`tongban.core.errors.InvalidInput` by
:func:`tongban.proposals.letters.validation.validate_letter`, before any byte is produced.
"""

ISSUER_MISSING = "LETTER_ISSUER_MISSING"  # no 发文机关
DOCUMENT_NUMBER_MISSING = "LETTER_DOCUMENT_NUMBER_MISSING"  # empty 发文字号
DOCUMENT_NUMBER_MALFORMED = (
    "LETTER_DOCUMENT_NUMBER_MALFORMED"  # not 代字〔年份〕序号号 (e.g. 瑶发改案〔2022〕15号)
)
TITLE_MISSING = "LETTER_TITLE_MISSING"
ADDRESSEE_MISSING = "LETTER_ADDRESSEE_MISSING"  # no 主送
BODY_EMPTY = "LETTER_BODY_EMPTY"
BLOCK_INVALID = (
    "LETTER_BLOCK_INVALID"  # a body block with an unknown level, no text, or a label of another level
)
CLASS_MISSING = "LETTER_CLASS_MISSING"  # no 办复类别
CLASS_UNKNOWN = "LETTER_CLASS_UNKNOWN"  # a 办复类别 outside the jurisdiction's class table
CONTACT_MISSING = "LETTER_CONTACT_MISSING"  # no 联系单位 or 联系电话
DATE_MISSING = "LETTER_DATE_MISSING"  # no 成文日期
UNRENDERABLE_CHARACTER = "LETTER_UNRENDERABLE_CHARACTER"  # a character no available font can draw
