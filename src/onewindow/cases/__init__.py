"""办件: applications, intake, review, deadlines, results and delivery."""
