"""Template helpers of the proposal pages."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """``{{ counts|get:code }}``: a value of a dict (or Counter) by a key held in a variable; 0 if absent."""
    try:
        return mapping.get(key, 0)
    except AttributeError:
        return 0
