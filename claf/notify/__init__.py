"""Notifications through a durable outbox table of the shared database (``claf.db``).

    claf.notify.slack   queue(session, key, channel, message), Notifier(sessions).deliver(), message builders

Needs the ``factory`` extra (slack_sdk sends; SQLAlchemy keeps the outbox).
"""
