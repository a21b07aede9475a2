"""Coverage reports for agencies and academy staff: HTML, PDF and CSV, delivered by SMTP."""
