"""Practitioners: the phone book, your profile and your devices."""
