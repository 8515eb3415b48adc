"""One router per pattern of the demo application."""
