"""``{% url %}`` through :func:`kepuyue.common.reversing.reverse` (decision 0036): the same tag, the same
answers and errors, each URL worked out once per process. Loaded as a builtin (``TEMPLATES``), so it
replaces Django's tag in every template without a ``{% load %}``."""

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from kepuyue.common.reversing import reverse

register = template.Library()


class URLNode(defaulttags.URLNode):
    def render(self, context):
        # django.template.defaulttags.URLNode.render, with the remembered reverse().
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        if context.autoescape:
            url = conditional_escape(url)
        return url


@register.tag
def url(parser, token):
    """Django's ``{% url %}`` (same syntax), remembered per process."""
    node = defaulttags.url(parser, token)
    node.__class__ = URLNode
    return node
