"""一表登记: the application form is validated against the item's JSON Schema, with Chinese messages."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from tongban.cases import error_codes
from tongban.core.errors import FieldError, InvalidInput


@lru_cache(maxsize=2048)
def _validator(schema_json: str) -> Draft202012Validator:
    import json

    return Draft202012Validator(json.loads(schema_json), format_checker=FormatChecker())


def _title(schema: dict, name: str) -> str:
    return schema.get("properties", {}).get(name, {}).get("title", name)


def _message(error, schema: dict) -> tuple[str, str]:
    """(field name, Chinese message) for one jsonschema error."""
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return missing, f"请填写“{_title(schema, missing)}”。"
    if error.validator == "additionalProperties":
        extra = ", ".join(sorted(set(error.instance) - set(schema.get("properties", {}))))
        return extra, f"申请表中有不认识的字段：{extra}。"
    name = str(error.absolute_path[0]) if error.absolute_path else ""
    title = _title(schema, name) if name else "申请表"
    value = error.validator_value
    messages = {
        "type": f"“{title}”的格式不正确。",
        "maxLength": f"“{title}”不能超过 {value} 个字。",
        "minLength": f"“{title}”至少需要 {value} 个字。",
        "pattern": f"“{title}”的格式不正确。",
        "enum": f"“{title}”请从给定选项中选择。",
        "minimum": f"“{title}”不能小于 {value}。",
        "maximum": f"“{title}”不能大于 {value}。",
        "exclusiveMinimum": f"“{title}”必须大于 {value}。",
        "format": f"“{title}”应为日期，如 2026-01-31。" if value == "date" else f"“{title}”的格式不正确。",
        "minItems": f"“{title}”至少需要 {value} 项。",
    }
    return name, messages.get(error.validator, f"“{title}”填写有误。")


def validate_form(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    import json

    if not isinstance(data, dict):
        raise InvalidInput(error_codes.FORM_INVALID, "申请表应为一组字段和值。")
    validator = _validator(json.dumps(schema, sort_keys=True, ensure_ascii=False))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        field_errors = [FieldError(*_message(e, schema), code=error_codes.FORM_INVALID) for e in errors]
        first = field_errors[0].message
        raise InvalidInput(
            error_codes.FORM_INVALID,
            f"申请表填写有误：{first}"
            + (f"（另有 {len(field_errors) - 1} 处）" if len(field_errors) > 1 else ""),
            errors=field_errors,
        )
    return data
