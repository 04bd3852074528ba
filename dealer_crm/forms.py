"""Form helpers shared by every app's pages."""

from django import forms


def bootstrap_widgets(form: forms.BaseForm, *, mark_errors: bool = True) -> forms.BaseForm:
    """Give every widget Bootstrap's classes, and mark invalid fields once validated."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        if mark_errors and form.is_bound and name in form.errors:
            css += " is-invalid"
        widget.attrs["class"] = css
    return form


class BootstrapFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Not validated here: a subclass may still narrow its fields' choices after this.
        bootstrap_widgets(self, mark_errors=False)

    def full_clean(self):
        super().full_clean()
        bootstrap_widgets(self)

    def sections(self) -> list[tuple[str, list]]:
        """(title, bound fields) for each of the form's `SECTIONS`, in order."""
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in self.SECTIONS
        ]
