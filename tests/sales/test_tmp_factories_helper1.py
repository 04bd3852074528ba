import pytest
from tests import factories as f
from sales.choices import OrderStatus, LeadStatus, LeadSource, TestDriveStatus, StockStatus

pytestmark = pytest.mark.django_db

@pytest.mark.parametrize("factory,kwargs", [
    (f.LeadFactory, {}), (f.LeadFactory, {"reached": "delivered"}), (f.LeadFactory, {"status": LeadStatus.LOST}),
    (f.LeadFactory, {"status": LeadStatus.CONTACTED}), (f.LeadFactory, {"source": LeadSource.REFERRAL}),
    (f.ActivityFactory, {}), (f.StockVehicleFactory, {}), (f.StockVehicleFactory, {"status": StockStatus.IN_TRANSIT}),
    (f.TestDriveFactory, {}), (f.TestDriveFactory, {"status": TestDriveStatus.DONE}), (f.TradeInFactory, {}),
    (f.QuoteFactory, {}), (f.QuoteApprovalFactory, {}), (f.OrderFactory, {}),
    *[(f.OrderFactory, {"status": s}) for s in OrderStatus.values],
    (f.PaymentFactory, {}), (f.DeliveryFactory, {}), (f.LeadDeadlineBreachFactory, {}), (f.ShowroomTrafficFactory, {}),
])
def test_factory_builds_a_valid_row(factory, kwargs):
    obj = factory(**kwargs)
    obj.full_clean()
    print(factory.__name__, kwargs, obj)
    if hasattr(obj, "branch") and getattr(obj, "lead", None):
        assert obj.branch == obj.lead.branch
