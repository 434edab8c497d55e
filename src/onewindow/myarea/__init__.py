"""“我的” (the my area): one page where a signed-in citizen follows everything that is theirs — tickets, bookings,
cases, ratings, complaints and 免申即享 offers — each a short list with its state and a link to its own page."""
