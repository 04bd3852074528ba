"""Customer care: the follow-up calls (回访) and each attempt at them, complaints (投诉) with
their deadlines and escalation, inquiries and suggestions (咨询, 建议), the customer segments
recomputed nightly, and the reminders and every message sent to a customer."""

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from customers.choices import VehicleAgeSegment
from customers.models import customer_key, vehicle_key
from dealer_crm.models import NumberedDocument, branch_key, money_field, user_key
from dealer_crm.scoping import BranchScopedQuerySet

from .choices import (
    AbnormalReason,
    CallOutcome,
    CallReason,
    CallStatus,
    CampaignStatus,
    Channel,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    InquiryKind,
    Lifecycle,
    MessageStatus,
    OfferKind,
    OfferStatus,
    PointsKind,
    ReminderKind,
    Severity,
    TargetSegment,
)


class Complaint(NumberedDocument):
    """投诉: what the customer complains of, through which channel, how severe, who owns it,
    the response and resolution deadlines its severity sets, the resolution and the
    customer's confirmation; escalated one level each time a deadline passes."""

    number_prefix = "CP"
    detail_route = "care:complaint-detail"
    branch_lookup = "branch"

    branch = branch_key("complaints")
    customer = customer_key(related_name="complaints")
    vehicle = vehicle_key(null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=ComplaintChannel.choices)
    category = models.CharField(_("category"), max_length=20, choices=ComplaintCategory.choices)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    description = models.TextField(_("what the customer says"), max_length=2000)
    owner = user_key(_("handled by"))
    status = models.CharField(
        _("status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    received_at = models.DateTimeField(_("received at"))
    respond_by = models.DateTimeField(_("respond by"))
    resolve_by = models.DateTimeField(_("resolve by"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    response = models.TextField(_("first response"), max_length=1000, blank=True)
    resolution = models.TextField(_("resolution"), max_length=2000, blank=True)
    resolved_by = user_key(_("resolved by"), null=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed by the customer at"), null=True, blank=True)
    confirmation_note = models.CharField(_("customer's words"), max_length=300, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("last escalated at"), null=True, blank=True)
    work_order = models.ForeignKey(
        "service.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("work order"),
    )
    created_by = user_key(_("recorded by"))

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        permissions = [("resolve_complaint", _("Can resolve and close complaints"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(respond_by__lte=models.F("resolve_by")),
                name="complaint_respond_before_resolve",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED])
                | (Q(resolved_at__isnull=False) & ~Q(resolution="")),
                name="complaint_resolved_with_resolution",
            ),
            models.CheckConstraint(
                condition=~Q(status=ComplaintStatus.CLOSED) | Q(confirmed_at__isnull=False),
                name="complaint_closed_when_confirmed",
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status"], name="complaint_branch_status"),
            models.Index(fields=["customer", "-received_at"], name="complaint_customer_latest"),
        ]


class FollowUpCall(models.Model):
    """回访: a call due to a person on a day, made for one reason (a delivery on day 1, 7 or
    30, a service visit, a closed complaint), at most once per reason and record. Not
    reached, it is tried again the next day, up to three attempts."""

    branch_lookup = "branch"

    branch = branch_key("follow_up_calls")
    customer = customer_key(related_name="follow_up_calls")
    vehicle = vehicle_key(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=CallReason.choices)
    delivery = models.ForeignKey(
        "sales.Delivery",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_calls",
        verbose_name=_("delivery"),
    )
    work_order = models.ForeignKey(
        "service.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_calls",
        verbose_name=_("work order"),
    )
    complaint = models.ForeignKey(
        Complaint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_calls",
        verbose_name=_("complaint"),
    )
    due_on = models.DateField(_("due on"), db_index=True)
    assigned_to = user_key(_("assigned to"))
    status = models.CharField(
        _("status"), max_length=20, choices=CallStatus.choices, default=CallStatus.DUE
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    note = models.TextField(_("what the customer said"), max_length=1000, blank=True)
    raised_complaint = models.OneToOneField(
        Complaint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="raised_by_call",
        verbose_name=_("complaint raised"),
    )
    completed_by = user_key(_("called by"), null=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        ordering = ["due_on", "id"]
        constraints = [
            # exactly one source record, matching the reason
            models.CheckConstraint(
                condition=(
                    Q(
                        reason__startswith="delivery_",
                        delivery__isnull=False,
                        work_order=None,
                        complaint=None,
                    )
                    | Q(
                        reason=CallReason.SERVICE,
                        work_order__isnull=False,
                        delivery=None,
                        complaint=None,
                    )
                    | Q(
                        reason=CallReason.COMPLAINT,
                        complaint__isnull=False,
                        delivery=None,
                        work_order=None,
                    )
                ),
                name="follow_up_call_of_its_record",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["delivery", "reason"], name="one_call_per_delivery_and_day"
            ),
            models.UniqueConstraint(fields=["work_order"], name="one_call_per_work_order"),
            models.UniqueConstraint(fields=["complaint"], name="one_call_per_closed_complaint"),
            models.CheckConstraint(
                condition=~Q(status=CallStatus.DONE)
                | Q(score__isnull=False, completed_at__isnull=False),
                name="follow_up_call_done_with_score",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="follow_up_call_score_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "due_on"], name="call_queue"),
            models.Index(fields=["assigned_to", "status", "due_on"], name="call_queue_person"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_reason_display()} · {self.due_on}"


class CallAttempt(models.Model):
    """One try at a follow-up call: when, by whom, and what came of it."""

    branch_lookup = "call__branch"

    call = models.ForeignKey(
        FollowUpCall, on_delete=models.CASCADE, related_name="tries", verbose_name=_("call")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = user_key(_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.call} · {self.get_outcome_display()}"


class Inquiry(models.Model):
    """咨询 or 建议: what a customer asked or proposed, the answer, who answered and when."""

    branch_lookup = "branch"

    branch = branch_key("inquiries")
    customer = customer_key(related_name="inquiries")
    kind = models.CharField(_("kind"), max_length=20, choices=InquiryKind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=ComplaintChannel.choices)
    subject = models.TextField(_("what the customer asked or proposed"), max_length=1000)
    received_at = models.DateTimeField(_("received at"))
    recorded_by = user_key(_("recorded by"))
    answer = models.TextField(_("answer"), max_length=2000, blank=True)
    answered_by = user_key(_("answered by"), null=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("inquiry or suggestion")
        verbose_name_plural = _("inquiries and suggestions")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True)
                | (Q(answered_by__isnull=False) & ~Q(answer="")),
                name="inquiry_answered_with_answer",
            )
        ]
        indexes = [models.Index(fields=["branch", "-received_at"], name="inquiry_branch_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer}"


class CustomerSegment(models.Model):
    """A customer's segments as of the last nightly run: lifecycle, key customer (top 20% of
    the branch by 12 months' revenue), the abnormal reasons to reach out, and the age
    segment of their newest vehicle."""

    branch_lookup = "customer__branch"

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="segment",
        verbose_name=_("customer"),
    )
    lifecycle = models.CharField(_("lifecycle"), max_length=20, choices=Lifecycle.choices)
    revenue_12m = money_field(_("revenue, last 12 months (CNY)"))
    key_customer = models.BooleanField(_("key customer (重点客户)"), default=False)
    abnormal = ArrayField(
        models.CharField(max_length=20, choices=AbnormalReason.choices),
        default=list,
        blank=True,
        verbose_name=_("abnormal reasons"),
    )
    vehicle_age = models.CharField(
        _("vehicle age"), max_length=20, choices=VehicleAgeSegment.choices, blank=True
    )
    last_visit_on = models.DateField(_("last service visit"), null=True, blank=True)
    computed_on = models.DateField(_("computed on"))

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer segment")
        verbose_name_plural = _("customer segments")
        indexes = [
            models.Index(fields=["key_customer"], name="segment_key_customer"),
            models.Index(fields=["lifecycle"], name="segment_lifecycle"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_lifecycle_display()}"


class Reminder(models.Model):
    """A reminder due to a customer on a day — maintenance, insurance, inspection, warranty,
    birthday, holiday — made once per customer, vehicle, kind and day by the nightly job and
    sent on its day through the customer's channel."""

    branch_lookup = "customer__branch"

    customer = customer_key(related_name="reminders")
    vehicle = vehicle_key(null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    due_on = models.DateField(_("send on"))
    about_on = models.DateField(
        _("date it is about"), help_text=_("The expiry, due date, birthday or holiday.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "vehicle", "kind", "about_on"],
                name="one_reminder_per_occasion",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["due_on"], name="reminder_due")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_kind_display()} · {self.about_on}"


class Message(models.Model):
    """Every message sent (or withheld) to a customer: the channel, where to, the text in
    the language it went out in, and what happened."""

    branch_lookup = "customer__branch"

    customer = customer_key(related_name="messages")
    reminder = models.OneToOneField(
        Reminder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="message",
        verbose_name=_("reminder"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    address = models.CharField(_("sent to"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=2000)
    status = models.CharField(_("status"), max_length=20, choices=MessageStatus.choices)
    error = models.CharField(_("error"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["customer", "-sent_at"], name="message_customer_latest")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.get_channel_display()} · {self.get_status_display()}"


# --- Satisfaction index (层次分析法) ----------------------------------------------------------


class SatisfactionModel(models.Model):
    """满意度模型: a branch's criteria and sub-criteria of customer satisfaction, weighted by
    the analytic hierarchy process from pairwise comparison matrices. A branch has at most one
    active model, the one its survey answers are given against; once activated, its criteria
    are fixed (the answers point at them), though its matrices may still be re-entered."""

    branch_lookup = "branch"

    branch = branch_key("satisfaction_models")
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("first activated at"), null=True, blank=True)
    created_by = user_key(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("satisfaction model")
        verbose_name_plural = _("satisfaction models")
        ordering = ["branch", "-active", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(active=True),
                name="one_active_satisfaction_model_per_branch",
            ),
            models.UniqueConstraint(
                fields=["branch", "name"], name="satisfaction_model_name_per_branch"
            ),
            models.CheckConstraint(
                condition=Q(active=False) | Q(activated_at__isnull=False),
                name="satisfaction_model_active_when_activated",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    """A criterion of a satisfaction model, or a sub-criterion of one (`parent`). Siblings
    keep the order they were added in: the rows and columns of their comparison matrix."""

    branch_lookup = "model__branch"

    model = models.ForeignKey(
        SatisfactionModel,
        on_delete=models.CASCADE,
        related_name="criteria",
        verbose_name=_("satisfaction model"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("criterion it details"),
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"))

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["model", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "parent", "name"],
                name="criterion_name_among_siblings",
                nulls_distinct=False,
            ),
            models.UniqueConstraint(
                fields=["model", "parent", "position"],
                name="criterion_position_among_siblings",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ComparisonMatrix(models.Model):
    """The pairwise comparisons (Saaty's 1/9–9) of one set of siblings: the top-level
    criteria (`parent` empty) or the sub-criteria of one criterion, rows and columns in the
    siblings' order; with the weights of the principal eigenvector, λmax, CI and CR computed
    from them. Only a matrix consistent enough (CR < 0.1) is kept."""

    branch_lookup = "model__branch"

    model = models.ForeignKey(
        SatisfactionModel,
        on_delete=models.CASCADE,
        related_name="matrices",
        verbose_name=_("satisfaction model"),
    )
    parent = models.ForeignKey(
        Criterion,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("criterion compared under"),
    )
    values = models.JSONField(_("pairwise comparisons"))
    weights = models.JSONField(_("weights"))
    lambda_max = models.DecimalField(_("λmax"), max_digits=10, decimal_places=6)
    ci = models.DecimalField(_("consistency index (CI)"), max_digits=10, decimal_places=6)
    cr = models.DecimalField(_("consistency ratio (CR)"), max_digits=10, decimal_places=6)
    entered_by = user_key(_("entered by"))
    entered_at = models.DateTimeField(_("entered at"))

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("comparison matrix")
        verbose_name_plural = _("comparison matrices")
        constraints = [
            models.UniqueConstraint(
                fields=["model", "parent"], name="one_matrix_per_sibling_set", nulls_distinct=False
            ),
            models.CheckConstraint(condition=Q(cr__lt="0.1"), name="comparison_matrix_consistent"),
        ]

    def __str__(self) -> str:
        return f"{self.model} · {self.parent or '—'}"


class SurveyAnswer(models.Model):
    """A customer's score (1–5) of one leaf criterion of the branch's satisfaction model,
    asked on a follow-up call, with the advisor (or consultant) who served them. The branch's
    satisfaction index of a period is computed from these."""

    branch_lookup = "branch"

    branch = branch_key("survey_answers")
    customer = customer_key(related_name="survey_answers")
    call = models.ForeignKey(
        FollowUpCall,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_answers",
        verbose_name=_("follow-up call"),
    )
    work_order = models.ForeignKey(
        "service.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work order"),
    )
    advisor = user_key(_("served by"), null=True)
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="answers", verbose_name=_("criterion")
    )
    score = models.PositiveSmallIntegerField(
        _("score (1–5)"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    answered_on = models.DateField(_("answered on"))
    recorded_by = user_key(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-answered_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "criterion"],
                condition=Q(call__isnull=False),
                name="one_answer_per_call_and_criterion",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="survey_answer_score_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "answered_on"], name="survey_answer_branch_day"),
            models.Index(fields=["advisor", "answered_on"], name="survey_answer_advisor_day"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.criterion} · {self.score}/5"


# --- Campaigns (关怀活动) ----------------------------------------------------------------------


class Campaign(NumberedDocument):
    """关怀活动: an offer package for the customers of one segment, valid for a period, with the
    share of offers the branch expects redeemed. Launching it gives an offer to every customer
    of the segment who agreed to marketing and contacts each of them."""

    number_prefix = "CA"
    detail_route = "care:campaign-detail"
    branch_lookup = "branch"

    branch = branch_key("campaigns")
    name = models.CharField(_("name"), max_length=100)
    segment = models.CharField(_("target segment"), max_length=30, choices=TargetSegment.choices)
    offer = models.CharField(_("offer package"), max_length=30, choices=OfferKind.choices)
    message = models.TextField(
        _("message to the customer"),
        max_length=500,
        help_text=_("Sent with the offer's code and its last day."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("offers valid until"))
    target_rate = models.DecimalField(
        _("target redemption rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True)
    created_by = user_key(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="campaign_starts_before_end"
            ),
            models.CheckConstraint(
                condition=Q(target_rate__gte=0) & Q(target_rate__lte=100),
                name="campaign_target_is_a_share",
            ),
        ]
        indexes = [models.Index(fields=["branch", "-starts_on"], name="campaign_branch_latest")]


class Offer(models.Model):
    """One customer's offer of a campaign, known by its code: contacted through their channel,
    then redeemed once, at a settlement, after a manager signed it off."""

    branch_lookup = "campaign__branch"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="offers", verbose_name=_("campaign")
    )
    customer = customer_key(related_name="offers")
    code = models.CharField(_("code"), max_length=12, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OfferStatus.choices, default=OfferStatus.ASSIGNED
    )
    message = models.OneToOneField(
        Message,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offer",
        verbose_name=_("message"),
    )
    work_order = models.ForeignKey(
        "service.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name=_("work order"),
    )
    requested_by = user_key(_("redemption asked by"), null=True)
    requested_at = models.DateTimeField(_("redemption asked at"), null=True, blank=True)
    signed_off_by = user_key(_("signed off by"), null=True)
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    settlement = models.OneToOneField(
        "service.Settlement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offer",
        verbose_name=_("settlement"),
    )
    value = money_field(_("taken off the bill (CNY)"), null=True, blank=True)
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["campaign", "id"]
        permissions = [
            ("request_redemption", _("Can ask to redeem an offer at a settlement")),
            ("sign_off_redemption", _("Can sign off an offer's redemption")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="one_offer_per_customer"),
            models.CheckConstraint(
                condition=Q(status=OfferStatus.ASSIGNED) | Q(work_order__isnull=False),
                name="offer_redemption_names_work_order",
            ),
            models.CheckConstraint(
                condition=~Q(status=OfferStatus.REDEEMED)
                | (Q(settlement__isnull=False) & Q(signed_off_by__isnull=False)),
                name="offer_redeemed_at_signed_off_settlement",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status"], name="offer_customer_status"),
            models.Index(fields=["work_order"], name="offer_work_order"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.customer}"


# --- Loyalty points ---------------------------------------------------------------------------


class LoyaltyRule(models.Model):
    """A branch's loyalty rules: the points a customer earns per 100 CNY of a vehicle bought
    and of a service visit paid, and for an owner whose referral bought a vehicle."""

    branch_lookup = "branch"

    branch = models.OneToOneField(
        "dealer_crm.Branch",
        on_delete=models.CASCADE,
        related_name="loyalty_rule",
        verbose_name=_("branch"),
    )
    purchase_points = models.PositiveIntegerField(_("points per 100 CNY of a purchase"), default=1)
    service_points = models.PositiveIntegerField(
        _("points per 100 CNY of a service visit"), default=10
    )
    referral_points = models.PositiveIntegerField(_("points for a referral"), default=2000)
    updated_by = user_key(_("updated by"), null=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BranchScopedQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("loyalty rule")
        verbose_name_plural = _("loyalty rules")

    def __str__(self) -> str:
        return str(self.branch)


class LoyaltyAccount(models.Model):
    """积分账户: a customer's points balance, the sum of their statement."""

    branch_lookup = "customer__branch"

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="loyalty_account",
        verbose_name=_("customer"),
    )
    balance = models.IntegerField(pgettext_lazy("loyalty", "points"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("loyalty account")
        verbose_name_plural = _("loyalty accounts")
        ordering = ["-balance", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.balance}"


class PointsEntry(models.Model):
    """A line of a customer's points statement: points earned for a delivery, a settlement
    or a referral (each source earns once), or points redeemed."""

    branch_lookup = "account__customer__branch"

    account = models.ForeignKey(
        LoyaltyAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PointsKind.choices)
    points = models.IntegerField(pgettext_lazy("loyalty", "points"))
    balance = models.IntegerField(_("balance after"))
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_entries",
        verbose_name=_("order"),
    )
    settlement = models.ForeignKey(
        "service.Settlement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="points_entries",
        verbose_name=_("settlement"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = user_key(_("recorded by"), null=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = BranchScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="points_entry_not_zero"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_entry_balance"),
            models.CheckConstraint(
                condition=Q(kind=PointsKind.REDEMPTION, points__lt=0)
                | (~Q(kind=PointsKind.REDEMPTION) & Q(points__gt=0)),
                name="points_entry_sign_by_kind",
            ),
            # Each delivery, settlement and referral earns once, however often the job runs.
            models.UniqueConstraint(
                fields=["kind", "order"],
                condition=Q(order__isnull=False),
                name="points_once_per_order",
            ),
            models.UniqueConstraint(
                fields=["settlement"],
                condition=Q(settlement__isnull=False),
                name="points_once_per_settlement",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="points_account_latest")]

    def __str__(self) -> str:
        return f"{self.account.customer} · {self.get_kind_display()} · {self.points:+d}"
