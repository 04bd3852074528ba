from .customers import (
    ContactFactory,
    CustomerFactory,
    OdometerReadingFactory,
    VehicleFactory,
    chinese_name,
    mobile,
    plate,
    vin,
)
from .platform import DEFAULT_PASSWORD, BranchFactory, DealerGroupFactory, UserFactory

__all__ = [
    "DEFAULT_PASSWORD",
    "BranchFactory",
    "ContactFactory",
    "CustomerFactory",
    "DealerGroupFactory",
    "OdometerReadingFactory",
    "UserFactory",
    "VehicleFactory",
    "chinese_name",
    "mobile",
    "plate",
    "vin",
]
