"""The domain model and the rule language: what every other layer is written in. Pure.

People, goals and milestones (`model`); what providers and attendees send back about messages
(`responses`); rule files as admins write them (`schema`, `parse`, `check`), their conditions
(`conditions`), texts (`templates`) and durations; located YAML (`yamltext`); and the root of
strides' errors (`errors`). Nothing here reads a clock, a file or a database.
"""
