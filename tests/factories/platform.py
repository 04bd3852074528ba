"""Dealer groups, branches and staff users."""

import factory
from django.contrib.auth.models import Group, User

from dealer_crm.models import Branch, DealerGroup, Staff

DEFAULT_PASSWORD = "Dealer-crm-2026"


class DealerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealerGroup

    name = factory.Sequence(lambda n: f"华通汽车集团{n}")


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    group = factory.SubFactory(DealerGroupFactory)
    code = factory.Sequence(lambda n: f"store-{n}")
    name = factory.Sequence(lambda n: f"广州天河{n}号4S店")
    city = "广州市"


class UserFactory(factory.django.DjangoModelFactory):
    """A staff user: `branches=[...]` links the Staff row, `roles=[Role...]` adds the groups."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "小明"
    last_name = "李"
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def branches(self, create, extracted, **kwargs):
        staff = Staff.objects.create(user=self)
        staff.branches.set(extracted or [])

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=role))
