"""strides' one HTTP application: calendar feeds, webhooks and event intake live here."""
