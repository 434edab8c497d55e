"""帮办代办: agent authorisations and the check that an agent may act for an applicant."""
