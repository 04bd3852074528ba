"""What the customer records tell the rest of the system.

`customer_merging` is sent inside `customers.services.customer_merge`'s transaction, with both
records locked, before the duplicate's rows move to the kept customer. An app whose records
belong to a customer one-to-one, or are unique per customer, folds them here (the merge moves
every plain foreign key itself); raising a DomainError refuses the merge:

    from customers.events import customer_merging

    @receiver(customer_merging)
    def fold_loyalty_account(sender, keep, duplicate, by, **kwargs):
        ...

Connect receivers in the consuming app's `AppConfig.ready()`.
"""

from django.dispatch import Signal

customer_merging = Signal()
