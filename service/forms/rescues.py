"""Roadside rescue (救援) forms: the call as logged, and the steps dispatch → arrive → finish.
Field checks only; the services decide what is allowed."""

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Vehicle
from dealer_crm.choices import Role
from dealer_crm.filters import plain_id
from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import Branch, display_name
from parts.forms.ordering import customer_label, vehicle_choices, vehicle_label

from ..choices import RescueOutcome, WorkOrderStatus
from ..models import WorkOrder

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# A rescue may end in a work order of the branch that has not been settled yet.
UNSETTLED = [
    WorkOrderStatus.OPEN,
    WorkOrderStatus.IN_PROGRESS,
    WorkOrderStatus.QUALITY_CHECK,
    WorkOrderStatus.READY,
]


def this_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


def moment_field(label) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, initial=this_minute, widget=DATETIME_INPUT)


class RescueForm(BootstrapFormMixin, forms.Form):
    """The call. The customer select offers only the current choice and what the search beside
    it finds (htmx), so a branch with twenty thousand owners does not send them all."""

    caller_name = forms.CharField(label=_("caller"), max_length=50)
    caller_phone = forms.CharField(label=_("caller's phone"), max_length=20)
    called_at = moment_field(_("called at"))
    location = forms.CharField(
        label=_("location"),
        max_length=200,
        help_text=_("Road, direction, nearest landmark or kilometre post."),
    )
    problem = forms.CharField(
        label=_("problem"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    customer = forms.ModelChoiceField(
        label=_("customer"), queryset=Customer.objects.none(), required=False
    )
    vehicle = forms.ModelChoiceField(
        label=_("vehicle"), queryset=Vehicle.objects.none(), required=False
    )

    def __init__(self, *args, branch: Branch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["caller_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        customer = self.fields["customer"]
        customer.queryset = Customer.objects.active().filter(branch=branch)
        customer.label_from_instance = customer_label
        customer.help_text = _("Optional: search by name or phone digits, then choose.")
        chosen = plain_id(self["customer"].value())
        offered = list(customer.queryset.filter(pk=chosen)) if chosen else []
        customer.widget.choices = [("", "---------")] + [
            (item.pk, customer_label(item)) for item in offered
        ]
        vehicle = self.fields["vehicle"]
        vehicle.queryset = Vehicle.objects.filter(owner__branch=branch)
        vehicle.label_from_instance = vehicle_label
        vehicle.empty_label = _("No vehicle")
        vehicle.widget.choices = vehicle_choices(offered[0] if offered else None)

    def call_fields(self) -> list:
        return [self[name] for name in ("caller_name", "caller_phone", "called_at")]

    def place_fields(self) -> list:
        return [self["location"], self["problem"]]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("caller_name", "caller_phone", "location", "problem"):
            data[name] = data[name].strip()
        return data


class RescueDispatchForm(BootstrapFormMixin, forms.Form):
    technician = forms.ModelChoiceField(label=_("technician sent"), queryset=User.objects.none())
    at = moment_field(_("dispatched at"))

    def __init__(self, *args, branch_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        technician = self.fields["technician"]
        technician.queryset = (
            User.objects.filter(
                is_active=True, staff__branches=branch_id, groups__name=Role.TECHNICIAN
            )
            .distinct()
            .order_by("first_name", "username")
        )
        technician.label_from_instance = display_name


class RescueArriveForm(BootstrapFormMixin, forms.Form):
    at = moment_field(_("arrived at"))

    def __init__(self, *args, branch_id: int, **kwargs):
        super().__init__(*args, **kwargs)


class RescueFinishForm(BootstrapFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=RescueOutcome.choices)
    work_order = forms.ModelChoiceField(
        label=_("work order"),
        queryset=WorkOrder.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("The branch's open work order the car came in on, if it was towed."),
    )
    note = forms.CharField(
        label=_("note"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, branch_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        work_order = self.fields["work_order"]
        work_order.queryset = WorkOrder.objects.filter(
            branch_id=branch_id, status__in=UNSETTLED
        ).order_by("-id")
        work_order.label_from_instance = lambda order: (
            f"{order.number} · {order.plate} · {order.get_service_type_display()}"
        )


STEP_FORMS = {
    "dispatch": RescueDispatchForm,
    "arrive": RescueArriveForm,
    "finish": RescueFinishForm,
}
