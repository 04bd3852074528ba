"""Forms of the archive's oversight pages: receiving a submission batch. Every rule is the
service's; this only parses what was picked. (The points and figures pages choose their
period with the figures form every figures page shares: dealer_crm.forms.FiguresForm.)"""

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from dealer_crm.forms import BootstrapFormMixin
from dealer_crm.models import display_name

from ..models import SubmissionBatch
from ..selectors import branch_staff


class BatchReceiveForm(BootstrapFormMixin, forms.Form):
    """Who brings the batch to the archive: someone working in the batch's branch."""

    handed_over_by = forms.ModelChoiceField(
        label=_("handed over by"),
        queryset=User.objects.none(),
        help_text=_("The colleague who brings the papers to the archive."),
    )

    def __init__(self, *args, batch: SubmissionBatch, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["handed_over_by"]
        field.queryset = branch_staff(batch.branch_id)
        field.label_from_instance = display_name
