import django.core.validators
import django.db.models.deletion
from decimal import Decimal

from django.db import migrations, models


def first_line_of_the_deal(apps, schema_editor):
    FleetOrder = apps.get_model("fleet", "FleetOrder")
    DealLine = apps.get_model("fleet", "DealLine")
    for order in FleetOrder.objects.filter(line__isnull=True):
        order.line = DealLine.objects.filter(deal_id=order.deal_id).order_by("id").first()
        order.save(update_fields=["line"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_initial"),
        ("fleet", "0001_accounts_deals_tiers"),
    ]

    operations = [
        migrations.AddField(
            model_name="dealline",
            name="brand",
            field=models.CharField(default="", max_length=40, verbose_name="brand"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicaldealline",
            name="brand",
            field=models.CharField(default="", max_length=40, verbose_name="brand"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="fleetaccount",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.customer",
                verbose_name="customer record",
            ),
        ),
        migrations.AddField(
            model_name="fleetorder",
            name="line",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="fleet.dealline",
                verbose_name="model",
            ),
        ),
        migrations.RunPython(first_line_of_the_deal, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="fleetorder",
            name="line",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="fleet.dealline",
                verbose_name="model",
            ),
        ),
        migrations.AddField(
            model_name="fleetorder",
            name="unit_price",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                max_digits=12,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="price per vehicle (CNY)",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalfleetaccount",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="customers.customer",
                verbose_name="customer record",
            ),
        ),
        migrations.AddField(
            model_name="historicalfleetorder",
            name="line",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="fleet.dealline",
                verbose_name="model",
            ),
        ),
        migrations.AddField(
            model_name="historicalfleetorder",
            name="unit_price",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                max_digits=12,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="price per vehicle (CNY)",
            ),
            preserve_default=False,
        ),
    ]
