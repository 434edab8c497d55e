"""排队叫号: halls, windows, tickets, routing policies, display and kiosk."""
