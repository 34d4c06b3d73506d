"""Web pages of the reminders domain: notifications and the calendar feed."""
