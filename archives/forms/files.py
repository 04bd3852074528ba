"""Forms of the file pages: a scan filed in its place with the facts the checks read, the
audit of a document, and an exemption of a section's papers. Every rule is the service's;
these only parse what was typed."""

from datetime import timedelta

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import display_name

from ..choices import DocumentKind, ExemptionReason

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SCAN_EXTENSIONS = ".pdf,.jpg,.jpeg,.png"
FACTS = ("document_date", "name_on_document", "signed", "stamped", "all_pages")
# The facts asked with each paper: what the checks read from it (the dates compared, the
# buyer's name, the agreement's signature, stamp and pages) and the stamp on the PDI copy.
FACTS_ASKED = {
    DocumentKind.PURCHASE_INVOICE: ("document_date", "name_on_document"),
    DocumentKind.PDI_CERTIFICATE: ("document_date", "signed", "stamped", "all_pages"),
    DocumentKind.BUYER_ID: ("name_on_document",),
    DocumentKind.PURCHASE_AGREEMENT: ("document_date", "signed", "stamped", "all_pages"),
    DocumentKind.PDI_SHEET: ("document_date",),
}
# An exemption offered until this many days from today.
EXEMPTION_DAYS = 7


class DocumentUploadForm(BootstrapFormMixin, forms.Form):
    """A scan of one paper. With `kind` the paper's place is fixed (the field is hidden) and
    its facts are asked; without it, the paper is picked from `offered`."""

    kind = forms.ChoiceField(
        label=_("document"), choices=DocumentKind.choices, widget=forms.HiddenInput
    )
    file = forms.FileField(
        label=_("scan"),
        # Empty, too large, of another type: the service refuses it with its own code.
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": SCAN_EXTENSIONS}),
    )
    document_date = forms.DateField(
        label=_("date on the document"), required=False, widget=DATE_INPUT
    )
    name_on_document = forms.CharField(
        label=_("name on the document"), max_length=100, required=False
    )
    signed = forms.BooleanField(label=_("signed"), required=False)
    stamped = forms.BooleanField(label=_("stamped"), required=False)
    all_pages = forms.BooleanField(label=_("complete, every page"), required=False)

    def __init__(self, *args, kind: str | None = None, offered: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked = FACTS_ASKED.get(kind, ())
        for fact in FACTS:
            if fact not in self.asked:
                del self.fields[fact]
        if kind is None:
            self.fields["kind"].widget = forms.Select(
                choices=[(each, DocumentKind(each).label) for each in offered or []],
                attrs={"class": "form-select"},
            )
        else:
            self.fields["kind"].initial = kind
        if "name_on_document" in self.fields:
            self.fields["name_on_document"].widget.attrs["placeholder"] = _("as printed")

    def facts(self) -> dict:
        """The facts typed, as the service reads them; facts not asked keep its defaults."""
        return {fact: self.cleaned_data[fact] for fact in self.asked}


class DocumentAuditForm(BootstrapFormMixin, forms.Form):
    """Conforming, or returned with what is wrong and who answers for it (one of `staff`)."""

    conforming = forms.TypedChoiceField(
        choices=[("1", _("Conforming")), ("0", _("Return"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(label=_("what is wrong"), max_length=300, required=False)
    responsible = forms.TypedChoiceField(
        label=_("responsible"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args, staff: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = {person.pk: person for person in staff}
        self.fields["responsible"].choices = [
            ("", "—"),
            *((person.pk, display_name(person)) for person in staff),
        ]
        self.fields["reason"].widget.attrs["placeholder"] = _("needed to return it")

    def clean_responsible(self) -> User | None:
        chosen = self.cleaned_data["responsible"]
        return self.staff[chosen] if chosen else None


class ExemptionForm(BootstrapFormMixin, forms.Form):
    reason = forms.ChoiceField(label=_("reason"), choices=ExemptionReason.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False)
    ends_on = forms.DateField(
        label=_("until"),
        widget=DATE_INPUT,
        help_text=_("The papers are due again after this day."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ends_on"].initial = timezone.localdate() + timedelta(days=EXEMPTION_DAYS)
