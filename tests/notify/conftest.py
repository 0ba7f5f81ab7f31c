"""Real servers for the notification tests (see ``mail_server.py`` and ``webhook_receiver.py``).

Fixtures, each started before the test and stopped after it:

- ``tls_files``: a self-signed certificate and key for localhost/127.0.0.1 (one per session);
- ``mail_server``: a plain SMTP server (``MailServer``);
- ``tls_mail_server``: an SMTP server that requires STARTTLS and AUTH as
  ``MAIL_USER``/``MAIL_PASSWORD``; ``tls_mail_server.url(user=..., password=...)``;
- ``webhook_receiver``: an HTTP endpoint that verifies signatures (``WebhookReceiver``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mail_server import MAIL_PASSWORD, MAIL_USER, MailServer, TlsFiles, make_self_signed
from webhook_receiver import WebhookReceiver


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture
def tls_mail_server(tls_files: TlsFiles) -> Iterator[MailServer]:
    with MailServer(tls=tls_files, users={MAIL_USER: MAIL_PASSWORD}) as server:
        yield server


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver
