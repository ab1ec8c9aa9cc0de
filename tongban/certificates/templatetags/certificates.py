from django import template

from tongban.certificates.once_only import certificate_uses_of

register = template.Library()


@register.simple_tag
def certificate_uses(case):
    """The certificates that stood in for materials of ``case`` (免提交), as this node verified them."""
    return certificate_uses_of(case)
