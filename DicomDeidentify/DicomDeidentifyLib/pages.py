"""The pages people read, the run report and the compare page: Jinja2 templates in templates/.

Every value reaches a page through a template with autoescaping on (Jinja2's `autoescape=True`):
a DICOM value is text, never markup. Jinja2 is imported on first use, so that the command line's
--help and every run that writes no page never load it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")


class PageTemplateMissing(OSError):
    """A page's template file is not where the library is installed (an install that left templates/
    out): the page cannot be written; the message names the file and what to do."""


def jinja2_missing() -> bool:
    """Whether Jinja2 cannot be imported (Slicer does not bundle it): a page cannot be written."""
    import importlib.util
    return importlib.util.find_spec("jinja2") is None


@lru_cache(maxsize=1)
def _environment():
    import jinja2
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def prepare(*templates: str) -> None:
    """Import Jinja2 and compile `templates` now (file names in templates/), so that a later render of them
    only fills them in (a run does this while its last files finish: ~60 ms of CPU for the report page).
    Raises ImportError without Jinja2, jinja2.TemplateError for a broken template."""
    for template in templates:
        _environment().get_template(template)


def render(template: str, **context) -> str:
    """The page `template` (a file name in templates/, e.g. "report.html.j2") filled with `context`.
    A value the template names that is not given is empty (older report documents lack newer keys).
    Raises ImportError without Jinja2, PageTemplateMissing when a template file is not installed,
    jinja2.TemplateError for a broken template."""
    import jinja2
    try:
        return _environment().get_template(template).render(**context)
    except jinja2.TemplateNotFound as error:
        raise PageTemplateMissing(f"the page template {error.name} is missing from {TEMPLATES}: reinstall "
                                  "SlicerDeidentify (the extension or the package)") from None
