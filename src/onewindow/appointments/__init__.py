"""预约: slot templates, bookings with ID and phone, check-in into the live queue."""
