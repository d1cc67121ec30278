"""The pages: the reviewer's check, the commission's findings, the audit bureau's screenings,
in Chinese, server-rendered (Jinja2), with no script or style from outside the package."""
