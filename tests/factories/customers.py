"""Customers, contacts, vehicles and odometer readings, created as rows (not through the
services): `Customer.completeness` stays 0 until `services.customer_completeness_refresh`."""

from datetime import date

import factory

from customers.models import Contact, Customer, OdometerReading, Vehicle
from customers.vin import vin_check_digit

from .platform import BranchFactory

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = [
    "伟",
    "芳",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "艳",
    "勇",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
]


def chinese_name(n: int) -> str:
    """A real-looking full name, surname plus given name, different for the first 400 n."""
    return SURNAMES[n % len(SURNAMES)] + GIVEN_NAMES[n // len(SURNAMES) % len(GIVEN_NAMES)]


def mobile(n: int) -> str:
    """A valid mainland mobile number (139 prefix), unique per n."""
    return f"139{n % 10**8:08d}"


def vin(n: int, prefix: str = "LSVAB2BM", year_code: str = "M") -> str:
    """A SAIC Volkswagen VIN with serial n and the check digit the other 16 call for."""
    body = f"{prefix}0{year_code}N{n % 10**6:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def plate(n: int) -> str:
    """An ordinary Guangzhou plate, unique for n below 100,000."""
    return f"粤A{n % 10**5:05d}"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(chinese_name)
    gender = "male"
    mobile = factory.Sequence(mobile)
    branch = factory.SubFactory(BranchFactory)
    province = "广东省"
    city = "广州市"
    district = "天河区"
    street = factory.Sequence(lambda n: f"天河路{n + 1}号")
    postcode = "510620"
    category = "individual"
    evaluation = "b"


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    owner = factory.SubFactory(CustomerFactory)
    # Serials from 800000 up, so the small vin(n) a test spells out never collides.
    vin = factory.Sequence(lambda n: vin(800_000 + n))
    plate = factory.Sequence(plate)
    manufacturer = "SAIC Volkswagen"
    brand = "大众"
    series = "朗逸"
    model_code = "SVW7157"
    model_year = 2021
    colour = "白色"
    delivery_date = date(2021, 6, 1)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: chinese_name(n + 7))
    role = "采购主管"
    mobile = factory.Sequence(lambda n: f"137{n % 10**8:08d}")


class OdometerReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OdometerReading

    vehicle = factory.SubFactory(VehicleFactory)
    km = 12_000
    read_on = date(2024, 3, 1)
