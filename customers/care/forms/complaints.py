"""Complaint (投诉) and inquiry (咨询, 建议) forms: a new complaint with its customer found by
the picker, its steps respond → resolve → confirm, and an inquiry logged and answered. Field
checks only; the services decide what is allowed. The lists' filters are in ..filters."""

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import Customer, Vehicle
from dealer_crm.filters import plain_id
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch, display_name
from parts.forms.ordering import customer_label, vehicle_choices, vehicle_label
from service.models import WorkOrder

from ..choices import ComplaintCategory, ComplaintChannel, InquiryKind, Severity
from ..services import COMPLAINT_DEADLINES

# How many of the customer's latest work orders the complaint form offers.
WORK_ORDER_CHOICES_LIMIT = 20


# --- A new complaint or inquiry ------------------------------------------------------------


def _hours_or_days(span) -> str:
    hours = int(span.total_seconds() // 3600)
    if hours <= 48:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = hours // 24
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def severity_deadlines() -> list[dict]:
    """Per severity, most severe first: the time to the first response and to resolution."""
    return [
        {
            "severity": severity.value,
            "label": severity.label,
            "respond": _hours_or_days(COMPLAINT_DEADLINES[severity][0]),
            "resolve": _hours_or_days(COMPLAINT_DEADLINES[severity][1]),
        }
        for severity in sorted(COMPLAINT_DEADLINES, key=lambda s: COMPLAINT_DEADLINES[s])
    ]


def work_order_label(order: WorkOrder) -> str:
    return f"{order.number} · {order.plate} · {order.get_service_type_display()}"


def work_order_choices(customer: Customer | None, branch_id: int) -> list[tuple]:
    """The customer's latest work orders in the branch, for the complaint's select."""
    orders = (
        WorkOrder.objects.filter(customer=customer, branch_id=branch_id).order_by("-id")[
            :WORK_ORDER_CHOICES_LIMIT
        ]
        if customer is not None
        else []
    )
    return [("", _("None"))] + [(order.pk, work_order_label(order)) for order in orders]


def branch_staff(branch_id: int):
    return (
        User.objects.filter(is_active=True, staff__branches=branch_id)
        .distinct()
        .order_by("first_name", "username")
    )


class CustomerPickerMixin:
    """The customer select offers only the current choice and what the search beside it
    finds (htmx), so a branch with twenty thousand owners does not send them all."""

    def offer_customers(self, branch: Branch) -> Customer | None:
        customer = self.fields["customer"]
        customer.queryset = Customer.objects.active().filter(branch=branch)
        customer.label_from_instance = customer_label
        customer.help_text = _("Search by name or phone digits, then choose.")
        chosen = plain_id(self["customer"].value())
        offered = customer.queryset.filter(pk=chosen).first() if chosen else None
        customer.widget.choices = [("", "---------")] + (
            [(offered.pk, customer_label(offered))] if offered else []
        )
        return offered


class ComplaintForm(CustomerPickerMixin, BootstrapFormMixin, forms.Form):
    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    vehicle = forms.ModelChoiceField(
        label=_("vehicle"), queryset=Vehicle.objects.none(), required=False
    )
    channel = forms.ChoiceField(label=_("channel"), choices=ComplaintChannel.choices)
    category = forms.ChoiceField(label=_("category"), choices=ComplaintCategory.choices)
    # Not required here: a complaint without its severity is the service's refusal.
    severity = forms.ChoiceField(
        label=_("severity"), choices=[("", "---------"), *Severity.choices], required=False
    )
    description = forms.CharField(
        label=_("what the customer says"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # Any person may be named; the service refuses one who does not work in the branch.
    owner = forms.ModelChoiceField(label=_("handled by"), queryset=User.objects.all())
    work_order = forms.ModelChoiceField(
        label=_("work order"), queryset=WorkOrder.objects.none(), required=False
    )

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.offer_customers(branch)
        vehicle = self.fields["vehicle"]
        vehicle.queryset = Vehicle.objects.filter(owner__branch=branch)
        vehicle.label_from_instance = vehicle_label
        vehicle.widget.choices = vehicle_choices(customer)
        work_order = self.fields["work_order"]
        work_order.queryset = WorkOrder.objects.filter(branch=branch)
        work_order.widget.choices = work_order_choices(customer, branch.pk)
        work_order.help_text = _("The visit the complaint is about, if any.")
        owner = self.fields["owner"]
        owner.widget.choices = [("", "---------")] + [
            (person.pk, display_name(person)) for person in branch_staff(branch.pk)
        ]
        owner.help_text = _("Who answers the customer and sees it through.")
        self.fields["channel"].initial = ComplaintChannel.PHONE
        self.fields["description"].widget.attrs["placeholder"] = _(
            "In the customer's words: what happened, when, what they expect."
        )

    def clean(self):
        data = super().clean()
        customer = data.get("customer")
        for name, owner_of in (("vehicle", "owner"), ("work_order", "customer")):
            record = data.get(name)
            if (
                record is not None
                and customer is not None
                and getattr(record, owner_of) != (customer)
            ):
                self.add_error(name, _("Choose one of this customer's."))
        return data

    def fact_fields(self) -> list:
        return [self[name] for name in ("channel", "category", "severity")]

    def service_data(self) -> dict:
        data = {key: value for key, value in self.cleaned_data.items() if key != "customer"}
        data["description"] = data["description"].strip()
        return data


class InquiryForm(CustomerPickerMixin, BootstrapFormMixin, forms.Form):
    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    kind = forms.ChoiceField(label=_("kind"), choices=InquiryKind.choices, widget=forms.RadioSelect)
    channel = forms.ChoiceField(label=_("channel"), choices=ComplaintChannel.choices)
    subject = forms.CharField(
        label=_("what the customer asked or proposed"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    answer = forms.CharField(
        label=_("answer"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("If it was answered at once; otherwise answer it later from the list."),
    )

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_customers(branch)
        self.fields["kind"].initial = InquiryKind.INQUIRY
        self.fields["channel"].initial = ComplaintChannel.PHONE

    def channel_fields(self) -> list:
        return [self["channel"]]

    def text_fields(self) -> list:
        return [self["subject"], self["answer"]]

    def service_data(self) -> dict:
        data = {key: value for key, value in self.cleaned_data.items() if key != "customer"}
        data["subject"] = data["subject"].strip()
        return data


# --- The steps of a complaint, and an inquiry's answer -------------------------------------


class RespondForm(BootstrapFormMixin, forms.Form):
    response = forms.CharField(
        label=_("what was told to the customer"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResolveForm(BootstrapFormMixin, forms.Form):
    resolution = forms.CharField(
        label=_("how it was resolved"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConfirmForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(
        label=_("the customer's words"),
        max_length=300,
        required=False,
        help_text=_("What the customer said when confirming the resolution."),
    )


STEP_FORMS = {"respond": RespondForm, "resolve": ResolveForm, "confirm": ConfirmForm}


class AnswerForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(
        label=_("answer"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
