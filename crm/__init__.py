"""Contacts, tickets, messages, notes, audit log and outbox, and the services that change them."""
