"""Account forms: registering an account, reassigning it, its monthly progress, its buying
centre, its annual agreements and their volume tiers. Every rule is the service's; these only
parse what was typed."""

from pathlib import Path

from django import forms
from django.contrib.auth.models import User
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.forms import staff_choices
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch, display_name

from ..models import BuyingCentreMember, FleetAccount

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH_INPUT = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})
UNITS_INPUT = forms.NumberInput(attrs={"step": "1", "min": "1", "inputmode": "numeric"})
# A signed agreement is scanned or printed to PDF; nothing else is kept.
DOCUMENT_EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png"}
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
# Blank tier rows offered under the agreement's bands.
BLANK_TIER_ROWS = 3


class ServiceModelForm(BootstrapFormMixin, forms.ModelForm):
    """Parses fields the model's way; the service validates the whole record (and its
    uniqueness, with its own words)."""

    def _post_clean(self):
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class AccountRegisterForm(ServiceModelForm):
    class Meta:
        model = FleetAccount
        fields = ["name", "account_class", "credit_code", "parent", "account_manager"]
        help_texts = {
            "credit_code": _("18 characters, as on the business licence."),
            "parent": _("Affiliates count with their parent organization for volume."),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.queryset = FleetAccount.objects.for_user(user).order_by("name")
        parent.required = False
        manager = self.fields["account_manager"]
        manager.queryset = staff_choices(user)
        manager.label_from_instance = display_name
        manager.initial = user.pk
        self.fields["credit_code"].widget.attrs.update(
            {"autocomplete": "off", "style": "text-transform:uppercase"}
        )


class ReassignForm(BootstrapFormMixin, forms.Form):
    """A lapsed account given to a branch and one of its people."""

    branch = forms.ModelChoiceField(label=_("branch"), queryset=Branch.objects.none())
    account_manager = forms.ModelChoiceField(
        label=_("account manager"), queryset=User.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.filter(is_active=True).order_by("code")
        manager = self.fields["account_manager"]
        manager.queryset = (
            User.objects.filter(is_active=True, staff__branches__is_active=True)
            .distinct()
            .order_by("first_name", "username")
        )
        manager.label_from_instance = display_name


class ProgressReportForm(BootstrapFormMixin, forms.Form):
    month = forms.DateField(
        label=_("month"),
        widget=MONTH_INPUT,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text=_("Due on the 1st of each month to keep the protection."),
    )
    summary = forms.CharField(
        label=_("progress"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].initial = timezone.localdate().replace(day=1)


class BuyingCentreMemberForm(ServiceModelForm):
    class Meta:
        model = BuyingCentreMember
        fields = ["name", "title", "role", "attitude", "phone", "last_contact_on", "note"]
        widgets = {"last_contact_on": DATE_INPUT}


class AgreementSignForm(BootstrapFormMixin, forms.Form):
    signed_on = forms.DateField(label=_("signed on"), widget=DATE_INPUT)
    agreed_units = forms.IntegerField(
        label=_("units agreed"), min_value=0, max_value=100_000, initial=0
    )
    terms = forms.CharField(label=_("discounts and terms agreed"), max_length=300, required=False)
    document = forms.FileField(
        label=_("signed agreement"),
        required=False,
        help_text=_("PDF or a photo (JPG, PNG), at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate()

    def clean_document(self):
        document = self.cleaned_data.get("document")
        if not document:
            return None
        if Path(document.name).suffix.lower() not in DOCUMENT_EXTENSIONS:
            raise forms.ValidationError(_("Attach a PDF, JPG or PNG file."))
        if document.size > DOCUMENT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return document


class TierBandForm(BootstrapFormMixin, forms.Form):
    """One band: from this many delivered units (to that many, or on), this support per
    unit."""

    from_units = forms.IntegerField(
        label=_("from unit"), min_value=1, max_value=1_000_000, widget=UNITS_INPUT
    )
    to_units = forms.IntegerField(
        label=_("to unit"), min_value=1, max_value=1_000_000, required=False, widget=UNITS_INPUT
    )
    support_per_unit = forms.DecimalField(
        label=_("support per unit (CNY)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        widget=MONEY_INPUT,
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("from_units"), data.get("to_units")
        if start is not None and end is not None and end < start:
            self.add_error("to_units", _("The last unit comes after the first."))
        return data


class BaseTierBandFormSet(forms.BaseFormSet):
    def initial_form_count(self) -> int:
        # Every row may be emptied to drop its band: none is required once posted.
        return 0 if self.is_bound else super().initial_form_count()

    def bands(self) -> list[dict]:
        """The filled rows as the service takes them; blank rows are left out."""
        return [
            {
                "from_units": form.cleaned_data["from_units"],
                "to_units": form.cleaned_data.get("to_units"),
                "support_per_unit": form.cleaned_data["support_per_unit"],
            }
            for form in self.forms
            if form.has_changed() and form.cleaned_data
        ]


TierBandFormSet = forms.formset_factory(
    TierBandForm,
    formset=BaseTierBandFormSet,
    extra=BLANK_TIER_ROWS,
    max_num=30,
    validate_max=True,
)


class TierBandsForm(forms.Form):
    """Carries what the service says of the bands as a whole (overlaps, tiers in use)."""

    bands = forms.CharField(required=False, widget=forms.HiddenInput)
