"""The operations people and SIGAP make, one function each, behind every door.

The UI, the JSON API, the one-click links and the CLI (and any later door: a chat, a status
page) translate their input into one call here and the result into their output. A function
takes what it needs (`Resources`: the database, the clock, the settings, the inventory; and the
acting person), never a request or an application, and raises `webhook.core.refusals.Refused`
for what cannot be done, which each door says in its own way.
"""
