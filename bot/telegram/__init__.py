"""The Telegram adapter: PTB handlers, rendering, the update pump, the webhook and the wiring."""
