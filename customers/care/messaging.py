"""The notification layer: one interface, `deliver(channel, address, subject, body)`, over
the channels a customer is reached by. E-mail goes out through Django's mail settings
(`EMAIL_URL`: SMTP for real); SMS and WeChat go to the backend named in `SMS_BACKEND` /
`WECHAT_BACKEND` — by default one that only writes the message to the log, until a
provider is configured."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from .choices import Channel

logger = logging.getLogger("dealer_crm.messages")


class ChannelError(Exception):
    """The channel could not take the message; the reason is logged on the message."""


class LoggingBackend:
    """Writes the message to the log instead of sending it (no provider configured)."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, address: str, subject: str, body: str) -> None:
        logger.info("%s to %s: %s %s", self.channel, address, subject, body)


class EmailBackend:
    def send(self, address: str, subject: str, body: str) -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        except Exception as error:  # the SMTP server's refusal, the connection's failure
            raise ChannelError(str(error)[:300]) from error


def backend(channel: str):
    """The backend of a channel: e-mail through Django's mail, the others as configured."""
    if channel == Channel.EMAIL:
        return EmailBackend()
    path = {Channel.SMS: settings.SMS_BACKEND, Channel.WECHAT: settings.WECHAT_BACKEND}[channel]
    if not path:
        return LoggingBackend(channel)
    return import_string(path)()


def deliver(channel: str, address: str, subject: str, body: str) -> None:
    """Send one message; raises ChannelError when the channel refuses it."""
    backend(channel).send(address, subject, body)
